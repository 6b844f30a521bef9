// Moves records between host memory and a Store on I/O threads of its own, so neither
// the scheduler's loop nor the connector thread ever waits for the store. The queue is
// bounded: when the store is slower than what is offered, trySubmit refuses (the caller
// counts what it dropped) instead of blocking. Each thread takes up to `batch` queued
// requests of one kind at a time and hands them to the store's pipelined forms.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store.h"

namespace kv {

enum class StoreOp { Put, Get, Contains };

struct StoreRequest {
  StoreOp op = StoreOp::Put;
  uint64_t key = 0;
  char* data = nullptr;  // Put: source; Get: destination (`bytes` long; must stay valid until polled)
  size_t bytes = 0;
  uint64_t tag = 0;      // the caller's, returned as is
};

struct StoreDone {
  StoreRequest request;
  bool ok = false;                       // the store answered (Get: see status)
  GetStatus status = GetStatus::Missing; // Get
  bool found = false;                    // Contains
  double queuedUs = 0, startUs = 0, doneUs = 0;  // queued; its store call began; ended
  int thread = 0;                        // the I/O thread that ran it
  std::string error;                     // set when !ok
};

class StoreIo {
 public:
  StoreIo(Store& store, int threads, size_t depth, int batch);
  ~StoreIo();  // finishes what is queued, joins; never throws
  StoreIo(const StoreIo&) = delete;
  StoreIo& operator=(const StoreIo&) = delete;

  bool trySubmit(const StoreRequest& r);  // false: `depth` requests are already queued or running
  // Takes requests in order while there is room, with one lock and one wake-up for all
  // (a wake-up is a syscall when a thread sleeps); returns how many it took.
  size_t submitSome(const StoreRequest* rs, size_t n);
  // Appends every finished request to `out` (oldest first) under one lock: a caller on a
  // timed path takes the lock once, not once per request.
  size_t pollAll(std::vector<StoreDone>& out);
  size_t outstanding() const;             // queued + running (what a queue-depth sample reports)
  size_t depth() const { return depth_; }
  void waitIdle();                        // blocks until nothing is queued or running

 private:
  struct Queued {
    StoreRequest r;
    double queuedUs;
  };
  void serve(int thread);
  void run(std::vector<Queued>& batch, int thread);

  Store& store_;
  const size_t depth_;
  const size_t batch_;
  mutable std::mutex mutex_;
  std::condition_variable work_, idle_;
  std::deque<Queued> queue_;
  size_t running_ = 0;
  std::deque<StoreDone> done_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kv
