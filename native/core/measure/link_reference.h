// The link's reference beside the forward: a plain stream of back-to-back contiguous copies
// between one device buffer and one pinned buffer, on a thread of its own. What it moves while
// the forward runs is the most any connector's copies can move on this machine then, and the
// step time it costs the forward is the least a connector moving that much can cost: one pass
// over HBM per byte, no SM, no gather. A connector's figures read against these.
#pragma once
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include "../cuda/device.h"
#include "../copy/strategy.h"

namespace kv {

class ContiguousCopyStream {
 public:
  // Allocates both buffers on the calling thread (a failure throws here, nothing started).
  // From start() to finish() its thread copies chunk after chunk through them, `inFlight`
  // chunks queued. The device buffer is larger than any L2, so every copy reads or writes HBM.
  ContiguousCopyStream(int device, Direction dir, size_t bufferBytes, size_t chunkBytes, int inFlight = 4);
  ~ContiguousCopyStream();  // stops and joins; never throws
  void start();
  // Stops, waits for the queued copies, joins; rethrows the thread's CUDA error.
  void finish();
  // Bytes of the copies that completed in (fromUs, toUs] (nowUs clock); after finish().
  double bytesDoneBetween(double fromUs, double toUs) const;
  size_t chunkBytes() const { return chunk_; }
  ContiguousCopyStream(const ContiguousCopyStream&) = delete;
  ContiguousCopyStream& operator=(const ContiguousCopyStream&) = delete;

 private:
  void loop();
  int device_;
  Direction dir_;
  size_t chunk_;
  int inFlight_;
  DeviceBuffer dev_;
  PinnedBuffer host_;
  std::vector<double> doneUs_;  // completion time of each copy, in order
  std::atomic<bool> go_{false}, stop_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace kv
