// Verification pattern: a word derived from (seed, index), so any misplaced,
// stale or torn word is caught, and the GPU and the host agree on what to expect.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

namespace kv {

__host__ __device__ inline uint64_t patternWord(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;  // splitmix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void fillPatternHost(void* dst, size_t bytes, uint64_t seed);
long long countMismatchesHost(const void* src, size_t bytes, uint64_t seed);

// Device-side fill and check, enqueued on `stream`; the count lands in `*deviceCount`.
void fillPatternDevice(void* dst, size_t bytes, uint64_t seed, cudaStream_t stream);
long long countMismatchesDevice(const void* src, size_t bytes, uint64_t seed, cudaStream_t stream);

}  // namespace kv
