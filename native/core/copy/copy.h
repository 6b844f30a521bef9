// Copy strategies between the paged GPU cache and a contiguous pinned host extent.
// A job is one layer and a list of GPU blocks; its host extent holds, in order,
// block 0 part 0, block 0 part 1, block 1 part 0, ... (parts = K,V or one latent).
#pragma once
#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

#include "../cuda/device.h"
#include "../kv/kv.h"
#include "strategy.h"

namespace kv {

struct CopyConfig {
  Strategy strategy = Strategy::StagedGather;
  Direction direction = Direction::Save;
  KvGeometry geometry;
  void* cache = nullptr;        // device base of the paged cache
  int stagingSlots = 0;         // StagedGather: the ring's slots (src/core/plan.ts decides them: why there)
  size_t stagingSlotBytes = 0;  // and the bytes of each, a multiple of 16
  int kernelCtas = 0;           // CTAs of a copy-kernel launch (MappedKernel, gather/scatter); 0: one per chunk
  bool streaming = false;       // copy kernels read/write the paged cache evict-first (streaming)
  bool persistStaging = false;  // StagedGather: the staging ring is an L2 persisting window (the caller sets the L2 set-aside)
  int batchSharePct = 0;        // StagedGather: this share of each part's blocks goes as batch copies instead
};

// A run of blocks of one layer and the host bytes they move to or from.
struct Segment {
  int layer = 0, count = 0;
  const int* ids = nullptr;
  char* host = nullptr;
};

// One pass through a staging ring slot: up to kMaxSegments segments, their blocks one after
// another in the slot. Sixteen holds a load job's layers (kLoadLayersPerJob) and the hits of one layer
// that a blocking load enqueues together, and keeps the segment table a small part of the kernel's
// parameter block.
constexpr int kMaxSegments = 16;
struct StagedPiece {
  int segments = 0, blocks = 0;
  Segment seg[kMaxSegments];
};

// Owns the staging buffers and events of one strategy on one pair of streams.
// enqueue() only enqueues (its host cost is what the strategy costs the caller);
// recordDone() marks the completion of everything enqueued so far.

class Copier {
 public:
  Copier(const CopyConfig& cfg, cudaStream_t main, cudaStream_t aux);
  void enqueue(int layer, const int* blockIds, int count, char* host);
  // Records `event` once every job enqueued so far has completed.
  // `alsoTimed` (--trace; may be null): a timing event recorded at the same point of the same stream.
  void recordDone(cudaEvent_t event, cudaEvent_t alsoTimed = nullptr);
  // Staged: issues the run of blocks held back for merging (recordDone does it too). A caller that
  // makes the copy stream wait for an event between enqueues flushes first, or the held-back
  // blocks would wait for that event as well.
  void flush();
  // Makes `stream` wait for every job enqueued so far.
  void joinInto(cudaStream_t stream);
  Strategy strategy() const { return cfg_.strategy; }

 private:
  void perChunk(int layer, const int* ids, int count, char* host);
  void batch(int layer, const int* ids, int count, char* host, cudaStream_t stream);
  void mapped(int layer, const int* ids, int count, char* host);
  void staged(int layer, const int* ids, int count, char* host);
  void stagePiece(const StagedPiece& piece);
  void copyPieceHost(const StagedPiece& piece, char* slot, cudaStream_t stream);

  CopyConfig cfg_;
  cudaStream_t main_, aux_;
  // Staged: ring slots alternate between aux_ and this second copy stream, so one
  // copy-engine copy is always queued behind the running one (no gap on the link
  // between pieces, which lets a small, L2-resident ring keep up with a large one).
  std::unique_ptr<Stream> aux2_;
  Event joined_{cudaEventDisableTiming};
  DeviceBuffer staging_;
  int slots_ = 0;
  size_t slotBytes_ = 0;
  std::vector<Event> stageReady_, stageFree_;
  unsigned long long piece_ = 0;
  // Staged: what is held back for the next piece. Consecutive enqueues are gathered into one
  // piece, up to a slot: a run that continues the last one (the jobs of a save task, over a pool
  // laid out layer by layer) extends it; any other (a load's next layer) becomes a segment of its
  // own. One kernel and one copy-engine call per piece instead of one per job: a 70B TP shard's
  // save job is 1 MiB and a load part 512 KiB, and each piece costs the connector thread about six
  // CUDA calls (a 1 MiB copy leaves the link idle for a tenth of its time).
  StagedPiece held_;
  std::vector<void*> pieceDsts_, pieceSrcs_;
  std::vector<size_t> pieceSizes_;
  // Staged with a batch share: those blocks move as cudaMemcpyBatchAsync copies between
  // the cache and the host extent on a stream of their own, beside the ring: the copy engine
  // reads the cache directly (one HBM pass, no SM), and the gather moves less.
  std::unique_ptr<Stream> batchStream_;
  Event batchOrdered_{cudaEventDisableTiming}, batchJoined_{cudaEventDisableTiming};
  std::vector<void*> dsts_, srcs_;
  std::vector<size_t> sizes_;
};

}  // namespace kv
