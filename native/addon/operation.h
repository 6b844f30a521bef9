// The one shape of every addon operation: its argument read into a plain struct (bad input
// becomes a coded JS error at once), the native work run on the libuv pool (an AsyncWorker),
// the result written back as JS, and a kv::Error as a JS Error with `.code`.
#pragma once
#include <napi.h>

#include <functional>
#include <string>

#include "fields.h"

namespace kvaddon {

// Synchronous calls: a kv::Error becomes a coded JS error.
template <class F>
auto guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const kv::Error& e) {
    throw toJsError(env, e.code, e.what());
  }
}

// Runs `work` on the libuv pool; resolves with `write(env, result)` or rejects with a coded error.
template <class Result>
class CoreWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Write = std::function<Napi::Value(Napi::Env, const Result&)>;
  CoreWorker(Napi::Env env, Work work, Write write)
      : Napi::AsyncWorker(env, "kvbench"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), write_(std::move(write)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      result_ = work_();
    } catch (const kv::Error& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = "INTERNAL";
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(write_(Env(), result_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(toJsError(Env(), code_, e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Write write_;
  Result result_;
  std::string code_;
};

// An asynchronous operation of one argument: `read(value)` makes its plan (throwing kv::Error
// on bad input; `usage` is the message when the argument is missing), `work(plan)` runs off the
// main thread, `write(env, result)` makes the promise's value.
template <class Read, class Work, class Write>
Napi::Value queueOperation(const Napi::CallbackInfo& info, const char* usage, Read read, Work work, Write write) {
  Napi::Env env = info.Env();
  auto plan = guard(env, [&] {
    if (info.Length() < 1) throw kv::Error(kv::codes::kBadInput, usage);
    return read(info[0]);
  });
  using Result = decltype(work(plan));
  auto* w = new CoreWorker<Result>(env, [plan, work] { return work(plan); }, write);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// The argument as an object, or bad input with `usage`.
inline Napi::Object objectArg(const Napi::Value& v, const char* usage) {
  if (!v.IsObject()) throw kv::Error(kv::codes::kBadInput, usage);
  return v.As<Napi::Object>();
}
inline int deviceArg(const Napi::Value& v, const char* usage) {
  if (!v.IsNumber()) throw kv::Error(kv::codes::kBadInput, usage);
  return v.As<Napi::Number>().Int32Value();
}

}  // namespace kvaddon
