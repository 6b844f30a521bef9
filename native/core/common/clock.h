// The one host clock every native timing uses (steady, microseconds). Plain C++: the
// no-CUDA build and the store code share it with the CUDA core.
#pragma once
#include <chrono>

namespace kv {

inline double nowUs() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace kv
