// runBackendBench(plan): each store alone, per record size (src/native/run-backend-bench.ts).
#include "../core/backends/backend_bench.h"
#include "operation.h"
#include "operations.h"
#include "run_control.h"

namespace kvaddon {
namespace {

kv::BackendBenchPlan planFromJs(const Napi::Object& o) {
  kv::BackendBenchPlan p;
  p.store = storeSpecFromJs(objectField(o, "store"));
  for (int s : intList(o, "sizes")) {
    if (s <= 0) badField("sizes", "must be positive");
    p.sizes.push_back(static_cast<size_t>(s));
  }
  p.ops = intList(o, "ops");
  p.pipeline = intField(o, "pipeline");
  p.verify = boolField(o, "verify");
  p.corruptOne = boolField(o, "corruptOne");
  p.trace = boolField(o, "trace");
  return p;
}

Napi::Value callToJs(Napi::Env env, const kv::StoreCall& c) {
  return JsObject(env).set("thread", c.thread).set("op", c.put ? "put" : "get").set("records", c.records).set("startUs", c.startUs).set("us", c.us);
}

Napi::Value sizeToJs(Napi::Env env, const kv::SizeResult& s) {
  return JsObject(env)
      .set("bytes", s.bytes)
      .set("ops", s.ops)
      .set("putUs", s.putUs)
      .set("getUs", s.getUs)
      .set("putWallMs", s.putWallMs)
      .set("getWallMs", s.getWallMs)
      .set("putFailed", s.putFailed)
      .set("getMissing", s.getMissing)
      .set("getCorrupt", s.getCorrupt)
      .set("mismatches", s.mismatches)
      .set("firstError", OrNull{s.firstError})
      .set("calls", listOf(env, s.calls, callToJs));
}

Napi::Value resultToJs(Napi::Env env, const kv::BackendBenchResult& r) {
  return JsObject(env)
      .set("store", r.store)
      .set("note", OrNull{r.note})
      .set("direct", r.direct)
      .set("cancelled", r.cancelled)
      .set("sizes", listOf(env, r.sizes, sizeToJs));
}

}  // namespace

Napi::Value RunBackendBench(const Napi::CallbackInfo& info) {
  const char* usage = "runBackendBench(plan): plan must be an object";
  return queueOperation(
      info, usage,
      [usage](const Napi::Value& v) {
        kv::BackendBenchPlan p = planFromJs(objectArg(v, usage));
        startRun();
        p.cancel = &cancelFlag();
        p.progress = &progressCount();
        return p;
      },
      [](const kv::BackendBenchPlan& p) { return kv::runBackendBench(p); }, resultToJs);
}

}  // namespace kvaddon
