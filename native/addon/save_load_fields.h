// The save/load plan read from JS and its result written back (one reader and one writer for
// runSaveLoad and runSaveLoadTogether).
#pragma once
#include <napi.h>

#include "../core/run/save_load.h"

namespace kvaddon {

kv::SaveLoadPlan planFromJs(const Napi::Object& o);
Napi::Value resultToJs(Napi::Env env, const kv::SaveLoadResult& r);

}  // namespace kvaddon
