#include "run_control.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

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

kv::SharedComm& launcherComm() {
  static kv::SharedComm* slot = new kv::SharedComm;  // never freed: an abort thread may outlive the exit
  return *slot;
}

void startRun() {
  cancelFlag().store(false);
  progressCount().store(0);
  progressTotal().store(0);
  kv::SharedComm& slot = launcherComm();
  std::lock_guard<std::mutex> held(slot.m);
  slot.comm = nullptr;
  slot.aborted = false;
  slot.why.clear();
}

Napi::Value CancelRun(const Napi::CallbackInfo& info) {
  cancelFlag().store(true);
  return info.Env().Undefined();
}

// abortAllReduce(why): on a thread of its own, so that the caller never waits for the lock of an
// enqueue that is itself stuck (a first all-reduce connecting to a peer that is gone).
Napi::Value AbortAllReduce(const Napi::CallbackInfo& info) {
  const std::string why = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "the all-reduce was aborted";
  std::thread([why] {
    const kv::Nccl nccl;
    launcherComm().abort(nccl, why);
  }).detach();
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
