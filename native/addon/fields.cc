#include "fields.h"

namespace kvaddon {

Napi::Error toJsError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", code);
  return e;
}

void badField(const char* name, const std::string& why) { throw kv::Error(kv::codes::kBadInput, std::string("plan field '") + name + "' " + why); }

double numberField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) badField(name, "must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0) badField(name, "must not be negative");
  return d;
}

bool boolField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsBoolean()) badField(name, "must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string stringField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsString()) badField(name, "must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object objectField(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsObject()) badField(name, "must be an object");
  return v.As<Napi::Object>();
}

std::vector<int> intList(const Napi::Object& o, const char* name) {
  return listField<int>(o, name, [name](const Napi::Value& e) {
    if (!e.IsNumber()) badField(name, "must hold numbers");
    return e.As<Napi::Number>().Int32Value();
  });
}

}  // namespace kvaddon
