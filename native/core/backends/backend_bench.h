// `kvbench backend bench`: put/get throughput and latency of a store from host memory,
// for a profile's chunk and block sizes, every record verified. Needs no GPU.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "open_store.h"

namespace kv {

struct BackendBenchPlan {
  StoreSpec store;         // store.connections is the number of I/O threads
  std::vector<size_t> sizes;
  std::vector<int> ops;    // per size
  int pipeline = 1;        // records per putMany/getMany call of one I/O thread
  bool verify = true;
  bool corruptOne = false; // test hook: damage one record between put and get
  bool trace = false;      // keep every store call's thread, start and length (--trace)
  // Set (by a signal) to stop at the next pipelined call; the run's records are removed either way.
  const std::atomic<bool>* cancel = nullptr;
  // Counts store operations done (puts and gets), for a progress bar; may be null.
  std::atomic<long long>* progress = nullptr;
};

// One pipelined store call of one I/O thread, for a timeline (--trace); times from nowUs().
struct StoreCall {
  int thread = 0;
  bool put = true;
  int records = 0;
  double startUs = 0, us = 0;
};

struct SizeResult {
  size_t bytes = 0;
  int ops = 0;
  std::vector<double> putUs, getUs;
  double putWallMs = 0, getWallMs = 0;
  long long putFailed = 0, getMissing = 0, getCorrupt = 0, mismatches = 0;
  std::string firstError;
  std::vector<StoreCall> calls;  // with plan.trace: every call of both passes, by thread
};

struct BackendBenchResult {
  std::string store, note;
  bool direct = false;
  std::vector<SizeResult> sizes;  // the sizes measured whole before a cancel
  bool cancelled = false;
};

BackendBenchResult runBackendBench(const BackendBenchPlan& plan);

// Fills `out` (bytes / 8 words) with the data kvbench stores under `key`.
void recordData(uint64_t key, uint64_t* out, size_t words);

}  // namespace kv
