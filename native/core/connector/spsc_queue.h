// Bounded single-producer single-consumer ring: the main loop and the connector
// thread hand each other descriptors without locks (push/pop never block). Each side
// keeps a private copy of the other side's index and reads the shared one only when
// the ring looks full (producer) or empty (consumer): a push or pop then costs one
// cache line moving between cores, not three.
#pragma once
#include <atomic>
#include <cstddef>
#include <optional>
#include <vector>

namespace kv {

template <typename T>
class SpscQueue {
 public:
  explicit SpscQueue(size_t capacity) : slots_(capacity + 1) {}
  bool push(const T& v) {
    const size_t head = head_.load(std::memory_order_relaxed), next = (head + 1) % slots_.size();
    if (next == tailSeen_) {
      tailSeen_ = tail_.load(std::memory_order_acquire);
      if (next == tailSeen_) return false;  // full
    }
    slots_[head] = v;
    head_.store(next, std::memory_order_release);
    return true;
  }
  std::optional<T> pop() {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == headSeen_) {
      headSeen_ = head_.load(std::memory_order_acquire);
      if (tail == headSeen_) return std::nullopt;  // empty
    }
    T v = slots_[tail];
    tail_.store((tail + 1) % slots_.size(), std::memory_order_release);
    return v;
  }
  // Consumer side: nothing left to pop.
  bool empty() const { return tail_.load(std::memory_order_relaxed) == head_.load(std::memory_order_acquire); }

 private:
  std::vector<T> slots_;
  alignas(64) std::atomic<size_t> head_{0};  // written by the producer
  size_t tailSeen_ = 0;                      // the producer's copy of tail_
  alignas(64) std::atomic<size_t> tail_{0};  // written by the consumer
  size_t headSeen_ = 0;                      // the consumer's copy of head_
};

}  // namespace kv
