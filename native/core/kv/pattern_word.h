// The verification word derived from (seed, index), splitmix64: one definition for the
// GPU kernels, the host checks and the stores' test data (which build without CUDA).
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define KV_PATTERN_FN __host__ __device__ inline
#else
#define KV_PATTERN_FN inline
#endif

namespace kv {

KV_PATTERN_FN uint64_t patternWord(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace kv
