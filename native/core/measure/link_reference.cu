#include "link_reference.h"

#include <algorithm>
#include <chrono>

#include "../common/clock.h"
#include "../cuda/cuda_check.h"
#include "../common/error.h"

namespace kv {

ContiguousCopyStream::ContiguousCopyStream(int device, Direction dir, size_t bufferBytes, size_t chunkBytes, int inFlight)
    : device_(device), dir_(dir), chunk_(chunkBytes), inFlight_(inFlight) {
  if (chunkBytes == 0 || bufferBytes < chunkBytes || inFlight < 1) throw Error(codes::kBadInput, "link reference: chunk must be positive and fit the buffer");
  dev_ = allocDevice(bufferBytes);
  host_ = allocPinned(bufferBytes);
  doneUs_.reserve(1 << 16);
  thread_ = std::thread([this] { loop(); });
}

ContiguousCopyStream::~ContiguousCopyStream() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ContiguousCopyStream::start() { go_.store(true); }

void ContiguousCopyStream::finish() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
}

double ContiguousCopyStream::bytesDoneBetween(double fromUs, double toUs) const {
  const auto a = std::upper_bound(doneUs_.begin(), doneUs_.end(), fromUs);
  const auto b = std::upper_bound(doneUs_.begin(), doneUs_.end(), toUs);
  return static_cast<double>(b - a) * static_cast<double>(chunk_);
}

void ContiguousCopyStream::loop() {
  try {
    useDevice(device_);  // a new thread starts on device 0, whatever the caller uses
    // The connector's copy streams run at low priority; so does the reference, to compare like with like.
    Stream s(Priority::Low);
    std::vector<Event> done;
    for (int i = 0; i < inFlight_; ++i) done.emplace_back(cudaEventDisableTiming);
    const size_t chunks = dev_.bytes() / chunk_;
    while (!go_.load() && !stop_.load()) std::this_thread::sleep_for(std::chrono::microseconds(20));
    long long issued = 0, completed = 0;
    while (!stop_.load() || completed < issued) {
      // Keep `inFlight_` copies queued so the copy engine never idles between them.
      while (!stop_.load() && issued - completed < inFlight_) {
        const size_t off = static_cast<size_t>(issued % static_cast<long long>(chunks)) * chunk_;
        char* d = dev_.get<char>() + off;
        char* h = host_.get<char>() + off;
        if (dir_ == Direction::Save)
          KV_CUDA(cudaMemcpyAsync(h, d, chunk_, cudaMemcpyDeviceToHost, s.get()));
        else
          KV_CUDA(cudaMemcpyAsync(d, h, chunk_, cudaMemcpyHostToDevice, s.get()));
        done[issued % inFlight_].record(s.get());
        ++issued;
      }
      // Polled like the connector's completions: a blocking sync would not be any sooner.
      const cudaError_t q = cudaEventQuery(done[completed % inFlight_].get());
      if (q == cudaSuccess) {
        doneUs_.push_back(nowUs());
        ++completed;
      } else if (q == cudaErrorNotReady) {
        std::this_thread::sleep_for(std::chrono::microseconds(5));
      } else {
        throwCuda(q, "cudaEventQuery(link reference copy)");
      }
    }
  } catch (...) {
    error_ = std::current_exception();
  }
}

}  // namespace kv
