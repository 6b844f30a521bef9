// Kernels over lists of chunks: write a chunk's pattern (the forward's KV write,
// and test fills), check chunks against their patterns, poison chunks.
// Patterns are bf16-finite (|x| < 2), so the attention kernel reading them never
// makes NaN; poison is 0xFF bytes, a bf16 NaN, so reading a never-loaded block shows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

namespace kv {

struct ChunkRef {
  void* ptr;       // device (or mapped host) address of the chunk
  uint64_t seed;   // chunkSeed(...) of what it must hold
};

constexpr uint64_t kFiniteBf16Mask = 0xBFFFBFFFBFFFBFFFull;  // clears each lane's top exponent bit

void launchFillChunks(const ChunkRef* deviceRefs, int count, size_t chunkBytes, cudaStream_t s, int ctas = 0);
// Adds the number of mismatching 8-byte words to *deviceCounter.
void launchCheckChunks(const ChunkRef* deviceRefs, int count, size_t chunkBytes, unsigned long long* deviceCounter,
                       cudaStream_t s, int ctas = 0);
void launchPoison(void* ptr, size_t bytes, cudaStream_t s);
// Writes poison (0xFF bytes) into every chunk of the list.
void launchPoisonChunks(const ChunkRef* deviceRefs, int count, size_t chunkBytes, cudaStream_t s);

// Host check of chunks in host memory; returns mismatching words.
long long checkChunksHost(const ChunkRef* refs, int count, size_t chunkBytes);

}  // namespace kv
