// One `kvbench save` / `kvbench load` / `kvbench mix` run, the boundary's view: the plan in, the results out.
// The run (save_load.cu) is an ordered list of phases: ceilings, each copy strategy alone,
// the store alone, the ceilings again, the strategy picked (auto), calibration, the forward
// with each connector design beside it and with the link reference beside it. It returns raw
// samples, and TypeScript computes every reported statistic; the medians that steer the run
// itself (the ceiling behind the offered load, the pick, the calibrated step) are native.
#pragma once
#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "../measure/host_noise.h"
#include "../measure/measure.h"
#include "../kv/kv.h"
#include "../connector/store_tier.h"
#include "../copy/strategy.h"
#include "../forward/all_reduce_plan.h"
#include "host_placement.h"
#include "trace.h"
#include "worker_group.h"

namespace kv {

enum class Design : int { Off = 0, Async = 1, Blocking = 2 };
inline const char* designName(Design d) {
  switch (d) {
    case Design::Off: return "off";
    case Design::Async: return "async";
    case Design::Blocking: return "blocking";
  }
  return "?";
}
inline constexpr Design kDesigns[] = {Design::Off, Design::Async, Design::Blocking};
enum class Fault : int { None = 0, CorruptHostWord = 1, DropEventWait = 2, CorruptStoreRecord = 3, AllReduceUnordered = 4, GpuWorkerFails = 5 };
inline const char* faultName(Fault f) {
  switch (f) {
    case Fault::None: return "none";
    case Fault::CorruptHostWord: return "corrupt-host";
    case Fault::DropEventWait: return "drop-event-wait";
    case Fault::CorruptStoreRecord: return "corrupt-store";
    case Fault::AllReduceUnordered: return "allreduce-unordered";
    case Fault::GpuWorkerFails: return "gpu-worker-fails";
  }
  return "?";
}
inline constexpr Fault kFaults[] = {Fault::None, Fault::CorruptHostWord, Fault::DropEventWait, Fault::CorruptStoreRecord, Fault::AllReduceUnordered, Fault::GpuWorkerFails};

// The staged ring in HBM, in an L2 persisting window, or in L2 when the ring fits the GPU's set-aside.
enum class StagingL2 { Normal = 0, Persist = 1, Auto = 2 };

struct SaveLoadPlan {
  int device = 0;
  bool load = false;                  // false: save run, true: load run
  bool mix = false;                   // both directions each step (load false): saves in one half of the transfer set, loads in the other
  std::vector<Strategy> strategies;   // transfer phase, and async/blocking designs
  bool pickBest = false;              // the designs beside the forward run only the fastest verified strategy (auto)
  std::vector<Design> designs;        // beside the forward (Off is the baseline)
  KvGeometry geometry;                // gpuBlocks = contextBlocks + transferBlocks
  ForwardShape shape;
  AllReducePlan allReduce;            // the forward's tensor-parallel all-reduce (NCCL), two a layer
  int transferBlocks = 0;             // GPU blocks [context, context + transfer) hold what is saved / loaded
  int blocksPerJob = 0;               // blocks of one layer per save job; a load request is this many blocks x all layers
  int steps = 0, warmupSteps = 0;
  double offeredFactor = 1.15;        // the designs are offered this x ceiling x baseline step time
  int referenceSteps = 0;             // the link reference's measured steps (0: not run)
  size_t stagingBytes = 0;
  int stagingSlots = 0;               // staged: the ring's slots and the bytes of each (src/core/plan.ts decides them)
  size_t stagingSlotBytes = 0;
  int copyCtas = 0, mappedCtas = 0;
  bool streamingCopies = false;     // copy kernels bypass L2 retention (evict-first)
  StagingL2 stagingL2 = StagingL2::Normal;  // staged: where the staging ring lives (Auto: L2 where the GPU's set-aside holds it)
  int batchSharePct = 0;            // staged: share of each part's blocks moved as batch copies beside the ring
  MeasurePlan ceiling;                // the link's ceilings, read before and after the strategies (src/core/ceilings.ts)
  bool verify = true;
  Fault fault = Fault::None;
  double prefixHitRate = 1.0;
  const std::atomic<bool>* cancel = nullptr;
  // For a progress bar: the forward steps beside the connector run so far, of how many (set when
  // the designs' phase starts; 0 until then). The addon owns them; null: nobody watches.
  std::atomic<long long>* stepsDone = nullptr;
  std::atomic<long long>* stepsTotal = nullptr;
  int traceSteps = 0;                 // --trace: the first measured steps of each design timed for a timeline (0: none)
  bool useStore = false;              // --backend other than host: the pool's extents are also store records
  StoreTierConfig store;
  // --gpus: the group this GPU's run belongs to and its place in it (runSaveLoadTogether sets them).
  WorkerGroup* group = nullptr;
  int worker = 0;
  // Whether the run is to stop: cancelled (Ctrl-C, a launcher rank's watchdog) or its group stopping.
  bool stopping() const { return (cancel && cancel->load()) || (group && group->stopping()); }
};

// The store alone, once per run: every pool extent put, the pool poisoned, every record read back.
struct StoreAloneResult {
  bool ran = false;
  double bytes = 0, putMs = 0, getMs = 0;
  long long records = 0, putFailed = 0, getFailed = 0, mismatches = 0, chunksChecked = 0;
  std::string firstError;
};

// What the store did during one design beside the forward (save: puts behind each save; load: gets before each load).
struct DesignStore {
  bool used = false;
  StoreCounters counters;
  std::vector<double> queueDepth;       // requests queued or running, sampled once per measured step
  long long lookupsRefused = 0;         // non-blocking lookups the full queue refused (request not served)
  long long requestsFailed = 0;         // loads whose record came back missing, corrupt or not at all
  long long recordsChecked = 0, recordsUnreadable = 0, mismatches = 0;  // save: records read back after the run
  std::string verifyError;              // set when the read-back could not finish (store gone)
};

struct StrategyAloneResult {
  std::string strategy;
  double bytes = 0;
  double saveMs = 0, loadMs = 0;            // CUDA events, first copy to last
  // The pass cut into kTransferSamples groups of jobs, each timed by CUDA events: a median
  // of these is what compares with the ceiling (itself a median), a slow patch of the host
  // or link does not decide the figure. sampleBytes[i] is group i's size in both directions.
  std::vector<double> saveSampleMs, loadSampleMs, sampleBytes;
  double saveEnqueueMs = 0, loadEnqueueMs = 0;  // host time spent enqueueing
  long long saveMismatches = 0, loadMismatches = 0;
  long long chunksChecked = 0;
};

struct DesignResult {
  std::string design, strategy;
  std::vector<double> stepGpuMs, stepWallMs;
  std::map<std::string, std::vector<double>> hookUs;  // host time blocked per hook call
  std::vector<double> transferLatencyMs;              // enqueue -> done, per job (load: per request)
  double bytesMoved = 0, windowMs = 0;
  long long jobsOffered = 0, jobsDone = 0, jobsSkipped = 0;
  long long mismatches = 0, chunksChecked = 0, nonFinite = 0;
  long long requestsScheduled = 0, requestsNotReadySteps = 0;
  double offeredBytesPerStep = 0;
  int stepsRun = 0;
  double measuredFromUs = -1, measuredToUs = -1;  // nowUs at the first measured step's start, the last one's end
  // The async connector's thread over its life (warm-up included): time doing work, and alive.
  double connectorBusyUs = 0, connectorAliveUs = 0;
  // With the all-reduce: each measured step's all-reduce GPU ms, the calls of the phase, and the
  // probe sums that came out wrong (an all-reduce that did not wait for the compute stream).
  std::vector<double> allReduceMs;
  long long allReduceCalls = 0, allReduceMismatches = 0;
  DesignStore store;
  DesignTrace trace;  // --trace
  // A mixed run's design: its save side, then its load side (this result holds both together:
  // their bytes and jobs added, the steps they shared, the transfer window around both).
  std::vector<DesignResult> directions;
};

// The forward with a plain contiguous copy stream beside it (link_reference.h) in place of a
// connector: the most a connector can move here while the forward runs, and the least it costs.
struct LinkReferenceResult {
  bool ran = false;
  DesignResult steps;  // a connector-off phase: its step times
  double bytes = 0;        // copied during its measured steps
  double saveBytes = 0, loadBytes = 0;  // of which each direction (a mixed run copies both ways at once)
  size_t chunkBytes = 0;
};

struct SaveLoadResult {
  // The strategy each direction's table marks (pick.h; empty: none verified); with --strategy
  // auto, the run's direction's is the one its designs ran with.
  std::string bestSave, bestLoad;
  double ceilingH2dGBps = 0, ceilingD2hGBps = 0;
  double ceilingBothGBps = 0;  // both directions at once, the two added
  std::string gemmEngine;
  std::string allReduceLibrary;  // with the all-reduce: NCCL's library and version
  double flopsPerStep = 0, hbmBytesPerStep = 0;
  std::vector<StrategyAloneResult> strategies;
  std::vector<DesignResult> designs;
  bool cancelled = false;
  std::vector<std::string> notes;
  std::string store, storeNote;  // set with --backend other than host
  bool storeDirect = false;
  StoreAloneResult storeAlone;
  HostNoise hostNoise;  // probed on a thread of its own while the forward ran alone
  LinkReferenceResult reference;
  bool stagingInL2 = false;  // the staged ring ran in an L2 persisting window (Persist, or Auto where it fit)
};

SaveLoadResult runSaveLoad(const SaveLoadPlan& plan);

// --gpus: one GPU's worker in a run of several.
struct WorkerOutcome {
  int device = 0;
  bool ended = false;       // its run ended (complete or cancelled); false: `error` says why not
  SaveLoadResult result;    // when ended
  std::string code, error;  // the worker's failure
  bool stuck = false;       // left waiting in an all-reduce for a failed worker until its communicator was aborted
  PlacementApplied placement;  // its thread's CPUs and memory node, read back
};

// The same run on every GPU of `devices` at once, a worker thread each, each phase started on all
// of them together; with the all-reduce, one communicator across them. A worker that fails stops
// the others at their next phase or step (`plan.fault` GpuWorkerFails: the last one fails on
// purpose as the designs start). `placements` (one a GPU, or empty): where each worker's thread
// runs and allocates, set before it makes anything.
std::vector<WorkerOutcome> runSaveLoadTogether(const SaveLoadPlan& plan, const std::vector<int>& devices, const std::vector<HostPlacement>& placements);

}  // namespace kv
