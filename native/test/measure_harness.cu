// Drives the CUDA core without Node: `make -C native harness && native/build/measure_harness [device]`.
// Prints each ceiling's median and verification, exits 1 if any copy failed to verify.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../core/cuda/device_info.h"
#include "../core/common/error.h"
#include "../core/measure/measure.h"

int main(int argc, char** argv) {
  kv::MeasurePlan plan;
  plan.device = argc > 1 ? std::atoi(argv[1]) : 0;
  plan.bytes = 256u << 20;
  plan.pageableBytes = 64u << 20;
  plan.iterations = 20;
  plan.pageableIterations = 10;
  plan.warmup = 2;
  plan.smallBytes = 4096;
  plan.smallIterations = 200;
  plan.verify = true;
  try {
    kv::CudaInfo info = kv::queryCudaInfo();
    if (!info.errorName.empty()) {
      std::printf("no GPU: %s: %s\n", info.errorName.c_str(), info.errorMessage.c_str());
      return 2;
    }
    kv::MeasureResult r = kv::measureCeilings(plan);
    bool ok = true;
    for (auto& c : r.copies) {
      std::vector<double> s = c.samplesMs;
      std::sort(s.begin(), s.end());
      double med = s[s.size() / 2];
      std::printf("%-22s %10zu B  median %9.3f ms  %8.2f GB/s  verified=%s\n", c.id.c_str(), c.bytesPerSample, med,
                  c.bytesPerSample / (med * 1e6), c.verified ? "yes" : "NO");
      ok = ok && c.verified;
    }
    return ok ? 0 : 1;
  } catch (const kv::Error& e) {
    std::printf("%s: %s\n", e.code.c_str(), e.what());
    return 2;
  }
}
