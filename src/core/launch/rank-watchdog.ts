// A launcher's rank whose peer stopped or died waits in an all-reduce that never comes: no error,
// no step. The watchdog ends such a rank: no forward step for --rank-timeout seconds, and the run
// is asked to stop, its communicator aborted (NCCL's way out: the kernels waiting for the peer
// end, and the run returns and cleans up as after any failure), and it fails with a line naming
// the rank. A run still inside the GPU a few seconds later (the abort did not free its thread) has
// the process ended at once, since the exit handlers (CUDA's teardown among them) can wait on
// that thread too.
import {EXIT_RUN_FAILED, KvError} from '../errors.js'

export interface RankWatch {
  rank: number
  timeoutS: number
  /** forward steps the run has taken so far */
  steps: () => number
  /** asks the run to stop after its current step */
  stopRun: () => void
  /** aborts the run's communicator without waiting; its next all-reduce throws `why` */
  abortAllReduce: (why: string) => void
  /** ends the process now, without its exit handlers, `why` its last line */
  endProcess: (code: number, why: string) => void
  checkEveryMs?: number
  /** how long a stopped run may take to return before the process is ended */
  graceMs?: number
}

export function withRankWatchdog<T>(work: Promise<T>, w: RankWatch): Promise<T> {
  const every = w.checkEveryMs ?? 1000
  let settled = false
  work.then(
    () => (settled = true),
    () => (settled = true),
  )
  let last = Date.now()
  let seen = -1
  let timer: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const done = w.steps()
      if (done !== seen) (seen = done), (last = Date.now())
      if (Date.now() - last < 1000 * w.timeoutS) return
      clearInterval(timer)
      const why = `rank ${w.rank}: no forward step for ${w.timeoutS} s (--rank-timeout): a peer rank stopped or died, and its all-reduce never came`
      w.stopRun()
      w.abortAllReduce(why)
      // unref: a run that returns in time lets the process end on its own, its error written
      const grace = w.graceMs ?? 5000
      const ending = `rank ${w.rank}: the run was still inside the GPU ${grace / 1000} s after its communicator was aborted: process ended without cleanup`
      setTimeout(() => settled || w.endProcess(EXIT_RUN_FAILED, ending), grace).unref()
      reject(new KvError('RANK_STALLED', why, EXIT_RUN_FAILED))
    }, every)
  })
  return Promise.race([work, stalled]).finally(() => clearInterval(timer))
}
