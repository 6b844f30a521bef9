// Paged KV-cache geometry: where a (layer, part, block) chunk lives on the GPU in
// each layout, and the verification identity of a chunk. Sizes come from the
// TypeScript plan (src/core/plan.ts); nothing here recomputes them.
#pragma once
#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define KV_HOST_DEVICE __host__ __device__
#else
#define KV_HOST_DEVICE
#endif

namespace kv {

enum class Layout : int {
  // vLLM per layer: [layer][K|V][blocks][block_size][heads][dim]
  LayerMajor = 0,
  // one block holds every layer: [blocks][layer][K|V][block_size][heads][dim]
  BlockContiguous = 1,
};

struct KvGeometry {
  int layers = 0;
  int parts = 0;            // 2 for K and V, 1 for an MLA latent
  size_t chunkBytes = 0;    // one (layer, part, block)
  int gpuBlocks = 0;        // blocks in the GPU cache
  Layout layout = Layout::LayerMajor;

  size_t cacheBytes() const { return chunkBytes * parts * layers * static_cast<size_t>(gpuBlocks); }
  size_t layerBlockBytes() const { return chunkBytes * parts; }  // one block of one layer, all parts

  KV_HOST_DEVICE size_t chunkOffset(int layer, int part, int block) const {
    size_t idx = layout == Layout::LayerMajor
                     ? (static_cast<size_t>(layer) * parts + part) * gpuBlocks + block
                     : (static_cast<size_t>(block) * layers + layer) * parts + part;
    return idx * chunkBytes;
  }
};

// The synthetic forward's shape (src/core/plan.ts fills it from the profile).
struct ForwardShape {
  int batch = 0;             // sequences in the step (one new token each)
  int contextBlocks = 0;     // blocks of context each sequence attends over
  int kvHeads = 0;           // 1 for MLA
  int headDim = 0;           // values per head per part (MLA: the latent width)
  int queryHeads = 0;
  int hiddenSize = 0;
  int mlpSize = 0;
  int blockSize = 0;         // tokens per block
};

// Seed of a chunk's verification pattern: which data generation, layer, part and
// logical block it holds. A stale, misplaced or torn chunk fails the check.
inline uint64_t chunkSeed(uint64_t generation, int layer, int part, uint64_t logicalBlock) {
  return (generation << 44) ^ (static_cast<uint64_t>(layer) << 32) ^ (static_cast<uint64_t>(part) << 30) ^ logicalBlock ^
         0x6b7662656e6368ull;
}

}  // namespace kv
