// The pinned pool's index (key -> job): open addressing with linear probing in one array.
// Why not std::unordered_map: each of its entries is a heap node of its own, and a step's
// lookups (about 40 for the llama-3.1-70b TP 8 shard) come after the forward's launches have
// pushed those nodes out of the host's caches, so each lookup missed on a node of its own
// (0.3 us a lookup on the H200 host, most of the load's blocked time per step). Here the
// entries sit side by side, a few cache lines and pages for every key a run holds.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace kv {

class FlatIndex {
 public:
  static constexpr uint64_t kEmpty = ~0ull;  // no key: the one value a key may not take

  explicit FlatIndex(size_t expected = 0) { rehash(capacityFor(expected)); }

  void put(uint64_t key, uint64_t value) {
    if (key == kEmpty) throw std::invalid_argument("flat index: key 2^64-1 is reserved");
    if (2 * (used_ + 1) > entries_.size()) rehash(2 * entries_.size());
    Entry& e = entries_[probe(key)];
    if (e.key == kEmpty) ++used_;
    e = Entry{key, value};
  }

  std::optional<uint64_t> find(uint64_t key) const {
    if (key == kEmpty) return std::nullopt;
    const Entry& e = entries_[probe(key)];
    if (e.key == kEmpty) return std::nullopt;
    return e.value;
  }

  size_t size() const { return used_; }

 private:
  struct Entry {
    uint64_t key = kEmpty;
    uint64_t value = 0;
  };

  // At most half full, a power of two: a probe ends within a few entries.
  static size_t capacityFor(size_t keys) {
    size_t c = 16;
    while (c < 2 * keys) c *= 2;
    return c;
  }

  // Fibonacci hashing: consecutive keys (job ids) spread over the table, strided ones too.
  size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }

  // The entry holding `key`, else the empty one where it would go.
  size_t probe(uint64_t key) const {
    const size_t mask = entries_.size() - 1;
    size_t i = home(key);
    while (entries_[i].key != kEmpty && entries_[i].key != key) i = (i + 1) & mask;
    return i;
  }

  void rehash(size_t capacity) {
    std::vector<Entry> old;
    old.swap(entries_);
    entries_.assign(capacity, Entry{});
    shift_ = 64;
    for (size_t c = capacity; c > 1; c /= 2) --shift_;
    used_ = 0;
    for (const Entry& e : old)
      if (e.key != kEmpty) put(e.key, e.value);
  }

  std::vector<Entry> entries_;
  unsigned shift_ = 64;
  size_t used_ = 0;
};

}  // namespace kv
