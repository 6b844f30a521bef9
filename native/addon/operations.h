// The addon's operations, one file each (native/addon/<operation>.cc, typed in
// src/native/<operation>.ts), and the readers two of them share.
#pragma once
#include <napi.h>

#include "../core/backends/open_store.h"
#include "../core/measure/measure.h"

namespace kvaddon {

Napi::Value CudaInfo(const Napi::CallbackInfo& info);
Napi::Value NcclInfo(const Napi::CallbackInfo& info);
Napi::Value NcclUniqueId(const Napi::CallbackInfo& info);
Napi::Value MemInfo(const Napi::CallbackInfo& info);
Napi::Value MeasureCeilings(const Napi::CallbackInfo& info);
Napi::Value MeasureCeilingsTogether(const Napi::CallbackInfo& info);
Napi::Value RunSaveLoad(const Napi::CallbackInfo& info);
Napi::Value RunSaveLoadTogether(const Napi::CallbackInfo& info);
Napi::Value RunStreamProbes(const Napi::CallbackInfo& info);
Napi::Value RunBackendBench(const Napi::CallbackInfo& info);
Napi::Function StoreHandleClass(Napi::Env env);
Napi::Value CancelRun(const Napi::CallbackInfo& info);
Napi::Value RunProgress(const Napi::CallbackInfo& info);
Napi::Value ExitNow(const Napi::CallbackInfo& info);
Napi::Value AbortAllReduce(const Napi::CallbackInfo& info);

// measure_ceilings.cc: env --measure's plan, and the ceilings a save/load run reads.
kv::MeasurePlan measurePlanFromJs(const Napi::Object& o);
Napi::Value copyToJs(Napi::Env env, const kv::CopyMeasurement& c);
// store_handle.cc: which store to open (backend bench, save/load --backend, the store handle).
kv::StoreSpec storeSpecFromJs(const Napi::Object& o);

}  // namespace kvaddon
