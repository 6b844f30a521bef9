// Typed view of native/addon/run_stream_probes.cc (audit-streams' native probes).
import {callAsync} from './load.js'

export interface NativeProbe {
  id: string
  outcome: 'pass' | 'leak' | 'hazard' | 'skip' | 'error'
  evidence: string
}

export const runStreamProbes = (device: number): Promise<NativeProbe[]> => callAsync((a) => a.runStreamProbes(device))
