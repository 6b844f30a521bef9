#include "gpu_clock.h"

#include "../common/clock.h"
#include "../cuda/cuda_check.h"

namespace kv {

void GpuClock::calibrate(cudaStream_t stream) {
  constexpr int kTries = 8;
  double best = -1;
  for (int i = 0; i < kTries; ++i) {
    auto e = std::make_unique<Event>();
    const double before = nowUs();
    e->record(stream);
    e->sync();
    const double after = nowUs();
    if (best < 0 || after - before < best) {
      best = after - before;
      hostUs_ = (before + after) / 2;
      errorUs_ = best / 2;
      mark_ = std::move(e);
    }
  }
}

double GpuClock::hostUs(cudaEvent_t event) const {
  float ms = 0;
  KV_CUDA(cudaEventElapsedTime(&ms, mark_->get(), event));
  return hostUs_ + 1000.0 * ms;
}

void takeTracedCopies(DesignTrace& t, const CopyTrace& copies, const GpuClock& clock) {
  t.copiesTraced = true;
  for (const TracedCopy* c = copies.begin(); c != copies.end(); ++c)
    t.copies.push_back({c->job, c->step, c->layer, c->bytes, c->enqueueUs, c->enqueuedUs, clock.hostUs(c->start), clock.hostUs(c->end)});
  t.copiesDropped = copies.dropped();
}

}  // namespace kv
