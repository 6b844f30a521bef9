// cuBLAS, loaded at run time: the build machines have no cuBLAS, GPU hosts usually
// do. When it is missing the forward uses our own (slower) GEMM kernel and says so.
#pragma once
#include <cuda_runtime.h>

#include <string>

namespace kv {

class Cublas {
 public:
  Cublas();  // never throws; check available()
  ~Cublas();
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;
  bool available() const { return handle_ != nullptr; }
  const std::string& source() const { return source_; }  // library path, or why it is unavailable
  // C[m x n] = A[m x k] * B[k x n], bf16 in, bf16 out, fp32 accumulate, column-major.
  void gemmBf16(int m, int n, int k, const void* A, const void* B, void* C, cudaStream_t s);

 private:
  void* lib_ = nullptr;
  void* handle_ = nullptr;
  std::string source_;
  int (*create_)(void**) = nullptr;
  int (*destroy_)(void*) = nullptr;
  int (*setStream_)(void*, cudaStream_t) = nullptr;
  int (*gemmEx_)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int,
                 const void*, void*, int, int, int, int) = nullptr;
};

}  // namespace kv
