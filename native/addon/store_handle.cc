#include "store_handle.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../core/backends/backend_bench.h"
#include "convert.h"

namespace kvaddon {
namespace {

// lookup(key): the synchronous call a blocking scheduler makes (it waits for the store).
// lookupNonBlocking(key): hands the key to the handle's I/O thread and answers at once:
// "pending" (ask again later), then "hit" or "miss" once the store has answered.
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
    if (info.Length() < 1 || !info[0].IsObject()) throw toJsError(env, kv::codes::kBadInput, "StoreHandle(plan): plan must be an object");
    try {
      kv::BackendBenchPlan plan = backendBenchPlanFromJs(info[0].As<Napi::Object>());
      std::string note;
      bool direct = false;
      store_ = kv::openStore(plan, &note, &direct);
    } catch (const kv::Error& e) {
      throw toJsError(env, e.code, e.what());
    }
    worker_ = std::thread([this] { serve(); });
  }

  ~StoreHandle() override { shutdown(); }

 private:
  Napi::Value Put(const Napi::CallbackInfo& info) {
    const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    const size_t bytes = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
    std::vector<uint64_t> data(bytes / 8);
    kv::recordData(key, data.data(), data.size());
    return guarded(info.Env(), [&] { store()->put(key, data.data(), data.size() * 8); return info.Env().Undefined(); });
  }

  Napi::Value Lookup(const Napi::CallbackInfo& info) {
    const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    return guarded(info.Env(), [&] { return Napi::Boolean::New(info.Env(), store()->contains(key)); });
  }

  Napi::Value LookupNonBlocking(const Napi::CallbackInfo& info) {
    const uint64_t key = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    std::lock_guard<std::mutex> g(mutex_);
    auto it = answers_.find(key);
    if (it != answers_.end()) {
      const char* a = it->second == 1 ? "hit" : it->second == 0 ? "miss" : "error";
      answers_.erase(it);
      return Napi::String::New(info.Env(), a);
    }
    if (!pending_.count(key)) {
      pending_[key] = true;
      queue_.push_back(key);
      ready_.notify_one();
    }
    return Napi::String::New(info.Env(), "pending");
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    shutdown();
    return info.Env().Undefined();
  }

  kv::Store* store() {
    if (!store_) throw kv::Error(kv::codes::kBadInput, "store handle is closed");
    return store_.get();
  }

  template <typename Fn>
  Napi::Value guarded(Napi::Env env, Fn fn) {
    try {
      return fn();
    } catch (const kv::Error& e) {
      throw toJsError(env, e.code, e.what());
    }
  }

  void serve() {
    for (;;) {
      uint64_t key;
      {
        std::unique_lock<std::mutex> g(mutex_);
        ready_.wait(g, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        key = queue_.front();
        queue_.pop_front();
      }
      int answer = -1;
      try {
        answer = store_->contains(key) ? 1 : 0;
      } catch (const kv::Error&) {
        answer = -1;
      }
      std::lock_guard<std::mutex> g(mutex_);
      pending_.erase(key);
      answers_[key] = answer;
    }
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> g(mutex_);
      stop_ = true;
    }
    ready_.notify_all();
    if (worker_.joinable()) worker_.join();
    if (store_) {
      store_->cleanup();
      store_.reset();
    }
  }

  std::unique_ptr<kv::Store> store_;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<uint64_t> queue_;
  std::unordered_map<uint64_t, bool> pending_;
  std::unordered_map<uint64_t, int> answers_;
  bool stop_ = false;
};

}  // namespace

Napi::Function storeHandleClass(Napi::Env env) { return StoreHandle::Define(env); }

}  // namespace kvaddon
