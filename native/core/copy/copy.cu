#include "copy.h"

#include <algorithm>

#include "../cuda/cuda_check.h"

namespace kv {
namespace {

// Block ids and the segment table travel by value as a kernel parameter (under the classic
// 4 KiB limit): no per-job upload and no host buffer whose lifetime must be tracked.
constexpr int kIdsPerLaunch = 920;

struct Launch {
  char* cache;
  char* other;  // staging buffer (device) or mapped host extent
  KvGeometry g;
  int segments;                 // 1 to kMaxSegments
  int segLayer[kMaxSegments];   // each segment's layer
  int segFirst[kMaxSegments];   // and the index of its first block in ids
  int count;                    // blocks, all segments
  int toCache;  // 1: other -> cache (load), 0: cache -> other (save)
  // Evict-first on the paged cache's side only: the blocks moved are not what the forward
  // reads next, while the staging side keeps its own L2 policy (a persisting window).
  int streamCache;
  int chunksPerCta;  // a power of two, 1 to kMaxChunksPerCta: each chunk gets blockDim.x / chunksPerCta threads
  int ids[kIdsPerLaunch];
};
static_assert(sizeof(Launch) <= 4096, "a copy kernel's parameters must fit the classic 4 KiB");

// A CTA moves at least kCtaBytes: small chunks (4 and 16 KiB, as TP shards and small models
// have) are packed several to a CTA, so the copy is not 262,144 CTAs of 4 KiB whose launch
// and teardown cost more than their bytes; chunks of kCtaBytes or more keep one CTA each.
constexpr size_t kCtaBytes = 32u << 10;
constexpr int kCopyThreads = 256, kMaxChunksPerCta = 8;

int chunksPerCta(size_t chunkBytes) {
  int n = 1;
  while (n < kMaxChunksPerCta && static_cast<size_t>(2 * n) * chunkBytes <= kCtaBytes) n *= 2;
  return n;
}

__device__ __forceinline__ int4 load16(const int4* p, bool stream) { return stream ? __ldcs(p) : *p; }
__device__ __forceinline__ void store16(int4* p, int4 v, bool stream) {
  if (stream) __stcs(p, v);
  else *p = v;
}

// chunksPerCta chunks per CTA at a time, each by its share of the threads; 16-byte accesses.
__global__ void chunkCopyKernel(const __grid_constant__ Launch a) {
  const int chunks = a.count * a.g.parts;
  const size_t vecs = a.g.chunkBytes / 16;
  const bool streamSrc = a.streamCache && !a.toCache, streamDst = a.streamCache && a.toCache;
  const int threads = blockDim.x / a.chunksPerCta, lane = threadIdx.x % threads;
  for (int c = blockIdx.x * a.chunksPerCta + threadIdx.x / threads; c < chunks; c += gridDim.x * a.chunksPerCta) {
    const int i = c / a.g.parts, part = c % a.g.parts;
    int seg = 0;
    while (seg + 1 < a.segments && i >= a.segFirst[seg + 1]) ++seg;
    int4* cache = reinterpret_cast<int4*>(a.cache + a.g.chunkOffset(a.segLayer[seg], part, a.ids[i]));
    int4* other = reinterpret_cast<int4*>(a.other + (size_t)c * a.g.chunkBytes);
    int4* dst = a.toCache ? cache : other;
    const int4* src = a.toCache ? other : cache;
    // Four independent 16-byte loads in flight per thread before the stores.
    constexpr int kUnroll = 4;
    size_t v = lane;
    for (; v + (kUnroll - 1) * threads < vecs; v += kUnroll * threads) {
      int4 r[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) r[u] = load16(src + v + u * threads, streamSrc);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) store16(dst + v + u * threads, r[u], streamDst);
    }
    for (; v < vecs; v += threads) store16(dst + v, load16(src + v, streamSrc), streamDst);
  }
}

// `other` holds the segments' blocks one after another; they are kIdsPerLaunch blocks at most
// (the callers cut pieces and mapped launches to it).
void launchChunkCopy(const CopyConfig& cfg, char* other, const Segment* segs, int segments, cudaStream_t s) {
  Launch a;
  a.cache = static_cast<char*>(cfg.cache);
  a.other = other;
  a.g = cfg.geometry;
  a.segments = segments;
  int count = 0;
  for (int k = 0; k < segments; ++k) {
    a.segLayer[k] = segs[k].layer;
    a.segFirst[k] = count;
    std::copy(segs[k].ids, segs[k].ids + segs[k].count, a.ids + count);
    count += segs[k].count;
  }
  a.count = count;
  a.toCache = cfg.direction == Direction::Load;
  a.streamCache = cfg.streaming ? 1 : 0;
  a.chunksPerCta = chunksPerCta(cfg.geometry.chunkBytes);
  // By default one CTA per kCtaBytes: each moves its chunks in a few microseconds and leaves, so
  // the forward's kernels, whose CTAs each want a whole SM, get it back at once. A few CTAs
  // looping over a whole ring slot held SMs for tens of microseconds each time and cost an
  // H200's forward about 1.2 points more at the same rate (docs/benchmarks.md, sixth pass).
  const int ctas = (count * cfg.geometry.parts + a.chunksPerCta - 1) / a.chunksPerCta;
  const int grid = std::max(1, cfg.kernelCtas > 0 ? std::min(cfg.kernelCtas, ctas) : ctas);
  chunkCopyKernel<<<grid, kCopyThreads, 0, s>>>(a);
  KV_CUDA_LAUNCHED("chunkCopyKernel");
}

}  // namespace

