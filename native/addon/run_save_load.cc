// runSaveLoad(plan): one save, load or mixed run beside the synthetic forward (src/native/run-save-load.ts).
#include "operation.h"
#include "operations.h"
#include "run_control.h"
#include "save_load_fields.h"

namespace kvaddon {

Napi::Value RunSaveLoad(const Napi::CallbackInfo& info) {
  const char* usage = "runSaveLoad(plan): plan must be an object";
  return queueOperation(
      info, usage,
      [usage](const Napi::Value& v) {
        kv::SaveLoadPlan p = planFromJs(objectArg(v, usage));
        startRun();
        p.cancel = &cancelFlag();
        p.allReduce.abortable = &launcherComm();
        p.stepsDone = &progressCount();
        p.stepsTotal = &progressTotal();
        return p;
      },
      [](const kv::SaveLoadPlan& p) { return kv::runSaveLoad(p); }, resultToJs);
}

}  // namespace kvaddon
