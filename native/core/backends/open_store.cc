#include "open_store.h"

#include "host_store.h"
#include "plugin_store.h"

namespace kv {

OpenedStore openStore(const StoreSpec& s) {
  OpenedStore o;
  if (s.backend == "host") {
    o.store = std::make_unique<HostStore>();
  } else if (s.backend.rfind("file:", 0) == 0) {
    auto fs = std::make_unique<FileStore>(s.backend.substr(5), s.run, s.fsync, s.direct);
    o.note = fs->note();
    o.direct = fs->direct();
    o.store = std::move(fs);
  } else if (s.backend == "redis") {
    o.store = std::make_unique<RedisStore>(s.redis, s.run, s.connections);
  } else if (s.backend.rfind("plugin:", 0) == 0) {
    o.store = std::make_unique<PluginStore>(s.backend.substr(7), s.run);
  } else {
    throw Error(codes::kStoreConfig, "--backend " + s.backend + ": unknown backend (host, file:DIR, redis://, plugin:PATH.so)");
  }
  return o;
}

}  // namespace kv
