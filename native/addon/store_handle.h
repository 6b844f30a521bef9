// A store opened from JS, for the lookup measurement: tinybench times these calls
// from the main thread, as a scheduler would make them.
#pragma once
#include <napi.h>

namespace kvaddon {

Napi::Function storeHandleClass(Napi::Env env);

}  // namespace kvaddon
