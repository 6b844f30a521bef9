#include "cublas_loader.h"

#include <dlfcn.h>

#include "../common/error.h"

namespace kv {
namespace {
// Values from cublas_api.h / library_types.h (stable ABI).
constexpr int kOpN = 0;
constexpr int kOpT = 1;
constexpr int kR16BF = 14;
constexpr int kCompute32F = 68;
constexpr int kGemmDefault = -1;
}  // namespace

Cublas::Cublas() {
  const char* names[] = {"libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  for (const char* n : names) {
    lib_ = dlopen(n, RTLD_NOW | RTLD_LOCAL);
    if (lib_) { source_ = n; break; }
  }
  if (!lib_) { source_ = "libcublas not found"; return; }
  create_ = reinterpret_cast<decltype(create_)>(dlsym(lib_, "cublasCreate_v2"));
  destroy_ = reinterpret_cast<decltype(destroy_)>(dlsym(lib_, "cublasDestroy_v2"));
  setStream_ = reinterpret_cast<decltype(setStream_)>(dlsym(lib_, "cublasSetStream_v2"));
  gemmEx_ = reinterpret_cast<decltype(gemmEx_)>(dlsym(lib_, "cublasGemmEx"));
  if (!create_ || !destroy_ || !setStream_ || !gemmEx_) { source_ += " lacks cublasGemmEx"; return; }
  if (create_(&handle_) != 0) { handle_ = nullptr; source_ += ": cublasCreate failed"; }
}

Cublas::~Cublas() {
  if (handle_) destroy_(handle_);
  if (lib_) dlclose(lib_);
}

void Cublas::gemmBf16(int m, int n, int k, const void* A, const void* B, void* C, cudaStream_t s) {
  const float one = 1.0f, zero = 0.0f;
  if (setStream_(handle_, s) != 0) throw Error(codes::kCuda, "cublasSetStream failed");
  // Weights A stored k x m (transposed), activations B k x n.
  int st = gemmEx_(handle_, kOpT, kOpN, m, n, k, &one, A, kR16BF, k, B, kR16BF, k, &zero, C, kR16BF, m, kCompute32F,
                   kGemmDefault);
  if (st != 0) throw Error(codes::kCuda, "cublasGemmEx failed with status " + std::to_string(st));
}

}  // namespace kv
