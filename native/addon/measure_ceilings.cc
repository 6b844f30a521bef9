// measureCeilings(plan): the link's copy ceilings, each copy's samples (src/native/measure-ceilings.ts).
#include "operation.h"
#include "operations.h"

namespace kvaddon {

Napi::Value copyToJs(Napi::Env env, const kv::CopyMeasurement& c) {
  return JsObject(env)
      .set("id", c.id)
      .set("label", c.label)
      .set("bytesPerSample", c.bytesPerSample)
      .set("timer", c.timer)
      .set("samplesMs", c.samplesMs)
      .set("verified", c.verified)
      .set("mismatches", c.mismatches);
}

kv::MeasurePlan measurePlanFromJs(const Napi::Object& o) {
  kv::MeasurePlan p;
  p.device = intField(o, "device");
  p.bytes = sizeField(o, "bytes");
  p.pageableBytes = sizeField(o, "pageableBytes");
  p.iterations = intField(o, "iterations");
  p.pageableIterations = intField(o, "pageableIterations");
  p.warmup = intField(o, "warmup");
  p.smallBytes = sizeField(o, "smallBytes");
  p.smallIterations = intField(o, "smallIterations");
  p.verify = boolField(o, "verify");
  return p;
}

Napi::Value MeasureCeilings(const Napi::CallbackInfo& info) {
  const char* usage = "measureCeilings(plan): plan must be an object";
  return queueOperation(
      info, usage, [usage](const Napi::Value& v) { return measurePlanFromJs(objectArg(v, usage)); }, [](const kv::MeasurePlan& p) { return kv::measureCeilings(p); },
      [](Napi::Env env, const kv::MeasureResult& r) -> Napi::Value { return JsObject(env).set("copies", listOf(env, r.copies, copyToJs)); });
}

}  // namespace kvaddon
