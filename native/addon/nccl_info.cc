// ncclInfo(): NCCL as the forward's all-reduce would load it (src/native/nccl-info.ts). Only `env`
// asks: loading the library is not free, and no other command needs to know before its run.
#include "../core/cuda/nccl_loader.h"
#include "operation.h"
#include "operations.h"

namespace kvaddon {

Napi::Value NcclInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const kv::Nccl nccl;
    const bool here = nccl.available();
    return JsObject(env)  // reason: why it cannot be used (null when it can)
        .set("library", OrNull{here ? nccl.source() : std::string()})
        .set("version", OrNull{here ? nccl.versionText() : std::string()})
        .set("reason", OrNull{here ? std::string() : nccl.source()});
  });
}

}  // namespace kvaddon
