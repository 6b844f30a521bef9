#include "convert.h"

namespace kvaddon {
namespace {

double numberField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must not be negative");
  return d;
}

bool boolField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsBoolean()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string stringField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsString()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object objectField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsObject()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must be an object");
  return v.As<Napi::Object>();
}

// Each element of array field `name`, through `read` (which refuses an element of the wrong kind).
template <class T, class Read>
std::vector<T> listField(const Napi::Object& o, const char* name, Read read) {
  Napi::Value v = o.Get(name);
  if (!v.IsArray()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must be an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<T> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(read(a.Get(i)));
  return out;
}

std::vector<int> intList(const Napi::Object& o, const char* name) {
  return listField<int>(o, name, [name](const Napi::Value& e) {
    if (!e.IsNumber()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' must hold numbers");
    return e.As<Napi::Number>().Int32Value();
  });
}

// The enum value named `name` (strategies, designs and faults cross the boundary by name), or bad input naming the field.
template <class E, size_t N>
E byName(const char* field, const std::string& name, const E (&all)[N], const char* (*nameOf)(E)) {
  for (E e : all)
    if (name == nameOf(e)) return e;
  throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + field + "' holds an unknown name '" + name + "'");
}

template <class E, size_t N>
std::vector<E> namedList(const Napi::Object& o, const char* field, const E (&all)[N], const char* (*nameOf)(E)) {
  return listField<E>(o, field, [&](const Napi::Value& e) {
    if (!e.IsString()) throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + field + "' must hold names");
    return byName(field, e.As<Napi::String>().Utf8Value(), all, nameOf);
  });
}

Napi::Array numbers(Napi::Env env, const std::vector<double>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(i, v[i]);
  return a;
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(i, v[i]);
  return a;
}

}  // namespace

Napi::Error toJsError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", code);
  return e;
}

Napi::Object toJs(Napi::Env env, const kv::CudaInfo& info, const kv::NvmlInfo& nvml) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("builtWithCuda", info.builtWithCuda);
  o.Set("gencodes", strings(env, info.gencodes));
  o.Set("runtimeVersion", info.runtimeVersion);
  o.Set("driverVersion", info.driverVersion);
  o.Set("driverRelease", nvml.driverVersion.empty() ? env.Null() : Napi::String::New(env, nvml.driverVersion));
  o.Set("nvml", nvml.available ? Napi::String::New(env, "available") : Napi::String::New(env, nvml.reason));
  o.Set("errorName", info.errorName.empty() ? env.Null() : Napi::String::New(env, info.errorName));
  o.Set("errorMessage", info.errorMessage.empty() ? env.Null() : Napi::String::New(env, info.errorMessage));
  Napi::Array gpus = Napi::Array::New(env, info.gpus.size());
  for (size_t i = 0; i < info.gpus.size(); ++i) {
    const kv::GpuInfo& g = info.gpus[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("index", g.index);
    j.Set("name", g.name);
    j.Set("uuid", g.uuid);
    j.Set("busId", g.busId);
    j.Set("computeCapability", std::to_string(g.ccMajor) + "." + std::to_string(g.ccMinor));
    j.Set("smCount", g.smCount);
    j.Set("memoryBytes", static_cast<double>(g.totalMemBytes));
    j.Set("l2Bytes", g.l2Bytes);
    j.Set("memoryBusWidthBits", g.memoryBusWidthBits);
    j.Set("copyEngines", g.copyEngines);
    j.Set("canMapHostMemory", g.canMapHostMemory);
    kv::PciLink link = kv::queryPciLink(g.busId);
    Napi::Object l = Napi::Object::New(env);
    auto orNull = [&](int v) { return v < 0 ? env.Null() : Napi::Number::New(env, v); };
    l.Set("currentGen", orNull(link.currentGen));
    l.Set("maxGen", orNull(link.maxGen));
    l.Set("currentWidth", orNull(link.currentWidth));
    l.Set("maxWidth", orNull(link.maxWidth));
    l.Set("source", link.source.empty() ? env.Null() : Napi::String::New(env, link.source));
    j.Set("pcie", l);
    gpus.Set(i, j);
  }
  o.Set("gpus", gpus);
  return o;
}

