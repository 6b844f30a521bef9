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

}  // namespace kvaddon
