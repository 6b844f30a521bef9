#include "host_store.h"

#include <cstring>

namespace kv {

void HostStore::put(uint64_t key, const void* data, size_t bytes) {
  Record r{recordChecksum(data, bytes, key), std::vector<char>(bytes)};
  std::memcpy(r.payload.data(), data, bytes);
  std::lock_guard<std::mutex> g(mutex_);
  records_[key] = std::move(r);
}

GetStatus HostStore::get(uint64_t key, void* out, size_t bytes) {
  std::lock_guard<std::mutex> g(mutex_);
  auto it = records_.find(key);
  if (it == records_.end()) return GetStatus::Missing;
  if (it->second.payload.size() != bytes || recordChecksum(it->second.payload.data(), bytes, key) != it->second.checksum)
    return GetStatus::Corrupt;
  std::memcpy(out, it->second.payload.data(), bytes);
  return GetStatus::Ok;
}

void HostStore::cleanup() {
  std::lock_guard<std::mutex> g(mutex_);
  records_.clear();
}

void HostStore::corrupt(uint64_t key, size_t) {
  std::lock_guard<std::mutex> g(mutex_);
  auto it = records_.find(key);
  if (it != records_.end() && it->second.payload.size() > 17) it->second.payload[17] ^= 0x5a;
}

bool HostStore::contains(uint64_t key) {
  std::lock_guard<std::mutex> g(mutex_);
  return records_.count(key) != 0;
}

}  // namespace kv