Copier::Copier(const CopyConfig& cfg, cudaStream_t main, cudaStream_t aux) : cfg_(cfg), main_(main), aux_(aux) {
  if (cfg_.geometry.chunkBytes % 16) throw Error(codes::kBadInput, "chunk size must be a multiple of 16 bytes");
  if (cfg_.strategy == Strategy::StagedGather) {
    slots_ = cfg_.stagingSlots;
    slotBytes_ = cfg_.stagingSlotBytes;
    if (slots_ < 2 || slotBytes_ % 16) throw Error(codes::kBadInput, "a staging ring needs two slots or more, each a multiple of 16 bytes");
    if (slotBytes_ < cfg_.geometry.layerBlockBytes())
      throw Error(codes::kBadInput, "staging buffer smaller than one block of one layer per ring slot");
    staging_ = allocDevice(slots_ * slotBytes_);
    aux2_ = std::make_unique<Stream>(Priority::Low);
    if (cfg_.batchSharePct < 0 || cfg_.batchSharePct > 100) throw Error(codes::kBadInput, "batch share must be 0 to 100%");
    if (cfg_.batchSharePct > 0) batchStream_ = std::make_unique<Stream>(Priority::Low);
    if (cfg_.persistStaging) {
      // The gather writes and the scatter reads the ring as persisting lines: the copy engine
      // then finds the ring in L2, and HBM sees each byte about once instead of three times.
      int device = 0, maxWindow = 0;
      KV_CUDA(cudaGetDevice(&device));
      KV_CUDA(cudaDeviceGetAttribute(&maxWindow, cudaDevAttrMaxAccessPolicyWindowSize, device));
      cudaStreamAttrValue attr{};
      attr.accessPolicyWindow.base_ptr = staging_.get();
      attr.accessPolicyWindow.num_bytes = std::min<size_t>(slots_ * slotBytes_, static_cast<size_t>(maxWindow));
      attr.accessPolicyWindow.hitRatio = 1.0f;
      attr.accessPolicyWindow.hitProp = cudaAccessPropertyPersisting;
      attr.accessPolicyWindow.missProp = cudaAccessPropertyStreaming;
      KV_CUDA(cudaStreamSetAttribute(main_, cudaStreamAttributeAccessPolicyWindow, &attr));
    }
    for (int i = 0; i < slots_; ++i) {
      stageReady_.emplace_back(cudaEventDisableTiming);
      stageFree_.emplace_back(cudaEventDisableTiming);
    }
  }
}

