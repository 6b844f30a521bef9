// printf-style formatting of up to two numbers into a std::string (messages and notes).
#pragma once
#include <cstdio>
#include <string>

namespace kv {

inline std::string fmt(const char* f, double a, double b = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

}  // namespace kv
