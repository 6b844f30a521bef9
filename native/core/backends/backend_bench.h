// `kvbench backend bench`: put/get throughput and latency of a store from host memory,
// for a profile's chunk and block sizes, every record verified. Needs no GPU.
#pragma once
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

}  // namespace kv
