// Verification pattern: a word derived from (seed, index), so any misplaced,
// stale or torn word is caught, and the GPU and the host agree on what to expect.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

#include "pattern_word.h"

namespace kv {

void fillPatternHost(void* dst, size_t bytes, uint64_t seed);
long long countMismatchesHost(const void* src, size_t bytes, uint64_t seed);

// Device-side fill and check, enqueued on `stream`; the count lands in `*deviceCount`.
void fillPatternDevice(void* dst, size_t bytes, uint64_t seed, cudaStream_t stream);
long long countMismatchesDevice(const void* src, size_t bytes, uint64_t seed, cudaStream_t stream);

}  // namespace kv
