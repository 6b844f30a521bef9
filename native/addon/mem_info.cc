// memInfo(device): the GPU's free and total memory, for the planner's fit check (src/native/mem-info.ts).
#include "../core/cuda/device_info.h"
#include "operation.h"
#include "operations.h"

namespace kvaddon {

Napi::Value MemInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const char* usage = "memInfo(device): device must be a number";
    const kv::DeviceMemory m = kv::queryMemory(deviceArg(info.Length() > 0 ? info[0] : env.Undefined(), usage));
    return JsObject(env).set("freeBytes", m.freeBytes).set("totalBytes", m.totalBytes);
  });
}

}  // namespace kvaddon
