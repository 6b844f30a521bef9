// Helper threads that enqueue slices of one cudaMemcpyBatchAsync call, each on a stream of its
// own. On some hosts one thread needs 0.85-0.9 µs to enqueue a 32 KiB copy, slower than the link
// moves it; there 2 to 4 threads reach the link (native/test/batch_copy_probe.cu, docs/benchmarks.md).
#pragma once
#include <cuda_runtime.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "device.h"

namespace kv {

class EnqueueLanes {
 public:
  // `lanes` helper threads on `device`, each owning a low-priority stream.
  EnqueueLanes(int lanes, int device);
  ~EnqueueLanes();  // joins the threads; never throws
  EnqueueLanes(const EnqueueLanes&) = delete;
  EnqueueLanes& operator=(const EnqueueLanes&) = delete;

  int count() const { return static_cast<int>(lanes_.size()); }
  // Every lane's stream waits for `event` (what the caller's stream waits for).
  void waitFor(cudaEvent_t event);
  // Lane i starts enqueuing copies [at[i], at[i + 1]) of the arrays on its stream; the arrays
  // must stay as they are until wait() returns.
  void start(void* const* dsts, const void* const* srcs, const size_t* sizes, const std::vector<size_t>& at, const cudaMemcpyAttributes& attr);
  // Returns once every lane has enqueued its slice, rethrowing a lane's error.
  void wait();
  // Makes `stream` wait for everything the lanes enqueued so far.
  void joinInto(cudaStream_t stream);

 private:
  struct Lane {
    std::unique_ptr<Stream> stream;
    Event joined{cudaEventDisableTiming};
    std::thread thread;
  };
  void loop(int index);

  int device_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  unsigned long long round_ = 0;  // bumped by start(); a lane works once per round
  int pending_ = 0;               // lanes still enqueuing this round
  bool stop_ = false;
  std::string error_;
  // This round's work (read by the lanes between the round's start and its end).
  void* const* dsts_ = nullptr;
  const void* const* srcs_ = nullptr;
  const size_t* sizes_ = nullptr;
  const std::vector<size_t>* at_ = nullptr;
  cudaMemcpyAttributes attr_{};
};

}  // namespace kv
