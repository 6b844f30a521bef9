// The save/load plan read from JS and its result written back: shared by runSaveLoad and
// runSaveLoadTogether (src/native/run-save-load.ts).
#include "save_load_fields.h"

#include "operation.h"
#include "operations.h"

namespace kvaddon {
namespace {

kv::KvGeometry geometryFromJs(const Napi::Object& g) {
  kv::KvGeometry x;
  x.layers = intField(g, "layers");
  x.parts = intField(g, "parts");
  x.chunkBytes = sizeField(g, "chunkBytes");
  x.gpuBlocks = intField(g, "gpuBlocks");
  x.layout = static_cast<kv::Layout>(intField(g, "layout"));
  return x;
}

kv::ForwardShape shapeFromJs(const Napi::Object& f) {
  kv::ForwardShape s;
  s.batch = intField(f, "batch");
  s.contextBlocks = intField(f, "contextBlocks");
  s.kvHeads = intField(f, "kvHeads");
  s.headDim = intField(f, "headDim");
  s.queryHeads = intField(f, "queryHeads");
  s.hiddenSize = intField(f, "hiddenSize");
  s.mlpSize = intField(f, "mlpSize");
  s.blockSize = intField(f, "blockSize");
  return s;
}

kv::StagingL2 stagingL2FromJs(const Napi::Object& o) {
  const std::string l2 = stringField(o, "stagingL2");
  if (l2 == "normal") return kv::StagingL2::Normal;
  if (l2 == "persist") return kv::StagingL2::Persist;
  if (l2 == "auto") return kv::StagingL2::Auto;
  badField("stagingL2", "must be normal, persist or auto, got '" + l2 + "'");
}

}  // namespace

kv::SaveLoadPlan planFromJs(const Napi::Object& o) {

  kv::SaveLoadPlan p;
  p.device = intField(o, "device");
  p.load = boolField(o, "load");
  p.mix = boolField(o, "mix");
  p.strategies = namedList(o, "strategies", kv::kStrategies, kv::strategyName);
  p.designs = namedList(o, "designs", kv::kDesigns, kv::designName);
  p.geometry = geometryFromJs(objectField(o, "geometry"));
  p.shape = shapeFromJs(objectField(o, "forward"));
  Napi::Value allReduce = o.Get("allReduce");
  if (allReduce.IsObject()) {  // null: the forward has no all-reduce
    const Napi::Object a = allReduce.As<Napi::Object>();
    p.allReduce.on = true;
    p.allReduce.world = intField(a, "world");
    p.allReduce.rank = intField(a, "rank");
    Napi::Value id = a.Get("uniqueIdHex");
    if (id.IsString()) p.allReduce.uniqueIdHex = id.As<Napi::String>().Utf8Value();
  }
  p.transferBlocks = intField(o, "transferBlocks");
  p.blocksPerJob = intField(o, "blocksPerJob");
  p.steps = intField(o, "steps");
  p.warmupSteps = intField(o, "warmupSteps");
  p.offeredFactor = numberField(o, "offeredFactor");
  p.referenceSteps = intField(o, "referenceSteps");
  p.stagingBytes = sizeField(o, "stagingBytes");
  p.stagingSlots = intField(o, "stagingSlots");
  p.stagingSlotBytes = sizeField(o, "stagingSlotBytes");
  p.copyCtas = intField(o, "copyCtas");
  p.mappedCtas = intField(o, "mappedCtas");
  p.ceiling = measurePlanFromJs(objectField(o, "ceiling"));
  p.verify = boolField(o, "verify");
  p.fault = namedField(o, "fault", kv::kFaults, kv::faultName);
  p.prefixHitRate = numberField(o, "prefixHitRate");
  p.pickBest = boolField(o, "pickBest");
  p.streamingCopies = boolField(o, "streamingCopies");
  p.stagingL2 = stagingL2FromJs(o);
  p.batchSharePct = intField(o, "batchSharePct");
  if (p.batchSharePct > 100) badField("batchSharePct", "must be 0 to 100");
  p.traceSteps = intField(o, "traceSteps");
  Napi::Value store = o.Get("store");
  if (store.IsObject()) {  // null: the pinned pool is the store
    p.useStore = true;
    p.store.spec = storeSpecFromJs(store.As<Napi::Object>());
    p.store.ioThreads = p.store.spec.connections;
    p.store.queueDepth = sizeField(o, "storeQueueDepth");
    p.store.batch = intField(o, "storePipeline");
  }
  return p;
}

namespace {

Napi::Value storeToJs(Napi::Env env, const kv::DesignStore& s) {
  const kv::StoreCounters& c = s.counters;
  return JsObject(env)
      .set("putsDone", c.putsDone)
      .set("putsFailed", c.putsFailed)
      .set("putsDropped", c.putsDropped)
      .set("savesSkippedBusy", c.savesSkippedBusy)
      .set("getsDone", c.getsDone)
      .set("getsFailed", c.getsFailed)
      .set("lookupsFailed", c.lookupsFailed)
      .set("lookupsRefused", s.lookupsRefused)
      .set("requestsFailed", s.requestsFailed)
      .set("bytesPut", c.bytesPut)
      .set("bytesGot", c.bytesGot)
      .set("putMs", c.putMs)
      .set("getMs", c.getMs)
      .set("queueDepth", s.queueDepth)
      .set("recordsChecked", s.recordsChecked)
      .set("recordsUnreadable", s.recordsUnreadable)
      .set("mismatches", s.mismatches)
      .set("verifyError", OrNull{s.verifyError})
      .set("firstError", OrNull{c.firstError});
}

Napi::Value traceToJs(Napi::Env env, const kv::DesignTrace& t) {
  auto hook = [](Napi::Env e, const kv::TraceHookCall& h) -> Napi::Value { return JsObject(e).set("step", h.step).set("hook", h.hook).set("startUs", h.startUs).set("durUs", h.durUs); };
  auto step = [](Napi::Env e, const kv::TraceStep& s) -> Napi::Value {
    return JsObject(e)
        .set("step", s.step)
        .set("wallStartUs", s.wallStartUs)
        .set("wallEndUs", s.wallEndUs)
        .set("gpuStartUs", s.gpuStartUs)
        .set("gpuEndUs", s.gpuEndUs)
        .set("layerEndUs", s.layerEndUs)
        .set("kvWrittenUs", s.kvWrittenUs);
  };
  auto copy = [](Napi::Env e, const kv::TraceCopy& c) -> Napi::Value {
    return JsObject(e)
        .set("job", static_cast<double>(c.job))
        .set("step", c.step)
        .set("layer", c.layer)
        .set("bytes", c.bytes)
        .set("enqueueUs", c.enqueueUs)
        .set("enqueuedUs", c.enqueuedUs)
        .set("gpuStartUs", c.gpuStartUs)
        .set("gpuEndUs", c.gpuEndUs);
  };
  auto call = [](Napi::Env e, const kv::TraceStoreCall& c) -> Napi::Value {
    return JsObject(e)
        .set("op", c.op == 0 ? "put" : c.op == 1 ? "get" : "lookup")
        .set("thread", c.thread)
        .set("bytes", c.bytes)
        .set("queuedUs", c.queuedUs)
        .set("startUs", c.startUs)
        .set("doneUs", c.doneUs)
        .set("ok", c.ok);
  };
  return JsObject(env)
      .set("firstStep", t.firstStep)
      .set("steps", t.steps)
      .set("alignErrorUs", t.alignErrorUs)
      .set("hookNames", t.hookNames)
      .set("hooks", listOf(env, t.hooks, hook))
      .set("stepsTraced", listOf(env, t.stepsTraced, step))
      .set("copiesTraced", t.copiesTraced)
      .set("copies", listOf(env, t.copies, copy))
      .set("copiesDropped", t.copiesDropped)
      .set("storeCalls", listOf(env, t.storeCalls, call));
}

Napi::Value designToJs(Napi::Env env, const kv::DesignResult& x) {
  return JsObject(env)
      .set("design", x.design)
      .set("strategy", x.strategy)
      .set("stepGpuMs", x.stepGpuMs)
      .set("stepWallMs", x.stepWallMs)
      .set("hookUs", x.hookUs)
      .set("transferLatencyMs", x.transferLatencyMs)
      .set("bytesMoved", x.bytesMoved)
      .set("windowMs", x.windowMs)
      .set("jobsOffered", x.jobsOffered)
      .set("jobsDone", x.jobsDone)
      .set("jobsSkipped", x.jobsSkipped)
      .set("mismatches", x.mismatches)
      .set("chunksChecked", x.chunksChecked)
      .set("nonFinite", x.nonFinite)
      .set("requestsScheduled", x.requestsScheduled)
      .set("requestsNotReadySteps", x.requestsNotReadySteps)
      .set("offeredBytesPerStep", x.offeredBytesPerStep)
      .set("stepsRun", x.stepsRun)
      .set("connectorBusyUs", x.connectorBusyUs)
      .set("connectorAliveUs", x.connectorAliveUs)
      .set("allReduceMs", x.allReduceMs)
      .set("allReduceCalls", x.allReduceCalls)
      .set("allReduceMismatches", x.allReduceMismatches)
      .set("store", x.store.used ? storeToJs(env, x.store) : env.Null())
      .set("trace", x.trace.on ? traceToJs(env, x.trace) : env.Null())
      .set("directions", listOf(env, x.directions, designToJs));
}

Napi::Value strategyAloneToJs(Napi::Env env, const kv::StrategyAloneResult& x) {
  return JsObject(env)
      .set("strategy", x.strategy)
      .set("bytes", x.bytes)
      .set("saveMs", x.saveMs)
      .set("loadMs", x.loadMs)
      .set("saveEnqueueMs", x.saveEnqueueMs)
      .set("loadEnqueueMs", x.loadEnqueueMs)
      .set("saveSampleMs", x.saveSampleMs)
      .set("loadSampleMs", x.loadSampleMs)
      .set("sampleBytes", x.sampleBytes)
      .set("saveMismatches", x.saveMismatches)
      .set("loadMismatches", x.loadMismatches)
      .set("chunksChecked", x.chunksChecked);
}

Napi::Value storeAloneToJs(Napi::Env env, const kv::StoreAloneResult& l) {
  if (!l.ran) return env.Null();
  return JsObject(env)
      .set("bytes", l.bytes)
      .set("putMs", l.putMs)
      .set("getMs", l.getMs)
      .set("records", l.records)
      .set("putFailed", l.putFailed)
      .set("getFailed", l.getFailed)
      .set("mismatches", l.mismatches)
      .set("chunksChecked", l.chunksChecked)
      .set("firstError", OrNull{l.firstError});
}

Napi::Value hostNoiseToJs(Napi::Env env, const kv::HostNoise& h) {
  if (h.seconds <= 0) return env.Null();
  return JsObject(env)
      .set("seconds", h.seconds)
      .set("reps", h.reps)
      .set("repUs", h.repUs)
      .set("over10us", h.over10us)
      .set("over20us", h.over20us)
      .set("over50us", h.over50us)
      .set("slowReps", h.slowReps)
      .set("maxUs", h.maxUs);
}

Napi::Value referenceToJs(Napi::Env env, const kv::LinkReferenceResult& ref) {
  if (!ref.ran) return env.Null();
  return JsObject(env).set("steps", designToJs(env, ref.steps)).set("bytes", ref.bytes).set("saveBytes", ref.saveBytes).set("loadBytes", ref.loadBytes).set("chunkBytes", ref.chunkBytes);
}

}  // namespace

Napi::Value resultToJs(Napi::Env env, const kv::SaveLoadResult& r) {
  return JsObject(env)
      .set("ceilingH2dGBps", r.ceilingH2dGBps)
      .set("ceilingD2hGBps", r.ceilingD2hGBps)
      .set("ceilingBothGBps", r.ceilingBothGBps)
      .set("gemmEngine", r.gemmEngine)
      .set("allReduceLibrary", OrNull{r.allReduceLibrary})
      .set("flopsPerStep", r.flopsPerStep)
      .set("hbmBytesPerStep", r.hbmBytesPerStep)
      .set("cancelled", r.cancelled)
      .set("best", JsObject(env).set("save", OrNull{r.bestSave}).set("load", OrNull{r.bestLoad}))
      .set("notes", r.notes)
      .set("strategies", listOf(env, r.strategies, strategyAloneToJs))
      .set("designs", listOf(env, r.designs, designToJs))
      .set("store", OrNull{r.store})
      .set("storeNote", OrNull{r.storeNote})
      .set("storeDirect", r.storeDirect)
      .set("stagingInL2", r.stagingInL2)
      .set("storeAlone", storeAloneToJs(env, r.storeAlone))
      .set("hostNoise", hostNoiseToJs(env, r.hostNoise))
      .set("reference", referenceToJs(env, r.reference));
}

}  // namespace kvaddon
