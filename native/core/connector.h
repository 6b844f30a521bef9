// The async connector: its own thread, which sets its device and owns its streams.
// The main loop submits descriptors (never blocking); the thread orders each copy
// after the compute event it names, enqueues it with its strategy, and reports
// completions through a second lock-free queue that the main loop polls.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "clock.h"
#include "copy.h"
#include "spsc_queue.h"

namespace kv {

// One copy of a job: `count` GPU blocks of layer `layer` <-> one host extent.
struct CopyPart {
  const int* blockIds = nullptr;  // stable for the run
  int count = 0;
  char* host = nullptr;
  int layer = 0;
};

// What the main loop hands the connector: up to kMaxParts copies behind one compute
// event (a save: several sequences' blocks of one layer; a load: several layers of one
// request), completed together.
constexpr int kMaxParts = 8;
struct ConnectorJob {
  uint64_t id = 0;
  int parts = 0;
  CopyPart part[kMaxParts];
  cudaEvent_t after = nullptr;     // compute event the copies must follow (save); null for loads
  double enqueuedUs = 0;
  double bytes = 0;
};

// Descriptors written by the main loop into memory of its own and published with one
// queue push: a step's saves at the end of its launches (the layers have not run yet, so
// nothing waits longer), or the copies a load hook starts. save_layer then costs a local
// store instead of a cross-core handoff. The memory stays untouched until batchesTaken()
// passes it (the connector copies a batch out as soon as it sees it).
struct ConnectorBatch {
  const ConnectorJob* jobs = nullptr;
  int count = 0;
};

struct ConnectorDone {
  uint64_t id = 0;
  double enqueuedUs = 0, doneUs = 0, bytes = 0;
};

// Copy bytes the connector keeps enqueued on the GPU, about 5 ms of a PCIe Gen5 link:
// enough that the link never waits for this thread, little enough for the driver's queue.
constexpr double kQueuedBytes = 256.0 * (1 << 20);

class AsyncConnector {
 public:
  AsyncConnector(int device, const CopyConfig& cfg, bool dropEventWait, size_t queueDepth);
  ~AsyncConnector();  // drains, joins; never throws
  // Main loop only. No shared counter is touched here: the ring's own index is the handoff.
  bool submitBatch(const ConnectorBatch& batch) {
    if (!batches_.push(batch)) return false;
    pushed_ += batch.count;
    return true;
  }
  // Batches whose descriptors the connector thread has finished reading.
  long long batchesTaken() const { return batchesTaken_.load(std::memory_order_acquire); }
  bool poll(ConnectorDone* out);
  // Rethrows an error raised on the connector thread.
  void rethrow();
  void drain();  // waits until every submitted job completed

 private:
  void loop();
  int device_;
  CopyConfig cfg_;
  bool dropEventWait_;
  SpscQueue<ConnectorBatch> batches_;
  std::atomic<long long> batchesTaken_{0};
  SpscQueue<ConnectorDone> done_;
  std::atomic<bool> stop_{false};
  long long pushed_ = 0;                // main loop's count of submitted jobs
  std::atomic<long long> completed_{0};  // connector thread's count, read by drain()
  std::mutex errorMutex_;
  std::string error_, errorCode_;
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace kv
