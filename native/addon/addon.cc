// The N-API boundary: the addon's exports. Each operation is one file (operations.h); its
// argument is read into a plain struct, its work runs off the main thread, its result is
// written back as JS (operation.h).
#include <napi.h>

#include "../core/cuda/device_info.h"
#include "operations.h"

// The ABI number is written once, in src/native/abi.ts; binding.gyp passes it here.
#ifndef KVBENCH_ADDON_ABI
#error "KVBENCH_ADDON_ABI is set by binding.gyp from src/native/abi.ts"
#endif

static Napi::Object InitKvbench(Napi::Env env, Napi::Object exports) {
  using namespace kvaddon;
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
  exports.Set("ncclInfo", Napi::Function::New(env, NcclInfo, "ncclInfo"));
  exports.Set("ncclUniqueId", Napi::Function::New(env, NcclUniqueId, "ncclUniqueId"));
  exports.Set("memInfo", Napi::Function::New(env, MemInfo, "memInfo"));
  exports.Set("measureCeilings", Napi::Function::New(env, MeasureCeilings, "measureCeilings"));
  exports.Set("measureCeilingsTogether", Napi::Function::New(env, MeasureCeilingsTogether, "measureCeilingsTogether"));
  exports.Set("runSaveLoad", Napi::Function::New(env, RunSaveLoad, "runSaveLoad"));
  exports.Set("runSaveLoadTogether", Napi::Function::New(env, RunSaveLoadTogether, "runSaveLoadTogether"));
  exports.Set("runStreamProbes", Napi::Function::New(env, RunStreamProbes, "runStreamProbes"));
  exports.Set("runBackendBench", Napi::Function::New(env, RunBackendBench, "runBackendBench"));
  exports.Set("StoreHandle", StoreHandleClass(env));
  exports.Set("cancelRun", Napi::Function::New(env, CancelRun, "cancelRun"));
  exports.Set("runProgress", Napi::Function::New(env, RunProgress, "runProgress"));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  exports.Set("abortAllReduce", Napi::Function::New(env, AbortAllReduce, "abortAllReduce"));
  exports.Set("abiVersion", Napi::Number::New(env, KVBENCH_ADDON_ABI));
  exports.Set("noCudaMessage", Napi::String::New(env, kv::kNoCudaMessage));
  return exports;
}

NODE_API_MODULE(kvbench, InitKvbench)
