#include "run_control.h"

#include "fields.h"
#include "operations.h"

namespace kvaddon {

std::atomic<bool>& cancelFlag() {
  static std::atomic<bool> cancel{false};
  return cancel;
}

std::atomic<long long>& progressCount() {
  static std::atomic<long long> progress{0};
  return progress;
}

std::atomic<long long>& progressTotal() {
  static std::atomic<long long> total{0};
  return total;
}

void startRun() {
  cancelFlag().store(false);
  progressCount().store(0);
  progressTotal().store(0);
}

Napi::Value CancelRun(const Napi::CallbackInfo& info) {
  cancelFlag().store(true);
  return info.Env().Undefined();
}

Napi::Value RunProgress(const Napi::CallbackInfo& info) {
  return JsObject(info.Env()).set("done", progressCount().load()).set("total", progressTotal().load());
}

}  // namespace kvaddon
