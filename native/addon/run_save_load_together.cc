// runSaveLoadTogether({plan, devices, placements}): the same run on every GPU named at once, a worker each
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
  std::vector<kv::HostPlacement> placements;
};

kv::HostPlacement placementFromJs(const Napi::Value& v) {
  if (!v.IsObject()) badField("placements", "each must be an object {numaNode, cpus}");
  const Napi::Object o = v.As<Napi::Object>();
  kv::HostPlacement p;
  if (o.Get("numaNode").IsNumber()) p.numaNode = intField(o, "numaNode");  // null: unknown
  p.cpus = intList(o, "cpus");
  return p;
}

Napi::Value placementToJs(Napi::Env env, const kv::PlacementApplied& p) {
  if (!p.asked) return env.Null();
  return JsObject(env).set("cpusAllowed", p.cpusAllowed).set("memoryBound", p.memoryBound).set("note", OrNull{p.note});
}

Napi::Value workerToJs(Napi::Env env, const kv::WorkerOutcome& w) {
  return JsObject(env)
      .set("device", w.device)
      .set("result", w.ended ? resultToJs(env, w.result) : env.Null())
      .set("code", OrNull{w.code})
      .set("error", OrNull{w.error})
      .set("stuck", w.stuck)
      .set("placement", placementToJs(env, w.placement));
}

}  // namespace

Napi::Value RunSaveLoadTogether(const Napi::CallbackInfo& info) {
  const char* usage = "runSaveLoadTogether({plan, devices, placements}): an object with the run's plan, the GPU indexes and where each GPU's worker runs (or null)";
  return queueOperation(
      info, usage,
      [usage](const Napi::Value& v) {
        const Napi::Object o = objectArg(v, usage);
        TogetherRequest r{planFromJs(objectField(o, "plan")), intList(o, "devices"), {}};
        if (!o.Get("placements").IsNull() && !o.Get("placements").IsUndefined()) r.placements = listField<kv::HostPlacement>(o, "placements", placementFromJs);
        startRun();
        r.plan.cancel = &cancelFlag();
        r.plan.stepsDone = &progressCount();
        r.plan.stepsTotal = &progressTotal();
        return r;
      },
      [](const TogetherRequest& r) { return kv::runSaveLoadTogether(r.plan, r.devices, r.placements); },
      [](Napi::Env env, const std::vector<kv::WorkerOutcome>& r) -> Napi::Value { return JsObject(env).set("workers", listOf(env, r, workerToJs)); });
}

}  // namespace kvaddon
