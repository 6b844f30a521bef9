// cudaInfo(): the CUDA runtime and driver, and every GPU with its PCIe link (src/native/cuda-info.ts).
#include "../core/cuda/device_info.h"
#include "../core/cuda/pci_link.h"
#include "operation.h"
#include "operations.h"

namespace kvaddon {
namespace {

// -1 (not known) is null in JS.
Napi::Value orNull(Napi::Env env, int v) { return v < 0 ? env.Null() : Napi::Number::New(env, v); }

Napi::Value linkToJs(Napi::Env env, const kv::PciLink& l) {
  return JsObject(env)
      .set("currentGen", orNull(env, l.currentGen))
      .set("maxGen", orNull(env, l.maxGen))
      .set("currentWidth", orNull(env, l.currentWidth))
      .set("maxWidth", orNull(env, l.maxWidth))
      .set("source", OrNull{l.source});
}

Napi::Value gpuToJs(Napi::Env env, const kv::GpuInfo& g) {
  return JsObject(env)
      .set("index", g.index)
      .set("name", g.name)
      .set("uuid", g.uuid)
      .set("busId", g.busId)
      .set("computeCapability", std::to_string(g.ccMajor) + "." + std::to_string(g.ccMinor))
      .set("smCount", g.smCount)
      .set("memoryBytes", g.totalMemBytes)
      .set("l2Bytes", g.l2Bytes)
      .set("memoryBusWidthBits", g.memoryBusWidthBits)
      .set("copyEngines", g.copyEngines)
      .set("canMapHostMemory", g.canMapHostMemory)
      .set("pcie", linkToJs(env, kv::queryPciLink(g.busId)));
}

}  // namespace

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const kv::CudaInfo c = kv::queryCudaInfo();
    const kv::NvmlInfo nvml = kv::queryNvml();
    return JsObject(env)
        .set("builtWithCuda", c.builtWithCuda)
        .set("gencodes", c.gencodes)
        .set("runtimeVersion", c.runtimeVersion)
        .set("driverVersion", c.driverVersion)
        .set("driverRelease", OrNull{nvml.driverVersion})
        .set("nvml", nvml.available ? std::string("available") : nvml.reason)
        .set("errorName", OrNull{c.errorName})
        .set("errorMessage", OrNull{c.errorMessage})
        .set("gpus", listOf(env, c.gpus, gpuToJs));
  });
}

}  // namespace kvaddon
