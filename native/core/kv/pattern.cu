#include "pattern.cuh"

#include <thread>
#include <vector>

#include "../cuda/cuda_check.h"
#include "../cuda/device.h"

namespace kv {
namespace {

__global__ void fillKernel(uint64_t* dst, size_t words, uint64_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < words; i += (size_t)gridDim.x * blockDim.x)
    dst[i] = patternWord(seed, i);
}

__global__ void checkKernel(const uint64_t* src, size_t words, uint64_t seed, unsigned long long* count) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < words; i += (size_t)gridDim.x * blockDim.x)
    local += src[i] != patternWord(seed, i);
  if (local) atomicAdd(count, local);
}

constexpr int kThreads = 256;
constexpr int kBlocks = 1024;

// Host fill/check run on a few threads: 256 MiB single-threaded costs ~0.3 s.
template <typename Fn>
void parallelWords(size_t words, Fn fn) {
  unsigned n = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  size_t per = (words + n - 1) / n;
  for (unsigned t = 0; t < n; ++t) {
    size_t begin = t * per, end = std::min(words, begin + per);
    if (begin >= end) break;
    threads.emplace_back([=] { fn(t, begin, end); });
  }
  for (auto& th : threads) th.join();
}

}  // namespace

void fillPatternHost(void* dst, size_t bytes, uint64_t seed) {
  auto* w = static_cast<uint64_t*>(dst);
  parallelWords(bytes / 8, [=](unsigned, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) w[i] = patternWord(seed, i);
  });
}

long long countMismatchesHost(const void* src, size_t bytes, uint64_t seed) {
  const auto* w = static_cast<const uint64_t*>(src);
  std::vector<long long> counts(8, 0);
  parallelWords(bytes / 8, [&](unsigned t, size_t b, size_t e) {
    long long c = 0;
    for (size_t i = b; i < e; ++i) c += w[i] != patternWord(seed, i);
    counts[t] = c;
  });
  long long total = 0;
  for (auto c : counts) total += c;
  return total;
}

void fillPatternDevice(void* dst, size_t bytes, uint64_t seed, cudaStream_t stream) {
  fillKernel<<<kBlocks, kThreads, 0, stream>>>(static_cast<uint64_t*>(dst), bytes / 8, seed);
  KV_CUDA_LAUNCHED("fillKernel");
}

long long countMismatchesDevice(const void* src, size_t bytes, uint64_t seed, cudaStream_t stream) {
  DeviceBuffer count = allocDevice(sizeof(unsigned long long));
  KV_CUDA(cudaMemsetAsync(count.get(), 0, sizeof(unsigned long long), stream));
  checkKernel<<<kBlocks, kThreads, 0, stream>>>(static_cast<const uint64_t*>(src), bytes / 8, seed,
                                                count.get<unsigned long long>());
  KV_CUDA_LAUNCHED("checkKernel");
  unsigned long long host = 0;
  KV_CUDA(cudaMemcpyAsync(&host, count.get(), sizeof host, cudaMemcpyDeviceToHost, stream));
  KV_CUDA(cudaStreamSynchronize(stream));
  return static_cast<long long>(host);
}

}  // namespace kv
