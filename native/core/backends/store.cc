#include "store.h"

#include <cstring>

namespace kv {

uint64_t recordChecksum(const void* data, size_t bytes, uint64_t seed) {
  const auto* w = static_cast<const uint64_t*>(data);
  uint64_t a = seed ^ 0x9E3779B97F4A7C15ull, b = seed + bytes;
  size_t words = bytes / 8;
  for (size_t i = 0; i + 1 < words; i += 2) {  // two lanes for instruction-level parallelism
    a = (a ^ w[i]) * 0xBF58476D1CE4E5B9ull;
    b = (b ^ w[i + 1]) * 0x94D049BB133111EBull;
    a ^= a >> 29;
    b ^= b >> 31;
  }
  if (words % 2) a = (a ^ w[words - 1]) * 0xBF58476D1CE4E5B9ull;
  const auto* tail = static_cast<const unsigned char*>(data) + words * 8;
  for (size_t i = 0; i < bytes % 8; ++i) b = (b ^ tail[i]) * 0x100000001B3ull;
  return a ^ (b * 0xD6E8FEB86659FD93ull);
}

ValueHeader valueHeader(uint64_t magic, uint64_t key, const void* data, size_t bytes) {
  return ValueHeader{magic, key, bytes, recordChecksum(data, bytes, key)};
}

GetStatus openValue(uint64_t magic, uint64_t key, const char* value, size_t valueBytes, size_t bytes, void* out) {
  if (valueBytes != sizeof(ValueHeader) + bytes) return GetStatus::Corrupt;
  ValueHeader h;
  std::memcpy(&h, value, sizeof h);
  const char* payload = value + sizeof h;
  if (h.magic != magic || h.key != key || h.bytes != bytes || h.checksum != recordChecksum(payload, bytes, key))
    return GetStatus::Corrupt;
  std::memcpy(out, payload, bytes);
  return GetStatus::Ok;
}

}  // namespace kv
