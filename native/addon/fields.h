// The addon's field helpers, shared by every operation: readers that turn a JS plan into a
// plain struct (each refuses a missing or mistyped field by name) and a writer that turns a
// result into a JS object one typed line per field. Field names are the TypeScript names in
// src/native/<operation>.ts.
#pragma once
#include <napi.h>

#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/common/error.h"

namespace kvaddon {

// A JS Error carrying the native error's code (src/native/load.ts maps codes to exit codes).
Napi::Error toJsError(Napi::Env env, const std::string& code, const std::string& message);

// ---- readers: each throws kv::Error(BAD_INPUT) naming the field

double numberField(const Napi::Object& o, const char* name);  // a number, not negative
inline int intField(const Napi::Object& o, const char* name) { return static_cast<int>(numberField(o, name)); }
inline size_t sizeField(const Napi::Object& o, const char* name) { return static_cast<size_t>(numberField(o, name)); }
bool boolField(const Napi::Object& o, const char* name);
std::string stringField(const Napi::Object& o, const char* name);
Napi::Object objectField(const Napi::Object& o, const char* name);
std::vector<int> intList(const Napi::Object& o, const char* name);

[[noreturn]] void badField(const char* name, const std::string& why);

// Each element of array field `name`, through `read` (which refuses an element of the wrong kind).
template <class T, class Read>
std::vector<T> listField(const Napi::Object& o, const char* name, Read read) {
  Napi::Value v = o.Get(name);
  if (!v.IsArray()) badField(name, "must be an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<T> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(read(a.Get(i)));
  return out;
}

// The enum value a name stands for (strategies, designs and faults cross the boundary by
// name): `all` lists the values, `nameOf` names each.
template <class E, size_t N>
E byName(const char* field, const std::string& name, const E (&all)[N], const char* (*nameOf)(E)) {
  for (E e : all)
    if (name == nameOf(e)) return e;
  badField(field, "holds an unknown name '" + name + "'");
}

template <class E, size_t N>
E namedField(const Napi::Object& o, const char* field, const E (&all)[N], const char* (*nameOf)(E)) {
  return byName(field, stringField(o, field), all, nameOf);
}

template <class E, size_t N>
std::vector<E> namedList(const Napi::Object& o, const char* field, const E (&all)[N], const char* (*nameOf)(E)) {
  return listField<E>(o, field, [&](const Napi::Value& e) {
    if (!e.IsString()) badField(field, "must hold names");
    return byName(field, e.As<Napi::String>().Utf8Value(), all, nameOf);
  });
}

// ---- writers

// A text that is null in JS when empty (an error that did not happen, a note not given).
struct OrNull {
  const std::string& text;
};

inline Napi::Value toValue(Napi::Env env, const Napi::Value& v) { return v; }
inline Napi::Value toValue(Napi::Env env, bool v) { return Napi::Boolean::New(env, v); }
template <class T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, int> = 0>
Napi::Value toValue(Napi::Env env, T v) {
  return Napi::Number::New(env, static_cast<double>(v));
}
inline Napi::Value toValue(Napi::Env env, const std::string& v) { return Napi::String::New(env, v); }
inline Napi::Value toValue(Napi::Env env, const char* v) { return Napi::String::New(env, v); }
inline Napi::Value toValue(Napi::Env env, OrNull v) { return v.text.empty() ? env.Null() : Napi::String::New(env, v.text); }
template <class T>
Napi::Value toValue(Napi::Env env, const std::vector<T>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(i, toValue(env, v[i]));
  return a;
}
template <class T>
Napi::Value toValue(Napi::Env env, const std::map<std::string, T>& m) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [k, v] : m) o.Set(k, toValue(env, v));
  return o;
}

// A JS object built one field a line: `JsObject(env).set("bytes", r.bytes).set(...)`.
class JsObject {
 public:
  explicit JsObject(Napi::Env env) : env_(env), o_(Napi::Object::New(env)) {}
  template <class T>
  JsObject& set(const char* name, const T& v) {
    o_.Set(name, toValue(env_, v));
    return *this;
  }
  operator Napi::Object() const { return o_; }
  operator Napi::Value() const { return o_; }

 private:
  Napi::Env env_;
  Napi::Object o_;
};

// An array of structs, each written by `write(env, element)`.
template <class T, class Write>
Napi::Array listOf(Napi::Env env, const std::vector<T>& v, Write write) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(i, write(env, v[i]));
  return a;
}

}  // namespace kvaddon
