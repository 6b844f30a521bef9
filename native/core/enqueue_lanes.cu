#include "enqueue_lanes.h"

#include "cuda_check.h"
#include "error.h"

namespace kv {

EnqueueLanes::EnqueueLanes(int lanes, int device) : device_(device) {
  for (int i = 0; i < lanes; ++i) {
    auto lane = std::make_unique<Lane>();
    lane->stream = std::make_unique<Stream>(Priority::Low);
    lanes_.push_back(std::move(lane));
  }
  for (int i = 0; i < lanes; ++i) lanes_[i]->thread = std::thread([this, i] { loop(i); });
}

EnqueueLanes::~EnqueueLanes() {
  {
    std::lock_guard<std::mutex> g(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& lane : lanes_)
    if (lane->thread.joinable()) lane->thread.join();
}

void EnqueueLanes::waitFor(cudaEvent_t event) {
  for (auto& lane : lanes_) KV_CUDA(cudaStreamWaitEvent(lane->stream->get(), event, 0));
}

void EnqueueLanes::start(void* const* dsts, const void* const* srcs, const size_t* sizes, const std::vector<size_t>& at, const cudaMemcpyAttributes& attr) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    dsts_ = dsts;
    srcs_ = srcs;
    sizes_ = sizes;
    at_ = &at;
    attr_ = attr;
    pending_ = count();
    ++round_;
  }
  wake_.notify_all();
}

void EnqueueLanes::wait() {
  std::unique_lock<std::mutex> g(mutex_);
  done_.wait(g, [this] { return pending_ == 0; });
  if (!error_.empty()) {
    std::string e;
    e.swap(error_);
    throw Error(codes::kCuda, "enqueue lane: " + e);
  }
}

void EnqueueLanes::joinInto(cudaStream_t stream) {
  for (auto& lane : lanes_) {
    lane->joined.record(lane->stream->get());
    KV_CUDA(cudaStreamWaitEvent(stream, lane->joined.get(), 0));
  }
}

void EnqueueLanes::loop(int index) {
  cudaError_t deviceSet = cudaSetDevice(device_);  // a new thread starts on device 0
  unsigned long long seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> g(mutex_);
    wake_.wait(g, [&] { return stop_ || round_ != seen; });
    if (stop_) return;
    seen = round_;
    const size_t begin = (*at_)[index], end = (*at_)[index + 1];
    cudaMemcpyAttributes attr = attr_;
    g.unlock();
    cudaError_t e = deviceSet;
    if (e == cudaSuccess && end > begin) {
      size_t attrIdx = 0;
      e = cudaMemcpyBatchAsync(dsts_ + begin, srcs_ + begin, sizes_ + begin, end - begin, &attr, &attrIdx, 1, lanes_[index]->stream->get());
    }
    g.lock();
    if (e != cudaSuccess && error_.empty()) error_ = std::string("cudaMemcpyBatchAsync: ") + cudaGetErrorString(e);
    if (--pending_ == 0) done_.notify_all();
  }
}

}  // namespace kv