void Copier::enqueue(int layer, const int* ids, int count, char* host) {
  switch (cfg_.strategy) {
    case Strategy::PerChunk: return perChunk(layer, ids, count, host);
    case Strategy::Batch: return batch(layer, ids, count, host, main_);
    case Strategy::MappedKernel: return mapped(layer, ids, count, host);
    case Strategy::StagedGather:
      if (batchStream_) {
        const int viaBatch = count * cfg_.batchSharePct / 100, viaRing = count - viaBatch;
        if (viaBatch > 0) {
          batchOrdered_.record(main_);  // what main_ waits for (a compute event) comes first
          KV_CUDA(cudaStreamWaitEvent(batchStream_->get(), batchOrdered_.get(), 0));
          batch(layer, ids + viaRing, viaBatch, host + viaRing * cfg_.geometry.layerBlockBytes(), batchStream_->get());
        }
        if (viaRing > 0) staged(layer, ids, viaRing, host);
        return;
      }
      return staged(layer, ids, count, host);
  }
}

void Copier::perChunk(int layer, const int* ids, int count, char* host) {
  const KvGeometry& g = cfg_.geometry;
  char* cache = static_cast<char*>(cfg_.cache);
  for (int i = 0; i < count; ++i) {
    for (int p = 0; p < g.parts; ++p) {
      char* dev = cache + g.chunkOffset(layer, p, ids[i]);
      char* h = host + (static_cast<size_t>(i) * g.parts + p) * g.chunkBytes;
      if (cfg_.direction == Direction::Save)
        KV_CUDA(cudaMemcpyAsync(h, dev, g.chunkBytes, cudaMemcpyDeviceToHost, main_));
      else
        KV_CUDA(cudaMemcpyAsync(dev, h, g.chunkBytes, cudaMemcpyHostToDevice, main_));
    }
  }
}

void Copier::batch(int layer, const int* ids, int count, char* host, cudaStream_t stream) {
  const KvGeometry& g = cfg_.geometry;
  char* cache = static_cast<char*>(cfg_.cache);
  const size_t n = static_cast<size_t>(count) * g.parts;
  dsts_.resize(n);
  srcs_.resize(n);
  sizes_.assign(n, g.chunkBytes);
  for (int i = 0; i < count; ++i) {
    for (int p = 0; p < g.parts; ++p) {
      size_t k = static_cast<size_t>(i) * g.parts + p;
      char* dev = cache + g.chunkOffset(layer, p, ids[i]);
      char* h = host + k * g.chunkBytes;
      dsts_[k] = cfg_.direction == Direction::Save ? static_cast<void*>(h) : static_cast<void*>(dev);
      srcs_[k] = cfg_.direction == Direction::Save ? static_cast<void*>(dev) : static_cast<void*>(h);
    }
  }
  cudaMemcpyAttributes attr{};
  attr.srcAccessOrder = cudaMemcpySrcAccessOrderStream;
  attr.flags = cudaMemcpyFlagPreferOverlapWithCompute;
  size_t attrIdx = 0;
  KV_CUDA(cudaMemcpyBatchAsync(dsts_.data(), const_cast<const void* const*>(srcs_.data()), sizes_.data(), n, &attr,
                               &attrIdx, 1, stream));
}

void Copier::mapped(int layer, const int* ids, int count, char* host) {
  const size_t stride = cfg_.geometry.layerBlockBytes();
  for (int at = 0; at < count; at += kIdsPerLaunch) {
    int n = std::min(kIdsPerLaunch, count - at);
    const Segment seg{layer, n, ids + at, host + at * stride};
    launchChunkCopy(cfg_, host + at * stride, &seg, 1, main_);
  }
}

// Blocks join the held-back piece (held_) until it fills a slot or runs out of segments.
void Copier::staged(int layer, const int* ids, int count, char* host) {
  const size_t stride = cfg_.geometry.layerBlockBytes();
  const int perPiece = static_cast<int>(std::min<size_t>(kIdsPerLaunch, slotBytes_ / stride));
  while (count > 0) {
    Segment* last = held_.segments ? &held_.seg[held_.segments - 1] : nullptr;
    const bool continues = last && layer == last->layer && ids == last->ids + last->count && host == last->host + last->count * stride;
    if (!continues && held_.segments == kMaxSegments) flush();
    const int take = std::min(count, perPiece - held_.blocks);
    if (continues) last->count += take;
    else held_.seg[held_.segments++] = Segment{layer, take, ids, host};
    held_.blocks += take;
    ids += take;
    host += take * stride;
    count -= take;
    if (held_.blocks == perPiece) flush();
  }
}

void Copier::flush() {
  if (held_.blocks == 0) return;
  const StagedPiece piece = held_;
  held_ = StagedPiece{};
  stagePiece(piece);
}

