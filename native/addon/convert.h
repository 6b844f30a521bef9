// JS <-> plain C++ struct conversion for the addon boundary. Field names here are
// the TypeScript names in src/native.ts.
#pragma once
#include <napi.h>

#include "../core/cuda/device_info.h"
#include "../core/common/error.h"
#include "../core/measure/measure.h"
#include "../core/cuda/pci_link.h"
#include "../core/run/save_load.h"
#include "../core/backends/backend_bench.h"
#include "../core/probes/stream_probes.h"

namespace kvaddon {

Napi::Error toJsError(Napi::Env env, const std::string& code, const std::string& message);

Napi::Object toJs(Napi::Env env, const kv::CudaInfo& info, const kv::NvmlInfo& nvml);
Napi::Object toJs(Napi::Env env, const kv::MeasureResult& r);

// Throws kv::Error(BAD_INPUT) naming the missing or mistyped field.
kv::MeasurePlan measurePlanFromJs(const Napi::Object& o);
kv::SaveLoadPlan saveLoadPlanFromJs(const Napi::Object& o);
Napi::Object toJs(Napi::Env env, const kv::SaveLoadResult& r);
Napi::Array toJs(Napi::Env env, const std::vector<kv::ProbeResult>& r);
kv::StoreSpec storeSpecFromJs(const Napi::Object& o);
kv::BackendBenchPlan backendBenchPlanFromJs(const Napi::Object& o);
Napi::Object toJs(Napi::Env env, const kv::BackendBenchResult& r);

}  // namespace kvaddon
