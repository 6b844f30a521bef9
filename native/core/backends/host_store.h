// Host-memory store: records in a map, the same checksummed contract as the file
// store. The baseline a store author compares their store with.
#pragma once
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store.h"

namespace kv {

class HostStore final : public Store {
 public:
  std::string describe() const override { return "host memory"; }
  void put(uint64_t key, const void* data, size_t bytes) override;
  GetStatus get(uint64_t key, void* out, size_t bytes) override;
  bool contains(uint64_t key) override;
  void cleanup() override;
  void corrupt(uint64_t key, size_t bytes) override;

 private:
  struct Record {
    uint64_t checksum;
    std::vector<char> payload;
  };
  std::mutex mutex_;
  std::unordered_map<uint64_t, Record> records_;
};

}  // namespace kv
