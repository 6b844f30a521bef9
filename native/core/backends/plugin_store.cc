#include "plugin_store.h"

#include <dlfcn.h>

#include <cstring>
#include <vector>

#include "../../include/kvbench_store.h"

namespace kv {
namespace {
constexpr uint64_t kMagic = 0x31474c50564b564bull;  // "KVKVPLG1"
}  // namespace

PluginStore::PluginStore(const std::string& spec, const std::string& run) {
  const size_t q = spec.find('?');
  path_ = spec.substr(0, q);
  const std::string config = q == std::string::npos ? "" : spec.substr(q + 1);
  const std::string flag = "--backend plugin:" + path_;
  lib_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib_) throw Error(codes::kStoreConfig, flag + ": cannot load: " + dlerror());
  std::string missing;
  auto sym = [&](const char* name) {
    void* p = dlsym(lib_, name);
    if (!p) missing += (missing.empty() ? "" : ", ") + std::string(name);
    return p;
  };
  version_ = reinterpret_cast<decltype(version_)>(sym("kvbench_store_abi_version"));
  open_ = reinterpret_cast<decltype(open_)>(sym("kvbench_store_open"));
  put_ = reinterpret_cast<decltype(put_)>(sym("kvbench_store_put"));
  get_ = reinterpret_cast<decltype(get_)>(sym("kvbench_store_get"));
  close_ = reinterpret_cast<decltype(close_)>(sym("kvbench_store_close"));
  error_ = reinterpret_cast<decltype(error_)>(sym("kvbench_store_last_error"));
  if (!missing.empty()) {
    dlclose(lib_);
    throw Error(codes::kStoreConfig, flag + ": missing symbols: " + missing + " (see native/include/kvbench_store.h)");
  }
  const int v = version_();
  if (v != KVBENCH_STORE_ABI_VERSION) {
    dlclose(lib_);
    throw Error(codes::kStoreConfig, flag + ": plugin ABI version " + std::to_string(v) + ", this kvbench speaks version " +
                                         std::to_string(KVBENCH_STORE_ABI_VERSION));
  }
  store_ = open_(config.c_str(), run.c_str());
  if (!store_) {
    std::string why = lastError();
    dlclose(lib_);
    throw Error(codes::kStoreConfig, flag + ": open failed: " + why);
  }
}

PluginStore::~PluginStore() {
  if (store_) close_(store_);
  if (lib_) dlclose(lib_);
}

std::string PluginStore::lastError() const {
  const char* e = error_ ? error_() : nullptr;
  return e && *e ? e : "no detail from the plugin";
}

std::string PluginStore::describe() const { return "plugin " + path_ + " (ABI v" + std::to_string(KVBENCH_STORE_ABI_VERSION) + ")"; }

void PluginStore::put(uint64_t key, const void* data, size_t bytes) {
  thread_local std::vector<char> value;
  value.resize(sizeof(ValueHeader) + bytes);
  const ValueHeader h = valueHeader(kMagic, key, data, bytes);
  std::memcpy(value.data(), &h, sizeof h);
  std::memcpy(value.data() + sizeof h, data, bytes);
  if (put_(store_, key, value.data(), value.size()) != 0) throw Error(codes::kStoreIo, "plugin put failed: " + lastError());
}

GetStatus PluginStore::get(uint64_t key, void* out, size_t bytes) {
  thread_local std::vector<char> value;
  value.resize(sizeof(ValueHeader) + bytes);
  int rc = get_(store_, key, value.data(), value.size());
  if (rc == KVBENCH_STORE_MISSING) return GetStatus::Missing;
  if (rc != KVBENCH_STORE_OK) throw Error(codes::kStoreIo, "plugin get failed: " + lastError());
  return openValue(kMagic, key, value.data(), value.size(), bytes, out);
}

void PluginStore::cleanup() {
  if (store_) close_(store_);  // the ABI's close removes what the handle stored
  store_ = nullptr;
}

void PluginStore::corrupt(uint64_t key, size_t bytes) {
  // Through the ABI only: read the value back, flip a payload byte, write it again.
  std::vector<char> value(sizeof(ValueHeader) + bytes);
  if (get_(store_, key, value.data(), value.size()) != KVBENCH_STORE_OK) return;
  value[sizeof(ValueHeader) + 17] ^= 0x5a;
  put_(store_, key, value.data(), value.size());
}

bool PluginStore::contains(uint64_t key) {
  // ABI v1 has no lookup call: a get into a header-sized buffer tells present (any answer
  // but MISSING) from absent without moving the value.
  char probe[sizeof(ValueHeader)];
  return get_(store_, key, probe, sizeof probe) != KVBENCH_STORE_MISSING;
}

}  // namespace kv
