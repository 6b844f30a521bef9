// RAII owners for the CUDA resources the core uses. Destructors never throw;
// they release in reverse order so an exception mid-run leaks nothing.
#pragma once
#include <cuda_runtime.h>
#include <cstddef>
#include <utility>
#include "cuda_check.h"

namespace kv {

// Makes `device` current on the calling thread. Every native thread calls this
// first: a new thread starts on device 0 whatever its parent chose.
inline void useDevice(int device) { KV_CUDA(cudaSetDevice(device)); }

template <typename Free>
class Owned {
 public:
  Owned() = default;
  Owned(void* p, size_t bytes) : ptr_(p), bytes_(bytes) {}
  Owned(Owned&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(o.bytes_) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) { reset(); ptr_ = std::exchange(o.ptr_, nullptr); bytes_ = o.bytes_; }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }
  void reset() { if (ptr_) Free{}(ptr_); ptr_ = nullptr; }
  template <typename T = void> T* get() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

struct FreeDevice { void operator()(void* p) const { cudaFree(p); } };
struct FreePinned { void operator()(void* p) const { cudaFreeHost(p); } };
struct FreePageable { void operator()(void* p) const { ::operator delete(p); } };

using DeviceBuffer = Owned<FreeDevice>;
using PinnedBuffer = Owned<FreePinned>;
using PageableBuffer = Owned<FreePageable>;

inline DeviceBuffer allocDevice(size_t bytes) {
  void* p = nullptr;
  KV_CUDA(cudaMalloc(&p, bytes));
  return DeviceBuffer(p, bytes);
}
inline PinnedBuffer allocPinned(size_t bytes, unsigned flags = cudaHostAllocDefault) {
  void* p = nullptr;
  KV_CUDA(cudaHostAlloc(&p, bytes, flags));
  return PinnedBuffer(p, bytes);
}
inline PageableBuffer allocPageable(size_t bytes) { return PageableBuffer(::operator new(bytes), bytes); }

enum class Priority { Normal, High, Low };

class Stream {
 public:
  // Connector streams run at low priority so the forward's kernels are scheduled first.
  explicit Stream(Priority p = Priority::Normal) {
    int least = 0, greatest = 0;  // numerically: least is lowest priority
    KV_CUDA(cudaDeviceGetStreamPriorityRange(&least, &greatest));
    int prio = p == Priority::High ? greatest : p == Priority::Low ? least : 0;
    KV_CUDA(cudaStreamCreateWithPriority(&s_, cudaStreamNonBlocking, prio));
  }
  ~Stream() { if (s_) cudaStreamDestroy(s_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void sync() const { KV_CUDA(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  explicit Event(unsigned flags = cudaEventDefault) { KV_CUDA(cudaEventCreateWithFlags(&e_, flags)); }
  ~Event() { if (e_) cudaEventDestroy(e_); }
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s) const { KV_CUDA(cudaEventRecord(e_, s)); }
  void sync() const { KV_CUDA(cudaEventSynchronize(e_)); }
  // Milliseconds from `start` to this event; both must have completed.
  float since(const Event& start) const {
    float ms = 0;
    KV_CUDA(cudaEventElapsedTime(&ms, start.e_, e_));
    return ms;
  }

 private:
  cudaEvent_t e_ = nullptr;
};

}  // namespace kv
