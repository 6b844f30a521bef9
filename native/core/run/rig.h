// The rig of one save/load run: everything the run allocates, made once and shared by its
// phases (the paged cache, the transfer and context block ids, the pinned pool, the forward),
// and the small helpers the phases share.
#pragma once
#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "samples.h"
#include "save_load.h"
#include "../copy/copy.h"
#include "../cuda/cuda_check.h"
#include "../cuda/device.h"
#include "../forward/forward.h"
#include "../kv/host_pool.h"
#include "../kv/kv_kernels.cuh"

namespace kv {

// Device copy of a host vector of refs, owned by the returned buffer.
DeviceBuffer upload(const std::vector<ChunkRef>& refs, cudaStream_t s);

// A plan the TypeScript planner should never send (bad input, exit 2) is refused before any allocation.
void validatePlan(const SaveLoadPlan& p);

// The jobs one direction's steps use: [first, first + count) of the transfer set, job j of the
// direction being job first + j % count of the rig. A one-direction run spans the whole set; a
// mixed run gives its saves one half and its loads the other, so neither direction reads blocks
// or extents the other writes.
struct JobSpan {
  int first = 0, count = 0;
  int job(int j) const { return first + j % count; }
};

// Everything one run allocates, created once and shared by the phases.
struct Rig {
  const SaveLoadPlan& p;
  KvGeometry g;
  Stream compute{Priority::High};
  DeviceBuffer cache;
  std::vector<int> contextIds, transferIds;
  int numJobs;
  std::unique_ptr<HostPoolBackend> pool;
  std::unique_ptr<Forward> forward;
  DeviceBuffer counter;
  StoreTier* store;  // null: the pinned pool is the store
  bool stagingInL2 = false;  // resolved from the plan's StagingL2 once the L2 set-aside is made

  Rig(const SaveLoadPlan& plan, StoreTier* st) : p(plan), g(plan.geometry), numJobs(plan.transferBlocks / plan.blocksPerJob), store(st) {
    cache = allocDevice(g.cacheBytes());
    counter = allocDevice(sizeof(unsigned long long));
    const int ctx = p.shape.batch * p.shape.contextBlocks;
    // A paged cache hands out blocks in no particular order: shuffle both regions.
    std::mt19937 rng(12345);
    contextIds.resize(ctx);
    std::iota(contextIds.begin(), contextIds.end(), 0);
    std::shuffle(contextIds.begin(), contextIds.end(), rng);
    transferIds.resize(p.transferBlocks);
    std::iota(transferIds.begin(), transferIds.end(), ctx);
    std::shuffle(transferIds.begin(), transferIds.end(), rng);
    pool = std::make_unique<HostPoolBackend>(numJobs, g.layers, p.blocksPerJob * g.layerBlockBytes());
    // Context KV holds finite data; everything else starts as poison (bf16 NaN).
    launchPoison(cache.get(), g.cacheBytes(), compute.get());
    fillContext();
    std::unique_ptr<AllReduce> tp;
    if (p.allReduce.on) {
      AllReducePlan ap = p.allReduce;
      ap.unordered = p.fault == Fault::AllReduceUnordered;
      tp = std::make_unique<AllReduce>(ap, compute.get(), g.layers);
    }
    forward = std::make_unique<Forward>(p.shape, g, cache.get(), contextIds, compute.get(), std::move(tp));
  }

  // Store requests may still read or write pool extents: they finish before the pool goes.
  ~Rig() {
    if (store) store->waitIdle();
  }

  void fillContext() {
    const int ctx = p.shape.batch * p.shape.contextBlocks;
    std::vector<ChunkRef> refs;
    refs.reserve(static_cast<size_t>(ctx) * g.layers * g.parts);
    for (int b = 0; b < ctx; ++b)
      for (int l = 0; l < g.layers; ++l)
        for (int part = 0; part < g.parts; ++part)
          refs.push_back({cache.get<char>() + g.chunkOffset(l, part, b), chunkSeed(0, l, part, b)});
    DeviceBuffer d = upload(refs, compute.get());
    launchFillChunks(d.get<ChunkRef>(), static_cast<int>(refs.size()), g.chunkBytes, compute.get());
    KV_CUDA(cudaStreamSynchronize(compute.get()));
  }

  // One (job slot, layer) extent of the pool; with a store, also the key of its record.
  size_t slots() const { return pool->slots(); }
  size_t slotOf(int job, int l) const { return pool->slotOf(static_cast<uint64_t>(job), l); }
  size_t extentBytes() const { return pool->extentBytes(); }
  char* extent(size_t slot) const { return pool->extentAt(slot); }
  const int* jobIds(int job) const { return transferIds.data() + static_cast<size_t>(job % numJobs) * p.blocksPerJob; }
  uint64_t logical(int job, int i) const { return static_cast<uint64_t>(job % numJobs) * p.blocksPerJob + i; }

