#include "run_control.h"

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

void startRun() {
  cancelFlag().store(false);
  progressCount().store(0);
}

Napi::Value CancelRun(const Napi::CallbackInfo& info) {
  cancelFlag().store(true);
  return info.Env().Undefined();
}

Napi::Value RunProgress(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(progressCount().load())); }

}  // namespace kvaddon
