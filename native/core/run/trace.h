// --trace: a timeline of a design phase's first traced steps. The main thread's hook calls and
// its steps on the host clock; the forward's steps and layers on the compute stream and the
// connector's copies from timing events, placed on the host clock by one calibration (a
// timing event recorded on an idle stream and waited for: its GPU time lies between the
// host's time before the record and after the wait; the smallest such window of a few tries
// is the alignment error, stated; gpu_clock.h). Raw times out, the timeline is drawn in TypeScript.
// Plain C++: the run's result types hold it, and the CPU-only tests include them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kv {

struct TraceHookCall {
  int step = 0, hook = 0;  // hook: an index into DesignTrace::hookNames
  double startUs = 0, durUs = 0;
};

struct TraceStep {
  int step = 0;
  double wallStartUs = 0, wallEndUs = 0;  // the scheduler's step: its first hook to its sync
  double gpuStartUs = 0, gpuEndUs = 0;    // the forward on the compute stream
  std::vector<double> layerEndUs;          // each layer's end on the compute stream
  std::vector<double> kvWrittenUs;         // a save: each layer's KV write done (what its copies wait for)
};

struct TraceCopy {
  uint64_t job = 0;
  int step = 0, layer = 0;
  double bytes = 0;
  double enqueueUs = 0, enqueuedUs = 0;  // the connector thread around its enqueue
  double gpuStartUs = 0, gpuEndUs = 0;   // its stream passed its event wait; its copies done
};

// A store request handled during the traced steps (--backend other than host).
struct TraceStoreCall {
  int op = 0;  // 0 put, 1 get, 2 lookup
  int thread = 0;
  double bytes = 0;
  double queuedUs = 0, startUs = 0, doneUs = 0;
  bool ok = false;
};

struct DesignTrace {
  bool on = false;
  int firstStep = 0, steps = 0;
  double alignErrorUs = 0;
  std::vector<std::string> hookNames;
  std::vector<TraceHookCall> hooks;
  std::vector<TraceStep> stepsTraced;
  std::vector<TraceCopy> copies;
  long long copiesDropped = 0;
  std::vector<TraceStoreCall> storeCalls;
  bool copiesTraced = false;  // the async design's copies (the blocking design's are not timed)

  // The hooks are named by the sample vectors they fill (r.hookUs): bound once, before the steps.
  void bindHooks(std::map<std::string, std::vector<double>>& hookUs) {
    for (auto& [name, samples] : hookUs) {
      if (name == "blocked_per_step") continue;
      hookNames.push_back(name);
      samples_.push_back(&samples);
    }
  }
  void hook(const std::vector<double>* samples, int step, double startUs, double durUs) {
    const auto it = std::find(samples_.begin(), samples_.end(), samples);
    if (it != samples_.end()) hooks.push_back({step, static_cast<int>(it - samples_.begin()), startUs, durUs});
  }

 private:
  std::vector<const std::vector<double>*> samples_;
};

}  // namespace kv
