// A store from a user's shared library (native/include/kvbench_store.h, ABI v1).
// kvbench keeps its own checksummed header in front of each value, so a plugin
// that returns wrong bytes is caught like any other corrupt record.
#pragma once
#include <string>

#include "store.h"

namespace kv {

class PluginStore final : public Store {
 public:
  // `spec` is PATH.so or PATH.so?config.
  PluginStore(const std::string& spec, const std::string& run);
  ~PluginStore() override;
  std::string describe() const override;
  void put(uint64_t key, const void* data, size_t bytes) override;
  GetStatus get(uint64_t key, void* out, size_t bytes) override;
  bool contains(uint64_t key) override;
  void cleanup() override;
  void corrupt(uint64_t key, size_t bytes) override;

 private:
  std::string lastError() const;
  std::string path_;
  void* lib_ = nullptr;
  void* store_ = nullptr;
  int (*version_)() = nullptr;
  void* (*open_)(const char*, const char*) = nullptr;
  int (*put_)(void*, uint64_t, const void*, size_t) = nullptr;
  int (*get_)(void*, uint64_t, void*, size_t) = nullptr;
  void (*close_)(void*) = nullptr;
  const char* (*error_)() = nullptr;
};

}  // namespace kv
