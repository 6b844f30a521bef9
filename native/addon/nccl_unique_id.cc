// ncclUniqueId(): a new NCCL communicator id as hex, which rank 0 of a launcher's world hands the
// other ranks through the rendezvous (src/native/nccl-unique-id.ts, src/core/launch/rendezvous.ts).
#include "../core/common/error.h"
#include "../core/cuda/nccl_loader.h"
#include "operation.h"
#include "operations.h"

namespace kvaddon {

Napi::Value NcclUniqueId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const kv::Nccl nccl;
    if (!nccl.available()) throw kv::Error(kv::codes::kBadInput, "--all-reduce nccl: " + nccl.source());
    return Napi::String::New(env, nccl.uniqueId().hex());
  });
}

}  // namespace kvaddon
