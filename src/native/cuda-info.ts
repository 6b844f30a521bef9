// Typed view of native/addon/cuda_info.cc (the CUDA runtime, the driver, every GPU and its PCIe link).
import {call} from './load.js'

export interface PcieLink {
  currentGen: number | null
  maxGen: number | null
  currentWidth: number | null
  maxWidth: number | null
  source: string | null
}

export interface NativeGpu {
  index: number
  name: string
  uuid: string
  busId: string
  computeCapability: string
  smCount: number
  memoryBytes: number
  l2Bytes: number
  memoryBusWidthBits: number
  copyEngines: number
  canMapHostMemory: boolean
  pcie: PcieLink
}

export interface NativeCudaInfo {
  builtWithCuda: boolean
  gencodes: string[]
  runtimeVersion: number
  driverVersion: number
  driverRelease: string | null
  nvml: string
  errorName: string | null
  errorMessage: string | null
  gpus: NativeGpu[]
}

export const cudaInfo = (): NativeCudaInfo => call((a) => a.cudaInfo())
