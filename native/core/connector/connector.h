// The async connector: its own thread, which sets its device and owns its streams.
// The main loop submits descriptors (never blocking); the thread orders each copy
// after the compute event it names, enqueues it with its strategy, and reports
// completions through a second lock-free queue that the main loop polls.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "../common/clock.h"
#include "../copy/copy.h"
#include "copy_trace.h"
#include "spsc_queue.h"

namespace kv {

// One copy of a job: `count` GPU blocks of layer `layer` <-> one host extent.
struct CopyPart {
  const int* blockIds = nullptr;  // stable for the run
  int count = 0;
  char* host = nullptr;
  int layer = 0;
};

// What a hook hands the connector: a few words naming the work (which jobs, which layer,
// after which event), not its copies. The connector thread expands each task into jobs
// (block ids, host extents) with the TaskExpander it was built with, so save_layer writes
// 40 bytes, not a 232-byte descriptor plus a record of its own: what a hook costs is mostly
// the cache lines it writes, and on a busy host each costs several times more (save_layer's
// p50 went from 0.15-0.22 to 0.07-0.10 us, the blocked time per step fell by a quarter to a half;
// docs/benchmarks.md, seventh pass). `first`, `layer` and `count` mean what the expander makes of them.
struct ConnectorTask {
  uint64_t id = 0;
  double enqueuedUs = 0;
  cudaEvent_t after = nullptr;  // compute event the copies must follow (save); null for loads
  int step = 0;                 // the step that made it (a save: the generation it holds)
  int first = 0, layer = 0, count = 0;
};

// One unit of the connector's work: up to kMaxParts copies behind one compute event (a
// save: up to kMaxParts sequences' blocks of one layer; a load: kLoadLayersPerJob layers of
// one request), completed together. Built on the connector thread from a ConnectorTask.
// Each save task costs the scheduler a completion to take in poll: the 70B shard's 17 saves a
// layer made three tasks a layer with eight to a task, and its poll took 18 us a step (H200,
// 2026-12-03); the copies are the same either way (one layer's jobs are one run of the pool).
constexpr int kMaxParts = 32;
constexpr int kLoadLayersPerJob = 8;
static_assert(kLoadLayersPerJob <= kMaxParts, "a load job's layers are its parts");
struct ConnectorJob {
  uint64_t id = 0;
  int parts = 0;
  CopyPart part[kMaxParts];
  cudaEvent_t after = nullptr;  // its task's compute event
  double bytes = 0;
  int step = 0, layer = 0;      // its task's step, and the layer it saves (a load: its first part's)
  // Whether its completion goes to the main loop. A load request is ready only when its last
  // job is (jobs complete in order), and the 70B shard's 10 jobs a request made poll take
  // about 380 completions and 4 us a step where 38 say the same (H200, 2026-12-03). A job that
  // does not report records no event of its own when its successor is queued: it completes
  // with that one, and its blocks share that job's staging pieces (AsyncConnector::loop).
  bool reports = true;
};

// Appends the jobs of `task` to `out`; runs on the connector thread, so it may read only what
// the main loop does not change while the connector lives.
using TaskExpander = std::function<void(const ConnectorTask& task, std::deque<ConnectorJob>& out)>;

// Tasks written by the main loop into memory of its own and published with one queue push:
// a step's saves at the end of its launches (the layers have not run yet, so nothing waits
// longer), or the loads a hook starts. The memory stays untouched until batchesTaken()
// passes it (the connector expands a batch as soon as it sees it) or, as the save ring
// keeps it, until its tasks completed.
struct ConnectorBatch {
  const ConnectorTask* tasks = nullptr;
  int count = 0;
};

// A job's completion: 16 bytes, four to a cache line (the main loop takes about one per layer
// every step, and each line it reads was just written by the connector's core). What else the
// main loop needs of the job it finds in its own memory: the task it wrote.
struct ConnectorDone {
  uint64_t id = 0;
  double doneUs = 0;
};

// Copy bytes the connector keeps enqueued on the GPU, about 5 ms of a PCIe Gen5 link:
// enough that the link never waits for this thread, little enough for the driver's queue.
constexpr double kQueuedBytes = 256.0 * (1 << 20);

class AsyncConnector {
 public:
  // `trace` (--trace; may be null): the copies of its steps are timed there.
  AsyncConnector(int device, const CopyConfig& cfg, TaskExpander expand, bool dropEventWait, size_t queueDepth, CopyTrace* trace = nullptr);
  ~AsyncConnector();  // drains, joins; never throws
  // Main loop only. No shared counter is touched here: the ring's own index is the handoff.
  bool submitBatch(const ConnectorBatch& batch) {
    if (!batches_.push(batch)) return false;
    ++pushed_;
    return true;
  }
  // Batches whose tasks the connector thread has expanded (their memory is free again).
  long long batchesTaken() const { return batchesTaken_.load(std::memory_order_acquire); }
  // Main loop only; inline, as it runs once per completion.
  bool poll(ConnectorDone* out) {
    auto d = done_.pop();
    if (!d) return false;
    *out = *d;
    return true;
  }
  // Rethrows an error raised on the connector thread.
  void rethrow();
  void drain();  // waits until every submitted job completed
  // Stops the thread once everything submitted is done and joins it (the destructor does too).
  void join();
  // After join(): the thread's time doing work (expanding, enqueuing, taking completions) and
  // alive, us; busy over alive is its busy share. Written once, as the thread ends: a counter
  // it kept updating would share a cache line with what the main loop writes every step.
  double busyUs() const { return busyUs_; }
  double aliveUs() const { return aliveUs_; }

 private:
  void loop();
  int device_;
  CopyConfig cfg_;
  TaskExpander expand_;
  bool dropEventWait_;
  CopyTrace* trace_;
  SpscQueue<ConnectorBatch> batches_;
  std::atomic<long long> batchesTaken_{0};
  SpscQueue<ConnectorDone> done_;
  std::atomic<bool> stop_{false};
  long long pushed_ = 0;                 // main loop's count of submitted batches
  std::atomic<long long> expanded_{0};   // jobs the connector made of the batches it took
  std::atomic<long long> completed_{0};  // of those, complete; both read by drain()
  std::mutex errorMutex_;
  std::string error_, errorCode_;
  std::atomic<bool> ready_{false};
  double busyUs_ = 0, aliveUs_ = 0;  // the thread's own until it is joined
  std::thread thread_;
};

}  // namespace kv
