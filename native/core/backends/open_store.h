// Which store a run talks to, and the one place that opens it from that description
// (`kvbench backend bench`, the addon's lookup handle and `kvbench save/load --backend`).
#pragma once
#include <memory>
#include <string>

#include "file_store.h"
#include "redis_store.h"

namespace kv {

struct StoreSpec {
  std::string backend;     // "host", "file:DIR", "redis" (then `redis` says where) or "plugin:PATH.so[?config]"
  RedisTarget redis;
  std::string run;         // namespace of this run's keys and files
  int connections = 4;     // Redis: one connection per I/O thread
  FsyncPolicy fsync = FsyncPolicy::Never;
  bool direct = true;      // file: try O_DIRECT
};

struct OpenedStore {
  std::unique_ptr<Store> store;
  std::string note;        // e.g. why O_DIRECT was not used
  bool direct = false;
};

OpenedStore openStore(const StoreSpec& spec);

}  // namespace kv
