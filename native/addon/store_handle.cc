// new StoreHandle(spec): a store opened from JS, for the lookup measurement: tinybench times these
// calls from the main thread, as a scheduler would make them (src/native/store-handle.ts).
#include <memory>
#include <unordered_map>
#include <vector>

#include "../core/backends/backend_bench.h"
#include "../core/backends/store_io.h"
#include "operation.h"
#include "operations.h"

namespace kvaddon {
namespace {

// lookup(key): the synchronous call a blocking scheduler makes (it waits for the store).
// lookupNonBlocking(key): hands the key to the handle's I/O thread (a StoreIo, as
// `kvbench load --backend` uses) and answers at once: "pending" (ask again later),
// then "hit" or "miss" once the store has answered ("error" if it failed).
class StoreHandle : public Napi::ObjectWrap<StoreHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "StoreHandle",
                       {InstanceMethod("put", &StoreHandle::Put), InstanceMethod("lookup", &StoreHandle::Lookup),
                        InstanceMethod("lookupNonBlocking", &StoreHandle::LookupNonBlocking),
                        InstanceMethod("close", &StoreHandle::Close)});
  }

  explicit StoreHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StoreHandle>(info) {
    Napi::Env env = info.Env();
    guard(env, [&] {
      const char* usage = "StoreHandle(spec): spec must be an object";
      store_ = kv::openStore(storeSpecFromJs(objectArg(info.Length() > 0 ? info[0] : env.Undefined(), usage))).store;
      io_ = std::make_unique<kv::StoreIo>(*store_, 1, 1 << 16, 1);
    });
  }

  ~StoreHandle() override { shutdown(); }

 private:
  Napi::Value Put(const Napi::CallbackInfo& info) {
    const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    const size_t bytes = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
    std::vector<uint64_t> data(bytes / 8);
    kv::recordData(key, data.data(), data.size());
    return guard(info.Env(), [&] { store()->put(key, data.data(), data.size() * 8); return info.Env().Undefined(); });
  }

  Napi::Value Lookup(const Napi::CallbackInfo& info) {
    const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    return guard(info.Env(), [&] { return Napi::Boolean::New(info.Env(), store()->contains(key)); });
  }

  Napi::Value LookupNonBlocking(const Napi::CallbackInfo& info) {
    const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    return guard(info.Env(), [&] {
      store();
      finished_.clear();
      io_->pollAll(finished_);
      for (const kv::StoreDone& d : finished_) answers_[d.request.key] = !d.ok ? -1 : d.found ? 1 : 0;
      auto it = answers_.find(key);
      if (it != answers_.end()) {
        const char* a = it->second == 1 ? "hit" : it->second == 0 ? "miss" : "error";
        answers_.erase(it);
        asked_.erase(key);
        return Napi::String::New(info.Env(), a);
      }
      if (!asked_.count(key)) {
        kv::StoreRequest r;
        r.op = kv::StoreOp::Contains;
        r.key = key;
        if (!io_->trySubmit(r)) throw kv::Error(kv::codes::kStoreIo, "lookup queue full");
        asked_[key] = true;
      }
      return Napi::String::New(info.Env(), "pending");
    });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    shutdown();
    return info.Env().Undefined();
  }

  kv::Store* store() {
    if (!store_) throw kv::Error(kv::codes::kBadInput, "store handle is closed");
    return store_.get();
  }

  void shutdown() {
    io_.reset();  // finishes queued lookups first
    if (store_) {
      store_->cleanup();
      store_.reset();
    }
  }

  std::unique_ptr<kv::Store> store_;
  std::unique_ptr<kv::StoreIo> io_;
  std::unordered_map<uint64_t, bool> asked_;
  std::unordered_map<uint64_t, int> answers_;
  std::vector<kv::StoreDone> finished_;
};

}  // namespace

Napi::Function StoreHandleClass(Napi::Env env) { return StoreHandle::Define(env); }

kv::StoreSpec storeSpecFromJs(const Napi::Object& o) {
  kv::StoreSpec p;
  p.backend = stringField(o, "backend");
  p.run = stringField(o, "run");
  const std::string f = stringField(o, "fsync");
  if (f != "never" && f != "always") badField("fsync", "must be never or always");
  p.fsync = f == "always" ? kv::FsyncPolicy::Always : kv::FsyncPolicy::Never;
  p.connections = intField(o, "connections");
  p.direct = boolField(o, "direct");
  Napi::Value r = o.Get("redis");
  if (r.IsObject()) {
    Napi::Object t = r.As<Napi::Object>();
    p.redis.host = stringField(t, "host");
    p.redis.user = stringField(t, "user");
    p.redis.password = stringField(t, "password");
    p.redis.port = intField(t, "port");
    p.redis.db = intField(t, "db");
    p.redis.tls = t.Get("tls").IsBoolean() && t.Get("tls").As<Napi::Boolean>().Value();
    p.redis.caFile = t.Get("caFile").IsString() ? t.Get("caFile").As<Napi::String>().Utf8Value() : std::string();
  }
  return p;
}

}  // namespace kvaddon
