#include "kv_kernels.cuh"

#include <algorithm>
#include <thread>
#include <vector>

#include "../cuda/cuda_check.h"
#include "pattern.cuh"

namespace kv {
namespace {

__global__ void fillChunksKernel(const ChunkRef* refs, int count, size_t words) {
  for (int c = blockIdx.x; c < count; c += gridDim.x) {
    auto* dst = static_cast<uint64_t*>(refs[c].ptr);
    uint64_t seed = refs[c].seed;
    for (size_t i = threadIdx.x; i < words; i += blockDim.x) dst[i] = patternWord(seed, i) & kFiniteBf16Mask;
  }
}

__global__ void poisonChunksKernel(const ChunkRef* refs, int count, size_t words) {
  for (int c = blockIdx.x; c < count; c += gridDim.x) {
    auto* dst = static_cast<uint64_t*>(refs[c].ptr);
    for (size_t i = threadIdx.x; i < words; i += blockDim.x) dst[i] = ~0ull;
  }
}

__global__ void checkChunksKernel(const ChunkRef* refs, int count, size_t words, unsigned long long* counter) {
  unsigned long long bad = 0;
  for (int c = blockIdx.x; c < count; c += gridDim.x) {
    const auto* src = static_cast<const uint64_t*>(refs[c].ptr);
    uint64_t seed = refs[c].seed;
    size_t i = threadIdx.x;
    for (; i + 3 * blockDim.x < words; i += 4 * blockDim.x) {  // four loads in flight
      uint64_t v[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) v[u] = src[i + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < 4; ++u) bad += v[u] != (patternWord(seed, i + u * blockDim.x) & kFiniteBf16Mask);
    }
    for (; i < words; i += blockDim.x) bad += src[i] != (patternWord(seed, i) & kFiniteBf16Mask);
  }
  if (bad) atomicAdd(counter, bad);
}

}  // namespace

void launchFillChunks(const ChunkRef* refs, int count, size_t chunkBytes, cudaStream_t s, int ctas) {
  if (count <= 0) return;
  int grid = ctas > 0 ? std::min(ctas, count) : std::min(count, 4096);
  fillChunksKernel<<<grid, 256, 0, s>>>(refs, count, chunkBytes / 8);
  KV_CUDA_LAUNCHED("fillChunksKernel");
}

void launchCheckChunks(const ChunkRef* refs, int count, size_t chunkBytes, unsigned long long* counter, cudaStream_t s,
                       int ctas) {
  if (count <= 0) return;
  int grid = ctas > 0 ? std::min(ctas, count) : std::min(count, 4096);
  checkChunksKernel<<<grid, 256, 0, s>>>(refs, count, chunkBytes / 8, counter);
  KV_CUDA_LAUNCHED("checkChunksKernel");
}

void launchPoisonChunks(const ChunkRef* refs, int count, size_t chunkBytes, cudaStream_t s) {
  if (count <= 0) return;
  poisonChunksKernel<<<std::min(count, 4096), 256, 0, s>>>(refs, count, chunkBytes / 8);
  KV_CUDA_LAUNCHED("poisonChunksKernel");
}

void launchPoison(void* ptr, size_t bytes, cudaStream_t s) { KV_CUDA(cudaMemsetAsync(ptr, 0xFF, bytes, s)); }

long long checkChunksHost(const ChunkRef* refs, int count, size_t chunkBytes) {
  const size_t words = chunkBytes / 8;
  unsigned n = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<long long> bad(n, 0);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      long long b = 0;
      for (int c = static_cast<int>(t); c < count; c += static_cast<int>(n)) {
        const auto* src = static_cast<const uint64_t*>(refs[c].ptr);
        for (size_t i = 0; i < words; ++i) b += src[i] != (patternWord(refs[c].seed, i) & kFiniteBf16Mask);
      }
      bad[t] = b;
    });
  }
  for (auto& th : threads) th.join();
  long long total = 0;
  for (auto b : bad) total += b;
  return total;
}

}  // namespace kv
