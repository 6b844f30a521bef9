// Bounded single-producer single-consumer ring: the main loop and the connector
// thread hand each other descriptors without locks (push/pop never block).
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
    size_t head = head_.load(std::memory_order_relaxed), next = (head + 1) % slots_.size();
    if (next == tail_.load(std::memory_order_acquire)) return false;  // full
    slots_[head] = v;
    head_.store(next, std::memory_order_release);
    return true;
  }
  std::optional<T> pop() {
    size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return std::nullopt;
    T v = slots_[tail];
    tail_.store((tail + 1) % slots_.size(), std::memory_order_release);
    return v;
  }

 private:
  std::vector<T> slots_;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

}  // namespace kv
