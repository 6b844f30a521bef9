// The N-API boundary: JS objects become plain structs, native work runs on an
// AsyncWorker off the main thread, kv::Error becomes a JS Error with `.code`.
#include <napi.h>

#include <functional>

#include "../core/device_info.h"
#include "../core/measure.h"
#include "../core/pci_link.h"
#include "convert.h"

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
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(kvbench, InitKvbench)
