// `kvbench backend bench`: put/get throughput and latency of a store from host memory,
// for a profile's chunk and block sizes, every record verified. Needs no GPU.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "file_store.h"
#include "redis_store.h"

namespace kv {

struct BackendBenchPlan {
  std::string backend;     // "host", "file:DIR" or "redis" (then `redis` says where)
  RedisTarget redis;
  std::string run;         // namespace of this run's keys and files
  std::vector<size_t> sizes;
  std::vector<int> ops;    // per size
  int threads = 4;         // I/O threads; the caller's thread only waits
  FsyncPolicy fsync = FsyncPolicy::Never;
  bool direct = true;
  bool verify = true;
  bool corruptOne = false; // test hook: damage one record between put and get
};

struct SizeResult {
  size_t bytes = 0;
  int ops = 0;
  std::vector<double> putUs, getUs;
  double putWallMs = 0, getWallMs = 0;
  long long putFailed = 0, getMissing = 0, getCorrupt = 0, mismatches = 0;
  std::string firstError;
};

struct BackendBenchResult {
  std::string store, note;
  bool direct = false;
  std::vector<SizeResult> sizes;
};

BackendBenchResult runBackendBench(const BackendBenchPlan& plan);

// Opens the store the plan names (also for the addon's lookup handle).
std::unique_ptr<Store> openStore(const BackendBenchPlan& plan, std::string* note, bool* direct);

// Fills `out` (bytes / 8 words) with the data kvbench stores under `key`.
void recordData(uint64_t key, uint64_t* out, size_t words);

}  // namespace kv
