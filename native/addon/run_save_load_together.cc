// runSaveLoadTogether({plan, devices}): the same run on every GPU named at once, a worker each
// (save/load/mix --gpus; src/native/run-save-load.ts).
#include "operation.h"
#include "operations.h"
#include "run_control.h"
#include "save_load_fields.h"

namespace kvaddon {
namespace {

struct TogetherRequest {
  kv::SaveLoadPlan plan;
  std::vector<int> devices;
};

Napi::Value workerToJs(Napi::Env env, const kv::WorkerOutcome& w) {
  return JsObject(env)
      .set("device", w.device)
      .set("result", w.ended ? resultToJs(env, w.result) : env.Null())
      .set("code", OrNull{w.code})
      .set("error", OrNull{w.error})
      .set("stuck", w.stuck);
}

}  // namespace

Napi::Value RunSaveLoadTogether(const Napi::CallbackInfo& info) {
  const char* usage = "runSaveLoadTogether({plan, devices}): an object with the run's plan and the GPU indexes";
  return queueOperation(
      info, usage,
      [usage](const Napi::Value& v) {
        const Napi::Object o = objectArg(v, usage);
        TogetherRequest r{planFromJs(objectField(o, "plan")), intList(o, "devices")};
        startRun();
        r.plan.cancel = &cancelFlag();
        r.plan.stepsDone = &progressCount();
        r.plan.stepsTotal = &progressTotal();
        return r;
      },
      [](const TogetherRequest& r) { return kv::runSaveLoadTogether(r.plan, r.devices); },
      [](Napi::Env env, const std::vector<kv::WorkerOutcome>& r) -> Napi::Value { return JsObject(env).set("workers", listOf(env, r, workerToJs)); });
}

}  // namespace kvaddon
