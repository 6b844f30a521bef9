// The host noise baseline on its own (kvbench measures the same beside the forward-only
// baseline of every save/load run): N threads run the probe for S seconds. Run it alone
// and beside a kvbench run to tell the host's stalls from the connector's own cost.
//   host_stall_probe [seconds=10] [threads=2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "../core/measure/host_noise.h"

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  if (!(seconds > 0) || threads <= 0) {
    std::fprintf(stderr, "usage: host_stall_probe [seconds>0] [threads>0]\n");
    return 2;
  }
  std::vector<std::unique_ptr<kv::HostNoiseProbe>> probes;
  for (int t = 0; t < threads; ++t) probes.push_back(std::make_unique<kv::HostNoiseProbe>());
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  for (int t = 0; t < threads; ++t) {
    const kv::HostNoise h = probes[t]->finish();
    const double s = h.seconds > 0 ? h.seconds : 1;
    std::printf("thread %d: %.1f s, %lld repetitions of %.2f us, %.2f%% over twice that | lost the CPU >10 us %.1f/s, >20 us %.1f/s, >50 us %.1f/s, longest %.1f us\n",
                t, h.seconds, h.reps, h.repUs, h.reps ? 100.0 * h.slowReps / h.reps : 0.0, h.over10us / s, h.over20us / s, h.over50us / s, h.maxUs);
  }
  return 0;
}
