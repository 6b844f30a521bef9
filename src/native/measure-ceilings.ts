// Typed view of native/addon/measure_ceilings.cc and measure_ceilings_together.cc (the link's copy ceilings).
import {callAsync} from './load.js'

export interface MeasurePlan {
  device: number
  bytes: number
  pageableBytes: number
  iterations: number
  pageableIterations: number
  warmup: number
  smallBytes: number
  smallIterations: number
  verify: boolean
}

export interface NativeCopyMeasurement {
  id: string
  label: string
  bytesPerSample: number
  timer: 'cuda-events' | 'host-wall'
  samplesMs: number[]
  verified: boolean
  mismatches: number
}

export const measureCeilings = async (plan: MeasurePlan): Promise<NativeCopyMeasurement[]> => (await callAsync((a) => a.measureCeilings(plan))).copies

/** One GPU's pinned copies (H2D, D2H, both at once), measured while every GPU named copies at once. */
export interface NativeDeviceCeilings {
  device: number
  copies: NativeCopyMeasurement[]
}

export const measureCeilingsTogether = async (plan: MeasurePlan, devices: number[]): Promise<NativeDeviceCeilings[]> =>
  (await callAsync((a) => a.measureCeilingsTogether({plan, devices}))).devices
