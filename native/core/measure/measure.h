// Copy ceilings: the figures every later save/load number is compared with.
// Returns raw per-sample times; statistics are computed in TypeScript (src/core/stats.ts).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace kv {

struct MeasurePlan {
  int device = 0;
  size_t bytes = 0;          // per large copy (pinned, D2D)
  size_t pageableBytes = 0;  // per pageable copy
  int iterations = 0;        // timed samples per large-copy measurement
  int pageableIterations = 0;
  int warmup = 0;
  size_t smallBytes = 0;     // small-copy latency probe size
  int smallIterations = 0;
  bool verify = true;
};

struct CopyMeasurement {
  std::string id;              // stable key: "h2d_pinned", "d2h_pinned", "bidir_pinned", ...
  std::string label;           // human label
  size_t bytesPerSample = 0;   // bytes counted per sample (bidirectional: both directions)
  std::string timer;           // "cuda-events" or "host-wall"
  std::vector<double> samplesMs;
  bool verified = false;       // copied data checked bit-exact
  long long mismatches = 0;    // words that differed (0 when verified)
};

struct MeasureResult {
  std::vector<CopyMeasurement> copies;
};

MeasureResult measureCeilings(const MeasurePlan& plan);

// One GPU's pinned copies (H2D, D2H, both at once) measured while every other GPU named measures
// its own: `env --measure --gpus`, what a server's GPUs reach together over the host's PCIe.
struct DeviceCeilings {
  int device = 0;
  std::vector<CopyMeasurement> copies;
};
std::vector<DeviceCeilings> measureCeilingsTogether(const MeasurePlan& plan, const std::vector<int>& devices);

}  // namespace kv
