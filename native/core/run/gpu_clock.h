// --trace: GPU timing events placed on the host clock (trace.h says how, and what the error is).
#pragma once
#include <memory>

#include "trace.h"
#include "../connector/copy_trace.h"
#include "../cuda/device.h"

namespace kv {

class GpuClock {
 public:
  // On an idle stream: a few record-and-wait tries, the tightest kept.
  void calibrate(cudaStream_t stream);
  double hostUs(cudaEvent_t event) const;
  double errorUs() const { return errorUs_; }

 private:
  std::unique_ptr<Event> mark_;
  double hostUs_ = 0, errorUs_ = 0;
};

// The copies the connector timed, on the host clock (after the connector is joined).
void takeTracedCopies(DesignTrace& t, const CopyTrace& copies, const GpuClock& clock);

}  // namespace kv
