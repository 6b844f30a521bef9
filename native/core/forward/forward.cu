#include "forward.h"

#include <cuda_bf16.h>

#include <algorithm>

#include "../cuda/cuda_check.h"
#include "../kv/pattern.cuh"

namespace kv {
namespace {

constexpr int kWarps = 8;
constexpr int kMaxVecPerLane = 4;  // head widths up to 32 lanes x 4 x 8 values = 1024

__device__ inline void addVec(float* acc, const int4& raw, float w) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    float2 f = __bfloat1622float2(h[j]);
    acc[2 * j] += w * f.x;
    acc[2 * j + 1] += w * f.y;
  }
}

__device__ inline float dotVec(const int4& raw, int base) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
  float s = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    float2 f = __bfloat1622float2(h[j]);
    // A fixed synthetic query: small, varied, finite.
    s += f.x * (0.02f * ((base + 2 * j) % 7) - 0.06f) + f.y * (0.02f * ((base + 2 * j + 1) % 5) - 0.04f);
  }
  return s;
}

// Decode attention over paged KV: one CTA per (sequence, KV head), one token per
// warp per iteration, online softmax. Memory-bound like the real kernel.
__global__ void pagedAttentionKernel(const char* cache, KvGeometry g, const int* blockTable, int contextBlocks,
                                     int blockSize, int kvHeads, int headDim, float* out) {
  const int seq = blockIdx.x, head = blockIdx.y;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int vecs = headDim / 8;
  const int vPart = g.parts > 1 ? 1 : 0;
  const size_t tokenStride = static_cast<size_t>(kvHeads) * headDim * 2;  // bytes per token within a chunk
  float m = -INFINITY, l = 0, acc[kMaxVecPerLane * 8] = {0};
  const int tokens = contextBlocks * blockSize;
  for (int t = warp; t < tokens; t += kWarps) {
    const int blk = blockTable[seq * contextBlocks + t / blockSize];
    const size_t inChunk = (t % blockSize) * tokenStride + static_cast<size_t>(head) * headDim * 2;
    // `cache` is already moved to this layer's base, so chunks are addressed as layer 0.
    const char* kBase = cache + g.chunkOffset(0, 0, blk) + inChunk;
    const char* vBase = cache + g.chunkOffset(0, vPart, blk) + inChunk;
    int4 kv[kMaxVecPerLane], vv[kMaxVecPerLane];
    float part = 0;
#pragma unroll
    for (int i = 0; i < kMaxVecPerLane; ++i) {
      int v = lane + 32 * i;
      if (v < vecs) {
        kv[i] = reinterpret_cast<const int4*>(kBase)[v];
        vv[i] = reinterpret_cast<const int4*>(vBase)[v];
        part += dotVec(kv[i], v * 8);
      }
    }
#pragma unroll
    for (int o = 16; o > 0; o /= 2) part += __shfl_xor_sync(0xffffffff, part, o);
    const float score = part * rsqrtf(static_cast<float>(headDim));
    const float mNew = fmaxf(m, score);
    const float scale = __expf(m - mNew), w = __expf(score - mNew);
    l = l * scale + w;
#pragma unroll
    for (int i = 0; i < kMaxVecPerLane * 8; ++i) acc[i] *= scale;
#pragma unroll
    for (int i = 0; i < kMaxVecPerLane; ++i)
      if (lane + 32 * i < vecs) addVec(acc + 8 * i, vv[i], w);
    m = mNew;
  }
  // Combine the warps' partial softmax states.
  __shared__ float sm[kWarps], sl[kWarps];
  __shared__ float sacc[kWarps][kMaxVecPerLane * 8 * 32];
  if (lane == 0) { sm[warp] = m; sl[warp] = l; }
#pragma unroll
  for (int i = 0; i < kMaxVecPerLane; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) sacc[warp][(lane + 32 * i) * 8 + j] = acc[8 * i + j];
  __syncthreads();
  float mAll = -INFINITY;
  for (int w = 0; w < kWarps; ++w) mAll = fmaxf(mAll, sm[w]);
  float lAll = 0;
  for (int w = 0; w < kWarps; ++w) lAll += sl[w] * __expf(sm[w] - mAll);
  for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
    float v = 0;
    for (int w = 0; w < kWarps; ++w) v += sacc[w][d] * __expf(sm[w] - mAll);
    out[(static_cast<size_t>(seq) * kvHeads + head) * headDim + d] = v / lAll;
  }
}

