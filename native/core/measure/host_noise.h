// Host noise: how often a thread that only computes loses its CPU, and for how long.
// The async design's per-step blocked time is microseconds of work spread over ~35 hook
// calls; a VM or kernel that takes the CPU away for 20 us anywhere in them shows up in the
// p99 whatever the connector does. Measured beside the forward-only baseline, this says how
// often this host does that, to read a run's p99 against. Plain C++: no CUDA.
#pragma once
#include <atomic>
#include <thread>

namespace kv {

struct HostNoise {
  double seconds = 0;        // probed
  long long reps = 0;        // repetitions of about 1 us of work
  double repUs = 0;          // what one repetition takes undisturbed (calibrated)
  long long over10us = 0, over20us = 0, over50us = 0;  // repetitions that took longer
  // Repetitions that took over twice the undisturbed time: the thread ran at under half
  // speed (a busy sibling hyperthread, a shared physical core) without losing its CPU.
  long long slowReps = 0;
  double maxUs = 0;
  void add(const HostNoise& o);
};

// Repeats about 1 us of dependent integer work on the calling thread until `stop` is set,
// timing every repetition with the hooks' clock (nowUs).
HostNoise probeHostNoise(const std::atomic<bool>& stop);

// probeHostNoise on a thread of its own, from construction to finish().
class HostNoiseProbe {
 public:
  HostNoiseProbe();
  ~HostNoiseProbe();  // stops and joins; never throws
  HostNoise finish();
  HostNoiseProbe(const HostNoiseProbe&) = delete;
  HostNoiseProbe& operator=(const HostNoiseProbe&) = delete;

 private:
  std::atomic<bool> stop_{false};
  HostNoise result_;
  std::thread thread_;
};

}  // namespace kv
