// Typed view of native/addon/mem_info.cc (a GPU's free and total memory).
import {call} from './load.js'

export interface NativeMemInfo {
  freeBytes: number
  totalBytes: number
}

export const memInfo = (device: number): NativeMemInfo => call((a) => a.memInfo(device))
