// runStreamProbes(device): the native stream probes of audit-streams (src/native/run-stream-probes.ts).
#include "../core/probes/stream_probes.h"
#include "operation.h"
#include "operations.h"

namespace kvaddon {

Napi::Value RunStreamProbes(const Napi::CallbackInfo& info) {
  const char* usage = "runStreamProbes(device): device must be a number";
  return queueOperation(
      info, usage, [usage](const Napi::Value& v) { return deviceArg(v, usage); }, [](int device) { return kv::runStreamProbes(device); },
      [](Napi::Env env, const std::vector<kv::ProbeResult>& r) -> Napi::Value {
        return listOf(env, r, [](Napi::Env e, const kv::ProbeResult& p) -> Napi::Value {
          return JsObject(e).set("id", p.id).set("outcome", p.outcome).set("evidence", p.evidence);
        });
      });
}

}  // namespace kvaddon