// The piece's host side as copy-engine work: one copy where its host bytes are one extent,
// else one batch call with a copy per extent (host neighbours merged into one).
void Copier::copyPieceHost(const StagedPiece& piece, char* slot, cudaStream_t stream) {
  const size_t stride = cfg_.geometry.layerBlockBytes();
  const bool save = cfg_.direction == Direction::Save;
  pieceDsts_.clear();
  pieceSrcs_.clear();
  pieceSizes_.clear();
  char* at = slot;
  char* hostEnd = nullptr;
  for (int k = 0; k < piece.segments; ++k) {
    const Segment& sg = piece.seg[k];
    const size_t bytes = sg.count * stride;
    if (sg.host == hostEnd) {
      pieceSizes_.back() += bytes;
    } else {
      pieceDsts_.push_back(save ? static_cast<void*>(sg.host) : static_cast<void*>(at));
      pieceSrcs_.push_back(save ? static_cast<void*>(at) : static_cast<void*>(sg.host));
      pieceSizes_.push_back(bytes);
    }
    hostEnd = sg.host + bytes;
    at += bytes;
  }
  if (pieceSizes_.size() == 1) {
    KV_CUDA(cudaMemcpyAsync(pieceDsts_[0], pieceSrcs_[0], pieceSizes_[0], save ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice, stream));
    return;
  }
  cudaMemcpyAttributes attr{};
  attr.srcAccessOrder = cudaMemcpySrcAccessOrderStream;
  size_t attrIdx = 0;
  KV_CUDA(cudaMemcpyBatchAsync(pieceDsts_.data(), const_cast<const void* const*>(pieceSrcs_.data()), pieceSizes_.data(),
                               pieceSizes_.size(), &attr, &attrIdx, 1, stream));
}

// One piece through the ring: while the copy engine moves piece k, the kernel gathers piece k+1.
void Copier::stagePiece(const StagedPiece& piece) {
  const int b = static_cast<int>(piece_++ % slots_);
  char* buf = staging_.get<char>() + b * slotBytes_;
  cudaStream_t copy = b % 2 ? aux2_->get() : aux_;
  if (cfg_.direction == Direction::Save) {
    KV_CUDA(cudaStreamWaitEvent(main_, stageFree_[b].get(), 0));
    launchChunkCopy(cfg_, buf, piece.seg, piece.segments, main_);
    stageReady_[b].record(main_);
    KV_CUDA(cudaStreamWaitEvent(copy, stageReady_[b].get(), 0));
    copyPieceHost(piece, buf, copy);
    stageFree_[b].record(copy);
  } else {
    KV_CUDA(cudaStreamWaitEvent(copy, stageFree_[b].get(), 0));
    copyPieceHost(piece, buf, copy);
    stageReady_[b].record(copy);
    KV_CUDA(cudaStreamWaitEvent(main_, stageReady_[b].get(), 0));
    launchChunkCopy(cfg_, buf, piece.seg, piece.segments, main_);
    stageFree_[b].record(main_);
  }
  // No join here: the next piece's gather overlaps this piece's copy. A save completes
  // on the two copy streams (joined in recordDone), a load on main (its last scatter).
}

void Copier::recordDone(cudaEvent_t event, cudaEvent_t alsoTimed) {
  flush();
  const bool onCopyStreams = cfg_.strategy == Strategy::StagedGather && cfg_.direction == Direction::Save;
  const cudaStream_t last = onCopyStreams ? aux_ : main_;
  if (onCopyStreams) {
    joined_.record(aux2_->get());
    KV_CUDA(cudaStreamWaitEvent(aux_, joined_.get(), 0));
  }
  if (batchStream_) {
    batchJoined_.record(batchStream_->get());
    KV_CUDA(cudaStreamWaitEvent(last, batchJoined_.get(), 0));
  }
  KV_CUDA(cudaEventRecord(event, last));
  if (alsoTimed) KV_CUDA(cudaEventRecord(alsoTimed, last));
}

void Copier::joinInto(cudaStream_t stream) {
  Event done(cudaEventDisableTiming);
  recordDone(done.get());
  KV_CUDA(cudaStreamWaitEvent(stream, done.get(), 0));
}

}  // namespace kv
