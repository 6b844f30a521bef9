// A KV store the connector (and `kvbench backend bench`) writes records to: the
// interface every backend implements (host memory, local file/NVMe, Redis, plugins).
// Plain C++, no CUDA: it runs without a GPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "../common/error.h"

namespace kv {

// Why a get did not return the record.
enum class GetStatus { Ok, Missing, Corrupt };

// One record of a pipelined put or get.
struct PutItem {
  uint64_t key;
  const void* data;
  size_t bytes;
};
struct GetItem {
  uint64_t key;
  void* out;
  size_t bytes;
  GetStatus status;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string describe() const = 0;  // e.g. "file /data/kv (O_DIRECT)"
  // Stores `bytes` under `key`. A failed put leaves nothing that a get would accept.
  // Throws kv::Error(STORE_IO) with the OS error on failure. Safe from many threads.
  virtual void put(uint64_t key, const void* data, size_t bytes) = 0;
  // Reads the record of `key` into `out` (`bytes` long); Corrupt when its checksum,
  // header or length do not match. Throws kv::Error(STORE_IO) on an I/O error.
  virtual GetStatus get(uint64_t key, void* out, size_t bytes) = 0;
  // Pipelined forms: a store that can keep several requests in flight on one connection
  // (Redis) overrides them. A throw means none of the items can be trusted.
  virtual void putMany(const PutItem* items, size_t n) {
    for (size_t i = 0; i < n; ++i) put(items[i].key, items[i].data, items[i].bytes);
  }
  virtual void getMany(GetItem* items, size_t n) {
    for (size_t i = 0; i < n; ++i) items[i].status = get(items[i].key, items[i].out, items[i].bytes);
  }
  // The scheduler's lookup (get_num_new_matched_tokens): is `key` stored? No data moves.
  virtual bool contains(uint64_t key) = 0;
  // Throws STORE_CONFIG when the store cannot hold `bytes` more (a file store's free
  // space), before a run writes anything. Stores that cannot tell accept.
  virtual void checkRoom(double /*bytes*/) {}
  // Removes every record this store wrote (keys are namespaced per run).
  virtual void cleanup() = 0;
  // Test hook: damages the stored record of `key` so a get must report Corrupt.
  virtual void corrupt(uint64_t key, size_t bytes) = 0;
};

namespace codes {
inline constexpr const char* kStoreIo = "STORE_IO";
inline constexpr const char* kStoreConfig = "STORE_CONFIG";
}  // namespace codes

// 64-bit checksum of a record payload, word at a time (fast enough for NVMe rates).
uint64_t recordChecksum(const void* data, size_t bytes, uint64_t seed);

// What kvbench puts in front of a value in a store that keeps opaque bytes (Redis, plugins),
// so a value returned altered, short or for another key is found. `magic` names the store kind.
struct ValueHeader {
  uint64_t magic, key, bytes, checksum;
};
ValueHeader valueHeader(uint64_t magic, uint64_t key, const void* data, size_t bytes);
// Checks a header + payload value read back for `key` (`valueBytes` long) and copies the
// `bytes`-long payload to `out` when it is whole.
GetStatus openValue(uint64_t magic, uint64_t key, const char* value, size_t valueBytes, size_t bytes, void* out);

}  // namespace kv