  // GPU refs of `blocks` blocks of job `job` at layer `l`, holding generation `gen`;
  // `dstJob` names where they are on the GPU when that differs (loads).
  void gpuRefs(std::vector<ChunkRef>& out, int job, int l, uint64_t gen, int blocks, int dstJob = -1) const {
    const int* ids = jobIds(dstJob < 0 ? job : dstJob);
    for (int i = 0; i < blocks; ++i)
      for (int part = 0; part < g.parts; ++part)
        out.push_back({cache.get<char>() + g.chunkOffset(l, part, ids[i]), chunkSeed(gen, l, part, logical(job, i))});
  }
  // `h`: where the extent's bytes are, when not in the pool (a record read back from the store).
  void hostRefs(std::vector<ChunkRef>& out, int job, int l, uint64_t gen, char* h = nullptr) const {
    if (!h) h = pool->extentFor(job % numJobs, l).host;
    for (int i = 0; i < p.blocksPerJob; ++i)
      for (int part = 0; part < g.parts; ++part)
        out.push_back({h + (static_cast<size_t>(i) * g.parts + part) * g.chunkBytes, chunkSeed(gen, l, part, logical(job, i))});
  }
  // Writes generation `gen` into every transfer block on the GPU.
  void fillTransfer(uint64_t gen) {
    std::vector<ChunkRef> refs;
    for (int j = 0; j < numJobs; ++j)
      for (int l = 0; l < g.layers; ++l) gpuRefs(refs, j, l, gen, p.blocksPerJob);
    DeviceBuffer d = upload(refs, compute.get());
    launchFillChunks(d.get<ChunkRef>(), static_cast<int>(refs.size()), g.chunkBytes, compute.get());
    KV_CUDA(cudaStreamSynchronize(compute.get()));
  }
  long long checkGpu(const std::vector<ChunkRef>& refs) {
    DeviceBuffer d = upload(refs, compute.get());
    KV_CUDA(cudaMemsetAsync(counter.get(), 0, sizeof(unsigned long long), compute.get()));
    launchCheckChunks(d.get<ChunkRef>(), static_cast<int>(refs.size()), g.chunkBytes, counter.get<unsigned long long>(), compute.get());
    unsigned long long bad = 0;
    KV_CUDA(cudaMemcpyAsync(&bad, counter.get(), sizeof bad, cudaMemcpyDeviceToHost, compute.get()));
    KV_CUDA(cudaStreamSynchronize(compute.get()));
    return static_cast<long long>(bad);
  }
  CopyConfig copyConfig(Strategy s, Direction d) const {
    CopyConfig c;
    c.strategy = s;
    c.direction = d;
    c.geometry = g;
    c.cache = cache.get();
    c.stagingSlots = p.stagingSlots;
    c.stagingSlotBytes = p.stagingSlotBytes;
    c.kernelCtas = s == Strategy::MappedKernel ? p.mappedCtas : p.copyCtas;
    c.streaming = p.streamingCopies;
    c.persistStaging = stagingInL2;
    c.batchSharePct = s == Strategy::StagedGather ? p.batchSharePct : 0;
    return c;
  }
  // A launcher's ranks whose forwards all-reduce with each other (a process each): they stop on
  // the step they agree to (AllReduce::askStop, stopVoted), so the run is stopping once they
  // agreed, not when this rank alone was asked. Null: not such a rank.
  AllReduce* rankVote() const {
    AllReduce* tp = forward ? forward->allReduce() : nullptr;
    return tp && !p.group && tp->world() > 1 ? tp : nullptr;
  }
  bool cancelled() const {
    AllReduce* tp = rankVote();
    return tp ? tp->stopVoted() : p.stopping();
  }
  // Whether the next forward step may begin: GPUs whose forwards all-reduce with each other
  // stop on the same step (worker_group.h in one process; a launcher's ranks by the vote of the
  // step before, read after its sync), else a step begins unless the run is stopping.
  bool mayStep() const {
    if (p.group && p.allReduce.on) return p.group->mayStep(p.worker);
    if (AllReduce* tp = rankVote()) {
      if (tp->stopVoted()) return false;
      tp->askStop(p.stopping());  // carried by this step's probes
      return true;
    }
    return !cancelled();
  }
  JobSpan allJobs() const { return {0, numJobs}; }
  // A mixed run: the saves' half, then the loads' (a load's source and destination both in it).
  JobSpan saveHalf() const { return {0, numJobs - numJobs / 2}; }
  JobSpan loadHalf() const { return {numJobs - numJobs / 2, numJobs / 2}; }
};

}  // namespace kv