// Fallback GEMM when cuBLAS is absent: C[m x n] = A^T (A stored k x m) * B (k x n), column-major.
__global__ void gemmFallbackKernel(int m, int n, int k, const __nv_bfloat16* A, const __nv_bfloat16* B, __nv_bfloat16* C) {
  __shared__ float As[16][17], Bs[16][17];
  const int row = blockIdx.x * 16 + threadIdx.x, col = blockIdx.y * 16 + threadIdx.y;
  float sum = 0;
  for (int k0 = 0; k0 < k; k0 += 16) {
    int ka = k0 + threadIdx.y, kb = k0 + threadIdx.x;
    As[threadIdx.y][threadIdx.x] = (row < m && ka < k) ? __bfloat162float(A[static_cast<size_t>(row) * k + ka]) : 0.f;
    Bs[threadIdx.y][threadIdx.x] = (col < n && kb < k) ? __bfloat162float(B[static_cast<size_t>(col) * k + kb]) : 0.f;
    __syncthreads();
#pragma unroll
    for (int i = 0; i < 16; ++i) sum += As[i][threadIdx.x] * Bs[threadIdx.y][i];
    __syncthreads();
  }
  if (row < m && col < n) C[static_cast<size_t>(col) * m + row] = __float2bfloat16(sum);
}

__global__ void countNonFiniteF32(const float* x, size_t n, unsigned long long* c) {
  unsigned long long bad = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    bad += !isfinite(x[i]);
  if (bad) atomicAdd(c, bad);
}

__global__ void countNonFiniteBf16(const __nv_bfloat16* x, size_t n, unsigned long long* c) {
  unsigned long long bad = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    bad += !isfinite(__bfloat162float(x[i]));
  if (bad) atomicAdd(c, bad);
}

__global__ void fillSmallBf16(__nv_bfloat16* x, size_t n, uint64_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    x[i] = __float2bfloat16(static_cast<float>(static_cast<int>(patternWord(seed, i) % 2001) - 1000) * 1e-5f);
}

DeviceBuffer allocBf16(size_t n, uint64_t seed, cudaStream_t s) {
  DeviceBuffer b = allocDevice(n * 2);
  fillSmallBf16<<<1024, 256, 0, s>>>(b.get<__nv_bfloat16>(), n, seed);
  KV_CUDA_LAUNCHED("fillSmallBf16");
  return b;
}

}  // namespace

Forward::Forward(const ForwardShape& shape, const KvGeometry& g, void* cache, const std::vector<int>& ids,
                 cudaStream_t compute, std::unique_ptr<AllReduce> tp)
    : s_(shape), g_(g), cache_(cache), stream_(compute), tp_(std::move(tp)) {
  if (s_.headDim % 8 || s_.headDim > 32 * kMaxVecPerLane * 8)
    throw Error(codes::kBadInput, "head width must be a multiple of 8 and at most 1024 values");
  if (static_cast<int>(ids.size()) != s_.batch * s_.contextBlocks) throw Error(codes::kBadInput, "block table size mismatch");
  blockTable_ = allocDevice(ids.size() * sizeof(int));
  KV_CUDA(cudaMemcpyAsync(blockTable_.get(), ids.data(), ids.size() * sizeof(int), cudaMemcpyHostToDevice, stream_));
  attnOut_ = allocDevice(static_cast<size_t>(s_.batch) * s_.kvHeads * s_.headDim * sizeof(float));
  const bool mla = g_.parts == 1;
  qkvOut_ = mla ? 2 * s_.hiddenSize : (s_.queryHeads + 2 * s_.kvHeads) * s_.headDim;
  const size_t H = s_.hiddenSize, M = s_.mlpSize, T = s_.batch;
  wQkv_ = allocBf16(H * qkvOut_, 11, stream_);
  wO_ = allocBf16(H * H, 12, stream_);
  wUp_ = allocBf16(H * 2 * M, 13, stream_);
  wDown_ = allocBf16(M * H, 14, stream_);
  x_ = allocBf16(H * T, 15, stream_);
  qkv_ = allocBf16(std::max<size_t>(qkvOut_, H) * T, 16, stream_);
  up_ = allocBf16(2 * M * T, 17, stream_);
  h_ = allocBf16(H * T, 18, stream_);
  nonFinite_ = allocDevice(sizeof(unsigned long long));
  KV_CUDA(cudaMemsetAsync(nonFinite_.get(), 0, sizeof(unsigned long long), stream_));
  gemmEngine_ = cublas_.available() ? "cublas (" + cublas_.source() + ")" : "fallback kernel (" + cublas_.source() + ")";
  KV_CUDA(cudaStreamSynchronize(stream_));
}

