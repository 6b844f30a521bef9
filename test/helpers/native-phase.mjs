// One phase of a native save/load result (NativeSaveLoadResult's designs[] and reference.steps), as
// the addon returns it, for tests that summarize a run without a GPU: every field, `over` replacing some.
export const nativePhase = (design, over = {}) => ({
  design, strategy: '-', stepGpuMs: Array(20).fill(10.3), stepWallMs: Array(20).fill(10.4), hookUs: {}, transferLatencyMs: [],
  bytesMoved: 0, windowMs: 0, jobsOffered: 0, jobsDone: 0, jobsSkipped: 0, mismatches: 0, chunksChecked: 0, nonFinite: 0,
  requestsScheduled: 0, requestsNotReadySteps: 0, offeredBytesPerStep: 0, stepsRun: 20, connectorBusyUs: 0, connectorAliveUs: 0,
  allReduceMs: Array(20).fill(0.2), allReduceCalls: 20 * 64, allReduceMismatches: 0,
  store: null, trace: null, directions: [], ...over,
})
