// The synthetic forward: per layer, the KV write of this step's new blocks, a
// memory-bound paged attention over the batch's context, and the layer's matrix work.
#pragma once
#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

#include "../cuda/cublas_loader.h"
#include "../cuda/device.h"
#include "../kv/kv.h"
#include "../kv/kv_kernels.cuh"
#include "all_reduce.h"

namespace kv {

struct ForwardCost {
  double flopsPerStep = 0;   // matrix + attention arithmetic
  double bytesPerStep = 0;   // HBM bytes the step must move (weights, KV reads, writes)
};

class Forward {
 public:
  // `tp` (may be null): the tensor-parallel all-reduce after each row-parallel product.
  Forward(const ForwardShape& shape, const KvGeometry& g, void* cache, const std::vector<int>& contextBlockIds,
          cudaStream_t compute, std::unique_ptr<AllReduce> tp = nullptr);
  // One layer. The KV write of `writes` (already uploaded refs) runs first and `afterWrite`
  // is recorded right after it: the connector's save of that layer waits on it. `alsoTimed`
  // (--trace; may be null): a timing event recorded at the same point.
  void layer(int layer, const ChunkRef* writes, int writeCount, cudaEvent_t afterWrite, cudaEvent_t alsoTimed = nullptr);
  ForwardCost cost(size_t writeBytesPerStep) const;
  // NaN or Inf in the attention outputs since the last reset (synchronizes).
  long long nonFiniteOutputs();
  const std::string& gemmEngine() const { return gemmEngine_; }
  AllReduce* allReduce() const { return tp_.get(); }
  // After a step's sync: its all-reduces' GPU ms (0 without them); every step's must be taken.
  double takeAllReduceMs() { return tp_ ? tp_->takeStepMs() : 0; }

 private:
  void gemm(int m, int n, int k, const void* A, const void* B, void* C);
  ForwardShape s_;
  KvGeometry g_;
  void* cache_;
  cudaStream_t stream_;
  Cublas cublas_;
  std::unique_ptr<AllReduce> tp_;
  std::string gemmEngine_;
  DeviceBuffer blockTable_, attnOut_, wQkv_, wO_, wUp_, wDown_, x_, qkv_, h_, up_, nonFinite_;
  int qkvOut_ = 0;
};

}  // namespace kv