void Forward::gemm(int m, int n, int k, const void* A, const void* B, void* C) {
  if (cublas_.available()) return cublas_.gemmBf16(m, n, k, A, B, C, stream_);
  dim3 grid((m + 15) / 16, (n + 15) / 16), block(16, 16);
  gemmFallbackKernel<<<grid, block, 0, stream_>>>(m, n, k, static_cast<const __nv_bfloat16*>(A),
                                                  static_cast<const __nv_bfloat16*>(B), static_cast<__nv_bfloat16*>(C));
  KV_CUDA_LAUNCHED("gemmFallbackKernel");
}

void Forward::layer(int layer, const ChunkRef* writes, int writeCount, cudaEvent_t afterWrite, cudaEvent_t alsoTimed) {
  launchFillChunks(writes, writeCount, g_.chunkBytes, stream_);
  // The timing event first: a copy released by afterWrite can then never be stamped before it
  // (recorded after afterWrite, it read up to 3 us after a copy's start, H200 2026-12-03).
  if (alsoTimed) KV_CUDA(cudaEventRecord(alsoTimed, stream_));
  if (afterWrite) KV_CUDA(cudaEventRecord(afterWrite, stream_));
  const int H = s_.hiddenSize, M = s_.mlpSize, T = s_.batch;
  gemm(qkvOut_, T, H, wQkv_.get(), x_.get(), qkv_.get());
  // The attention kernel addresses chunks as layer 0 of a cache whose base is moved to this layer.
  const char* layerBase = static_cast<const char*>(cache_) + g_.chunkOffset(layer, 0, 0);
  dim3 grid(s_.batch, s_.kvHeads);
  pagedAttentionKernel<<<grid, kWarps * 32, 0, stream_>>>(layerBase, g_, blockTable_.get<int>(), s_.contextBlocks,
                                                           s_.blockSize, s_.kvHeads, s_.headDim, attnOut_.get<float>());
  KV_CUDA_LAUNCHED("pagedAttentionKernel");
  gemm(H, T, H, wO_.get(), qkv_.get(), h_.get());
  if (tp_) tp_->sumBf16(h_.get(), static_cast<size_t>(H) * T);  // the output projection is row-parallel
  gemm(2 * M, T, H, wUp_.get(), h_.get(), up_.get());
  gemm(H, T, M, wDown_.get(), up_.get(), qkv_.get());  // x_ stays the same input every layer
  if (tp_) tp_->sumBf16(qkv_.get(), static_cast<size_t>(H) * T);  // and so is the down projection
}

ForwardCost Forward::cost(size_t writeBytesPerStep) const {
  const double H = s_.hiddenSize, M = s_.mlpSize, T = s_.batch, L = g_.layers;
  const double weights = H * qkvOut_ + H * H + H * 2 * M + M * H;
  const double tokens = static_cast<double>(s_.contextBlocks) * s_.blockSize;
  const double kvRead = T * s_.kvHeads * tokens * s_.headDim * 2.0 * (g_.parts > 1 ? 2 : 1);
  ForwardCost c;
  c.flopsPerStep = L * (2 * T * weights + T * s_.kvHeads * tokens * s_.headDim * 4.0);
  c.bytesPerStep = L * (weights * 2 + kvRead) + writeBytesPerStep;
  return c;
}

long long Forward::nonFiniteOutputs() {
  auto* c = nonFinite_.get<unsigned long long>();
  KV_CUDA(cudaMemsetAsync(c, 0, sizeof *c, stream_));
  countNonFiniteF32<<<256, 256, 0, stream_>>>(attnOut_.get<float>(), static_cast<size_t>(s_.batch) * s_.kvHeads * s_.headDim, c);
  KV_CUDA_LAUNCHED("countNonFiniteF32");
  countNonFiniteBf16<<<256, 256, 0, stream_>>>(qkv_.get<__nv_bfloat16>(), static_cast<size_t>(s_.hiddenSize) * s_.batch, c);
  KV_CUDA_LAUNCHED("countNonFiniteBf16");
  unsigned long long host = 0;
  KV_CUDA(cudaMemcpyAsync(&host, c, sizeof host, cudaMemcpyDeviceToHost, stream_));
  KV_CUDA(cudaStreamSynchronize(stream_));
  return static_cast<long long>(host);
}

}  // namespace kv
