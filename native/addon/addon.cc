// The N-API boundary: JS objects become plain structs, native work runs on an
// AsyncWorker off the main thread, kv::Error becomes a JS Error with `.code`.
#include <napi.h>

#include <atomic>
#include <functional>

#include "../core/cuda/device_info.h"
#include "../core/measure/measure.h"
#include "../core/cuda/pci_link.h"
#include "../core/run/save_load.h"
#include "../core/backends/backend_bench.h"
#include "../core/probes/stream_probes.h"
#include "convert.h"
#include "store_handle.h"

namespace kvaddon {
namespace {

// Runs `Work` on the libuv pool; resolves with `ToJs(result)` or rejects with a coded error.
template <typename Result>
class CoreWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  CoreWorker(Napi::Env env, Work work)
      : Napi::AsyncWorker(env, "kvbench"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      result_ = work_();
    } catch (const kv::Error& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = "INTERNAL";
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(toJs(Env(), result_)); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(toJsError(Env(), code_, e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  std::string code_;
};

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return toJs(env, kv::queryCudaInfo(), kv::queryNvml());
  } catch (const kv::Error& e) {
    throw toJsError(env, e.code, e.what());
  }
}

// The addon's one piece of run state: a signal asks the running save/load (after its current
// step) or backend bench (at its next store call) to stop; the core polls it and owns no global state.
std::atomic<bool> g_cancel{false};
// Store operations the running backend bench has done, read by runProgress() for a progress bar.
std::atomic<long long> g_progress{0};

Napi::Value RunSaveLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw toJsError(env, kv::codes::kBadInput, "runSaveLoad(plan): plan must be an object");
  kv::SaveLoadPlan plan;
  try {
    plan = saveLoadPlanFromJs(info[0].As<Napi::Object>());
  } catch (const kv::Error& e) {
    throw toJsError(env, e.code, e.what());
  }
  g_cancel.store(false);
  plan.cancel = &g_cancel;
  auto* w = new CoreWorker<kv::SaveLoadResult>(env, [plan] { return kv::runSaveLoad(plan); });
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value MemInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw toJsError(env, kv::codes::kBadInput, "memInfo(device): device must be a number");
  try {
    kv::DeviceMemory m = kv::queryMemory(info[0].As<Napi::Number>().Int32Value());
    Napi::Object o = Napi::Object::New(env);
    o.Set("freeBytes", static_cast<double>(m.freeBytes));
    o.Set("totalBytes", static_cast<double>(m.totalBytes));
    return o;
  } catch (const kv::Error& e) {
    throw toJsError(env, e.code, e.what());
  }
}

Napi::Value RunStreamProbes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw toJsError(env, kv::codes::kBadInput, "runStreamProbes(device): device must be a number");
  const int device = info[0].As<Napi::Number>().Int32Value();
  auto* w = new CoreWorker<std::vector<kv::ProbeResult>>(env, [device] { return kv::runStreamProbes(device); });
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value RunBackendBench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw toJsError(env, kv::codes::kBadInput, "runBackendBench(plan): plan must be an object");
  kv::BackendBenchPlan plan;
  try {
    plan = backendBenchPlanFromJs(info[0].As<Napi::Object>());
  } catch (const kv::Error& e) {
    throw toJsError(env, e.code, e.what());
  }
  g_cancel.store(false);
  g_progress.store(0);
  plan.cancel = &g_cancel;
  plan.progress = &g_progress;
  auto* w = new CoreWorker<kv::BackendBenchResult>(env, [plan] { return kv::runBackendBench(plan); });
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value RunProgress(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_progress.load()));
}

Napi::Value CancelRun(const Napi::CallbackInfo& info) {
  g_cancel.store(true);
  return info.Env().Undefined();
}

Napi::Value MeasureCeilings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw toJsError(env, kv::codes::kBadInput, "measureCeilings(plan): plan must be an object");
  kv::MeasurePlan plan;
  try {
    plan = measurePlanFromJs(info[0].As<Napi::Object>());
  } catch (const kv::Error& e) {
    throw toJsError(env, e.code, e.what());
  }
  auto* w = new CoreWorker<kv::MeasureResult>(env, [plan] { return kv::measureCeilings(plan); });
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace
}  // namespace kvaddon

static Napi::Object InitKvbench(Napi::Env env, Napi::Object exports) {
  using namespace kvaddon;
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
  exports.Set("measureCeilings", Napi::Function::New(env, MeasureCeilings, "measureCeilings"));
  exports.Set("runSaveLoad", Napi::Function::New(env, RunSaveLoad, "runSaveLoad"));
  exports.Set("runStreamProbes", Napi::Function::New(env, RunStreamProbes, "runStreamProbes"));
  exports.Set("runBackendBench", Napi::Function::New(env, RunBackendBench, "runBackendBench"));
  exports.Set("StoreHandle", storeHandleClass(env));
  exports.Set("memInfo", Napi::Function::New(env, MemInfo, "memInfo"));
  exports.Set("cancelRun", Napi::Function::New(env, CancelRun, "cancelRun"));
  exports.Set("runProgress", Napi::Function::New(env, RunProgress, "runProgress"));
  exports.Set("abiVersion", Napi::Number::New(env, 13));
  return exports;
}

NODE_API_MODULE(kvbench, InitKvbench)
