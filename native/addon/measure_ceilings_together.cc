// measureCeilingsTogether({plan, devices}): each GPU's pinned copies while every GPU named copies at
// once (env --measure --gpus; src/native/measure-ceilings.ts).
#include "operation.h"
#include "operations.h"

namespace kvaddon {
namespace {

struct TogetherRequest {
  kv::MeasurePlan plan;
  std::vector<int> devices;
};

Napi::Value deviceToJs(Napi::Env env, const kv::DeviceCeilings& d) {
  return JsObject(env).set("device", d.device).set("copies", listOf(env, d.copies, copyToJs));
}

}  // namespace

Napi::Value MeasureCeilingsTogether(const Napi::CallbackInfo& info) {
  const char* usage = "measureCeilingsTogether({plan, devices}): an object with the measure plan and the GPU indexes";
  return queueOperation(
      info, usage,
      [usage](const Napi::Value& v) {
        const Napi::Object o = objectArg(v, usage);
        return TogetherRequest{measurePlanFromJs(objectField(o, "plan")), intList(o, "devices")};
      },
      [](const TogetherRequest& r) { return kv::measureCeilingsTogether(r.plan, r.devices); },
      [](Napi::Env env, const std::vector<kv::DeviceCeilings>& r) -> Napi::Value { return JsObject(env).set("devices", listOf(env, r, deviceToJs)); });
}

}  // namespace kvaddon
