// --trace: the connector's copies of the traced steps. For each job, a timing event where its
// stream may start it (after the compute event it waits for) and one where it is done, and the
// thread's host time around its enqueue. Events are made up front on the caller's thread; the
// connector thread only records them, and the caller reads them once the connector is joined.
#pragma once
#include <cstdint>
#include <vector>

#include "../cuda/device.h"

namespace kv {

struct TracedCopy {
  uint64_t job = 0;
  int step = 0, layer = 0;
  double bytes = 0;
  double enqueueUs = 0, enqueuedUs = 0;  // host: the connector thread around the job's enqueue
  cudaEvent_t start = nullptr, end = nullptr;
};

class CopyTrace {
 public:
  // Jobs of steps [firstStep, firstStep + steps), at most `capacity` of them (the rest counted).
  CopyTrace(int firstStep, int steps, size_t capacity) : first_(firstStep), last_(firstStep + steps) {
    events_.reserve(2 * capacity);
    for (size_t i = 0; i < 2 * capacity; ++i) events_.emplace_back();
    copies_.resize(capacity);
    for (size_t i = 0; i < capacity; ++i) copies_[i].start = events_[2 * i].get(), copies_[i].end = events_[2 * i + 1].get();
  }
  bool wants(int step) const { return step >= first_ && step < last_; }
  // The next record to fill (connector thread), or null when they are all used.
  TracedCopy* next() {
    if (used_ == copies_.size()) {
      ++dropped_;
      return nullptr;
    }
    return &copies_[used_++];
  }
  // After the connector is joined.
  const TracedCopy* begin() const { return copies_.data(); }
  const TracedCopy* end() const { return copies_.data() + used_; }
  long long dropped() const { return dropped_; }

 private:
  int first_, last_;
  std::vector<Event> events_;
  std::vector<TracedCopy> copies_;
  size_t used_ = 0;
  long long dropped_ = 0;
};

}  // namespace kv