Napi::Object toJs(Napi::Env env, const kv::MeasureResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array copies = Napi::Array::New(env, r.copies.size());
  for (size_t i = 0; i < r.copies.size(); ++i) {
    const kv::CopyMeasurement& c = r.copies[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("id", c.id);
    j.Set("label", c.label);
    j.Set("bytesPerSample", static_cast<double>(c.bytesPerSample));
    j.Set("timer", c.timer);
    Napi::Array ms = Napi::Array::New(env, c.samplesMs.size());
    for (size_t k = 0; k < c.samplesMs.size(); ++k) ms.Set(k, c.samplesMs[k]);
    j.Set("samplesMs", ms);
    j.Set("verified", c.verified);
    j.Set("mismatches", static_cast<double>(c.mismatches));
    copies.Set(i, j);
  }
  o.Set("copies", copies);
  return o;
}

kv::MeasurePlan measurePlanFromJs(const Napi::Object& o) {
  kv::MeasurePlan p;
  p.device = static_cast<int>(numberField(o, "device"));
  p.bytes = static_cast<size_t>(numberField(o, "bytes"));
  p.pageableBytes = static_cast<size_t>(numberField(o, "pageableBytes"));
  p.iterations = static_cast<int>(numberField(o, "iterations"));
  p.pageableIterations = static_cast<int>(numberField(o, "pageableIterations"));
  p.warmup = static_cast<int>(numberField(o, "warmup"));
  p.smallBytes = static_cast<size_t>(numberField(o, "smallBytes"));
  p.smallIterations = static_cast<int>(numberField(o, "smallIterations"));
  p.verify = boolField(o, "verify");
  return p;
}

kv::SaveLoadPlan saveLoadPlanFromJs(const Napi::Object& o) {
  kv::SaveLoadPlan p;
  p.device = static_cast<int>(numberField(o, "device"));
  p.load = boolField(o, "load");
  p.strategies = namedList(o, "strategies", kv::kStrategies, kv::strategyName);
  p.designs = namedList(o, "designs", kv::kDesigns, kv::designName);
  Napi::Object g = objectField(o, "geometry");
  p.geometry.layers = static_cast<int>(numberField(g, "layers"));
  p.geometry.parts = static_cast<int>(numberField(g, "parts"));
  p.geometry.chunkBytes = static_cast<size_t>(numberField(g, "chunkBytes"));
  p.geometry.gpuBlocks = static_cast<int>(numberField(g, "gpuBlocks"));
  p.geometry.layout = static_cast<kv::Layout>(static_cast<int>(numberField(g, "layout")));
  Napi::Object f = objectField(o, "forward");
  p.shape.batch = static_cast<int>(numberField(f, "batch"));
  p.shape.contextBlocks = static_cast<int>(numberField(f, "contextBlocks"));
  p.shape.kvHeads = static_cast<int>(numberField(f, "kvHeads"));
  p.shape.headDim = static_cast<int>(numberField(f, "headDim"));
  p.shape.queryHeads = static_cast<int>(numberField(f, "queryHeads"));
  p.shape.hiddenSize = static_cast<int>(numberField(f, "hiddenSize"));
  p.shape.mlpSize = static_cast<int>(numberField(f, "mlpSize"));
  p.shape.blockSize = static_cast<int>(numberField(f, "blockSize"));
  p.transferBlocks = static_cast<int>(numberField(o, "transferBlocks"));
  p.blocksPerJob = static_cast<int>(numberField(o, "blocksPerJob"));
  p.steps = static_cast<int>(numberField(o, "steps"));
  p.warmupSteps = static_cast<int>(numberField(o, "warmupSteps"));
  p.offeredFactor = numberField(o, "offeredFactor");
  p.referenceSteps = static_cast<int>(numberField(o, "referenceSteps"));
  if (p.referenceSteps < 0) throw kv::Error(kv::codes::kBadInput, "plan field 'referenceSteps' must be 0 or more");
  p.stagingBytes = static_cast<size_t>(numberField(o, "stagingBytes"));
  p.stagingSlots = static_cast<int>(numberField(o, "stagingSlots"));
  p.stagingSlotBytes = static_cast<size_t>(numberField(o, "stagingSlotBytes"));
  p.copyCtas = static_cast<int>(numberField(o, "copyCtas"));
  p.mappedCtas = static_cast<int>(numberField(o, "mappedCtas"));
  p.ceiling = measurePlanFromJs(objectField(o, "ceiling"));
  p.verify = boolField(o, "verify");
  p.fault = byName("fault", stringField(o, "fault"), kv::kFaults, kv::faultName);
  p.prefixHitRate = numberField(o, "prefixHitRate");
  p.pickBest = boolField(o, "pickBest");
  p.streamingCopies = boolField(o, "streamingCopies");
  const std::string l2 = stringField(o, "stagingL2");
  if (l2 == "normal") p.stagingL2 = kv::StagingL2::Normal;
  else if (l2 == "persist") p.stagingL2 = kv::StagingL2::Persist;
  else if (l2 == "auto") p.stagingL2 = kv::StagingL2::Auto;
  else throw kv::Error(kv::codes::kBadInput, "save/load plan: stagingL2 must be normal, persist or auto, got '" + l2 + "'");
  Napi::Value share = o.Get("batchSharePct");  // absent in older plans: 0
  p.batchSharePct = share.IsNumber() ? share.As<Napi::Number>().Int32Value() : 0;
  if (p.batchSharePct < 0 || p.batchSharePct > 100) throw kv::Error(kv::codes::kBadInput, "plan field 'batchSharePct' must be 0 to 100");
  Napi::Value store = o.Get("store");
  if (store.IsObject()) {  // null: the pinned pool is the store
    p.useStore = true;
    p.store.spec = storeSpecFromJs(store.As<Napi::Object>());
    p.store.ioThreads = p.store.spec.connections;
    p.store.queueDepth = static_cast<size_t>(numberField(o, "storeQueueDepth"));
    p.store.batch = static_cast<int>(numberField(o, "storePipeline"));
  }
  return p;
}

Napi::Object toJs(Napi::Env env, const kv::ConcurrentStore& s) {
  const kv::StoreCounters& c = s.counters;
  Napi::Object o = Napi::Object::New(env);
  o.Set("putsDone", static_cast<double>(c.putsDone));
  o.Set("putsFailed", static_cast<double>(c.putsFailed));
  o.Set("putsDropped", static_cast<double>(c.putsDropped));
  o.Set("savesSkippedBusy", static_cast<double>(c.savesSkippedBusy));
  o.Set("getsDone", static_cast<double>(c.getsDone));
  o.Set("getsFailed", static_cast<double>(c.getsFailed));
  o.Set("lookupsFailed", static_cast<double>(c.lookupsFailed));
  o.Set("lookupsRefused", static_cast<double>(s.lookupsRefused));
  o.Set("requestsFailed", static_cast<double>(s.requestsFailed));
  o.Set("bytesPut", c.bytesPut);
  o.Set("bytesGot", c.bytesGot);
  o.Set("putMs", numbers(env, c.putMs));
  o.Set("getMs", numbers(env, c.getMs));
  o.Set("queueDepth", numbers(env, s.queueDepth));
  o.Set("recordsChecked", static_cast<double>(s.recordsChecked));
  o.Set("recordsUnreadable", static_cast<double>(s.recordsUnreadable));
  o.Set("mismatches", static_cast<double>(s.mismatches));
  o.Set("verifyError", s.verifyError.empty() ? env.Null() : Napi::String::New(env, s.verifyError));
  o.Set("firstError", c.firstError.empty() ? env.Null() : Napi::String::New(env, c.firstError));
  return o;
}

Napi::Object toJs(Napi::Env env, const kv::ConcurrentResult& x) {
  Napi::Object j = Napi::Object::New(env);
  j.Set("design", x.design);
  j.Set("strategy", x.strategy);
  j.Set("stepGpuMs", numbers(env, x.stepGpuMs));
  j.Set("stepWallMs", numbers(env, x.stepWallMs));
  Napi::Object hooks = Napi::Object::New(env);
  for (const auto& [name, us] : x.hookUs) hooks.Set(name, numbers(env, us));
  j.Set("hookUs", hooks);
  j.Set("transferLatencyMs", numbers(env, x.transferLatencyMs));
  j.Set("bytesMoved", x.bytesMoved);
  j.Set("windowMs", x.windowMs);
  j.Set("jobsOffered", static_cast<double>(x.jobsOffered));
  j.Set("jobsDone", static_cast<double>(x.jobsDone));
  j.Set("jobsSkipped", static_cast<double>(x.jobsSkipped));
  j.Set("mismatches", static_cast<double>(x.mismatches));
  j.Set("chunksChecked", static_cast<double>(x.chunksChecked));
  j.Set("nonFinite", static_cast<double>(x.nonFinite));
  j.Set("requestsScheduled", static_cast<double>(x.requestsScheduled));
  j.Set("requestsNotReadySteps", static_cast<double>(x.requestsNotReadySteps));
  j.Set("offeredBytesPerStep", x.offeredBytesPerStep);
  j.Set("stepsRun", x.stepsRun);
  j.Set("store", x.store.used ? toJs(env, x.store) : env.Null());
  return j;
}

Napi::Object toJs(Napi::Env env, const kv::SaveLoadResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ceilingH2dGBps", r.ceilingH2dGBps);
  o.Set("ceilingD2hGBps", r.ceilingD2hGBps);
  o.Set("gemmEngine", r.gemmEngine);
  o.Set("flopsPerStep", r.flopsPerStep);
  o.Set("hbmBytesPerStep", r.hbmBytesPerStep);
  o.Set("cancelled", r.cancelled);
  auto orNull = [&](const std::string& name) { return name.empty() ? env.Null() : Napi::String::New(env, name); };
  o.Set("picked", orNull(r.picked));
  Napi::Object best = Napi::Object::New(env);
  best.Set("save", orNull(r.bestSave));
  best.Set("load", orNull(r.bestLoad));
  o.Set("best", best);
  o.Set("notes", strings(env, r.notes));
  Napi::Array t = Napi::Array::New(env, r.transfers.size());
  for (size_t i = 0; i < r.transfers.size(); ++i) {
    const kv::TransferResult& x = r.transfers[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("strategy", x.strategy);
    j.Set("bytes", x.bytes);
    j.Set("saveMs", x.saveMs);
    j.Set("loadMs", x.loadMs);
    j.Set("saveEnqueueMs", x.saveEnqueueMs);
    j.Set("loadEnqueueMs", x.loadEnqueueMs);
    j.Set("saveSampleMs", numbers(env, x.saveSampleMs));
    j.Set("loadSampleMs", numbers(env, x.loadSampleMs));
    j.Set("sampleBytes", numbers(env, x.sampleBytes));
    j.Set("saveMismatches", static_cast<double>(x.saveMismatches));
    j.Set("loadMismatches", static_cast<double>(x.loadMismatches));
    j.Set("chunksChecked", static_cast<double>(x.chunksChecked));
    t.Set(i, j);
  }
  o.Set("transfers", t);
  Napi::Array c = Napi::Array::New(env, r.concurrent.size());
  for (size_t i = 0; i < r.concurrent.size(); ++i) c.Set(i, toJs(env, r.concurrent[i]));
  o.Set("concurrent", c);
  o.Set("store", r.store.empty() ? env.Null() : Napi::String::New(env, r.store));
  o.Set("storeNote", r.storeNote.empty() ? env.Null() : Napi::String::New(env, r.storeNote));
  o.Set("storeDirect", r.storeDirect);
  o.Set("stagingInL2", r.stagingInL2);
  if (r.storeLeg.ran) {
    Napi::Object l = Napi::Object::New(env);
    l.Set("bytes", r.storeLeg.bytes);
    l.Set("putMs", r.storeLeg.putMs);
    l.Set("getMs", r.storeLeg.getMs);
    l.Set("records", static_cast<double>(r.storeLeg.records));
    l.Set("putFailed", static_cast<double>(r.storeLeg.putFailed));
    l.Set("getFailed", static_cast<double>(r.storeLeg.getFailed));
    l.Set("mismatches", static_cast<double>(r.storeLeg.mismatches));
    l.Set("chunksChecked", static_cast<double>(r.storeLeg.chunksChecked));
    l.Set("firstError", r.storeLeg.firstError.empty() ? env.Null() : Napi::String::New(env, r.storeLeg.firstError));
    o.Set("storeLeg", l);
  } else {
    o.Set("storeLeg", env.Null());
  }
  if (r.hostNoise.seconds > 0) {
    Napi::Object h = Napi::Object::New(env);
    h.Set("seconds", r.hostNoise.seconds);
    h.Set("reps", static_cast<double>(r.hostNoise.reps));
    h.Set("repUs", r.hostNoise.repUs);
    h.Set("over10us", static_cast<double>(r.hostNoise.over10us));
    h.Set("over20us", static_cast<double>(r.hostNoise.over20us));
    h.Set("over50us", static_cast<double>(r.hostNoise.over50us));
    h.Set("slowReps", static_cast<double>(r.hostNoise.slowReps));
    h.Set("maxUs", r.hostNoise.maxUs);
    o.Set("hostNoise", h);
  } else {
    o.Set("hostNoise", env.Null());
  }
  if (r.reference.ran) {
    Napi::Object ref = Napi::Object::New(env);
    ref.Set("steps", toJs(env, r.reference.steps));
    ref.Set("bytes", r.reference.bytes);
    ref.Set("chunkBytes", static_cast<double>(r.reference.chunkBytes));
    o.Set("reference", ref);
  } else {
    o.Set("reference", env.Null());
  }
  return o;
}

Napi::Array toJs(Napi::Env env, const std::vector<kv::ProbeResult>& r) {
  Napi::Array a = Napi::Array::New(env, r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", r[i].id);
    o.Set("outcome", r[i].outcome);
    o.Set("evidence", r[i].evidence);
    a.Set(i, o);
  }
  return a;
}

kv::StoreSpec storeSpecFromJs(const Napi::Object& o) {
  kv::StoreSpec p;
  Napi::Value b = o.Get("backend"), run = o.Get("run"), fsync = o.Get("fsync");
  if (!b.IsString() || !run.IsString() || !fsync.IsString())
    throw kv::Error(kv::codes::kBadInput, "store fields 'backend', 'run' and 'fsync' must be strings");
  p.backend = b.As<Napi::String>().Utf8Value();
  p.run = run.As<Napi::String>().Utf8Value();
  const std::string f = fsync.As<Napi::String>().Utf8Value();
  if (f != "never" && f != "always") throw kv::Error(kv::codes::kBadInput, "store field 'fsync' must be never or always");
  p.fsync = f == "always" ? kv::FsyncPolicy::Always : kv::FsyncPolicy::Never;
  p.connections = static_cast<int>(numberField(o, "connections"));
  p.direct = boolField(o, "direct");
  Napi::Value r = o.Get("redis");
  if (r.IsObject()) {
    Napi::Object t = r.As<Napi::Object>();
    auto str = [&](const char* k) {
      Napi::Value v = t.Get(k);
      if (!v.IsString()) throw kv::Error(kv::codes::kBadInput, std::string("store field 'redis.") + k + "' must be a string");
      return v.As<Napi::String>().Utf8Value();
    };
    p.redis.host = str("host");
    p.redis.user = str("user");
    p.redis.password = str("password");
    p.redis.port = static_cast<int>(numberField(t, "port"));
    p.redis.db = static_cast<int>(numberField(t, "db"));
    p.redis.tls = t.Get("tls").IsBoolean() && t.Get("tls").As<Napi::Boolean>().Value();
    p.redis.caFile = t.Get("caFile").IsString() ? t.Get("caFile").As<Napi::String>().Utf8Value() : std::string();
  }
  return p;
}

kv::BackendBenchPlan backendBenchPlanFromJs(const Napi::Object& o) {
  kv::BackendBenchPlan p;
  p.store = storeSpecFromJs(objectField(o, "store"));
  for (int s : intList(o, "sizes")) {
    if (s <= 0) throw kv::Error(kv::codes::kBadInput, "plan field 'sizes' must be positive");
    p.sizes.push_back(static_cast<size_t>(s));
  }
  p.ops = intList(o, "ops");
  p.pipeline = static_cast<int>(numberField(o, "pipeline"));
  p.verify = boolField(o, "verify");
  p.corruptOne = boolField(o, "corruptOne");
  return p;
}

Napi::Object toJs(Napi::Env env, const kv::BackendBenchResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("store", r.store);
  o.Set("note", r.note.empty() ? env.Null() : Napi::String::New(env, r.note));
  o.Set("direct", r.direct);
  o.Set("cancelled", r.cancelled);
  Napi::Array sizes = Napi::Array::New(env, r.sizes.size());
  for (size_t i = 0; i < r.sizes.size(); ++i) {
    const kv::SizeResult& s = r.sizes[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("bytes", static_cast<double>(s.bytes));
    j.Set("ops", s.ops);
    j.Set("putUs", numbers(env, s.putUs));
    j.Set("getUs", numbers(env, s.getUs));
    j.Set("putWallMs", s.putWallMs);
    j.Set("getWallMs", s.getWallMs);
    j.Set("putFailed", static_cast<double>(s.putFailed));
    j.Set("getMissing", static_cast<double>(s.getMissing));
    j.Set("getCorrupt", static_cast<double>(s.getCorrupt));
    j.Set("mismatches", static_cast<double>(s.mismatches));
    j.Set("firstError", s.firstError.empty() ? env.Null() : Napi::String::New(env, s.firstError));
    sizes.Set(i, j);
  }
  o.Set("sizes", sizes);
  return o;
}

}  // namespace kvaddon
