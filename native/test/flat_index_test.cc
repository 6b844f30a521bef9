// CPU-only tests of the pinned pool's index (core/kv/flat_index.h): every key put is found
// with its latest value, keys never put are not, across growth and colliding keys, and the
// reserved key is refused. Built and run by test/flat-index.test.mjs with g++ (make flat-index-test).
#include <cstdio>
#include <stdexcept>
#include <unordered_map>

#include "check.h"
#include "../core/kv/flat_index.h"

using kv::FlatIndex;

namespace {

void dense_job_ids() {
  FlatIndex ix(192);
  for (uint64_t j = 0; j < 192; ++j) ix.put(j, j * 7);
  CHECK(ix.size() == 192);
  bool all = true;
  for (uint64_t j = 0; j < 192; ++j) all = all && ix.find(j) == std::optional<uint64_t>(j * 7);
  CHECK(all);
  CHECK(!ix.find(192).has_value());
  CHECK(!ix.find(FlatIndex::kEmpty).has_value());
  std::printf("ok dense job ids are found, others are not\n");
}

void grows_and_overwrites_like_a_map() {
  // Strided and large keys (they collide in a small table), put past the expected count and
  // overwritten: the same answers as std::unordered_map for every key asked.
  FlatIndex ix(4);
  std::unordered_map<uint64_t, uint64_t> ref;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift: a fixed pseudo-random sequence
    const uint64_t key = (i % 3 == 0) ? (x % 5000) * 4096 : x % 3000;
    ix.put(key, x);
    ref[key] = x;
  }
  CHECK(ix.size() == ref.size());
  bool same = true;
  for (uint64_t k = 0; k < 5000 * 4096; k += 1024) {
    const auto it = ref.find(k);
    same = same && ix.find(k) == (it == ref.end() ? std::nullopt : std::optional<uint64_t>(it->second));
  }
  CHECK(same);
  std::printf("ok grows and overwrites with std::unordered_map's answers\n");
}

void reserved_key_refused() {
  FlatIndex ix;
  bool threw = false;
  try {
    ix.put(FlatIndex::kEmpty, 1);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw && ix.size() == 0);
  std::printf("ok the reserved key is refused\n");
}

}  // namespace

int main() {
  dense_job_ids();
  grows_and_overwrites_like_a_map();
  reserved_key_refused();
  return checksResult();
}
