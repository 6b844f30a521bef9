#include "run_control.h"

#include <unistd.h>

#include <cstdio>

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

// Ends the process at once with `code`, running no exit handler: a rank left waiting on a GPU for a
// peer that died has a thread inside CUDA that never returns, and the exit handlers (CUDA's teardown
// among them) can wait on it (an H200 rank so left, ended the ordinary way, did not end in 450 s).
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  const int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  std::fflush(nullptr);
  _exit(code);
}

Napi::Value RunProgress(const Napi::CallbackInfo& info) {
  return JsObject(info.Env()).set("done", progressCount().load()).set("total", progressTotal().load());
}

}  // namespace kvaddon
