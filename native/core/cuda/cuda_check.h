// Checked CUDA calls: every failure names the call and the CUDA error by name.
#pragma once
#include <cuda_runtime.h>
#include <string>
#include "../common/error.h"

namespace kv {

inline std::string cudaErrorText(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

[[noreturn]] inline void throwCuda(cudaError_t e, const char* call) {
  throw Error(codes::kCuda, std::string(call) + " failed: " + cudaErrorText(e));
}

}  // namespace kv

#define KV_CUDA(call)                                 \
  do {                                                \
    cudaError_t kv_err_ = (call);                     \
    if (kv_err_ != cudaSuccess) ::kv::throwCuda(kv_err_, #call); \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, not at the next call.
#define KV_CUDA_LAUNCHED(what) KV_CUDA(cudaPeekAtLastError())
