#include "rig.h"

#include <string>

#include "../common/error.h"

namespace kv {

DeviceBuffer upload(const std::vector<ChunkRef>& refs, cudaStream_t s) {
  DeviceBuffer b = allocDevice(std::max<size_t>(1, refs.size()) * sizeof(ChunkRef));
  if (!refs.empty()) KV_CUDA(cudaMemcpyAsync(b.get(), refs.data(), refs.size() * sizeof(ChunkRef), cudaMemcpyHostToDevice, s));
  KV_CUDA(cudaStreamSynchronize(s));  // `refs` may go away after this
  return b;
}

void validatePlan(const SaveLoadPlan& p) {
  const KvGeometry& g = p.geometry;
  auto bad = [](const std::string& m) { throw Error(codes::kBadInput, "save/load plan: " + m); };
  if (g.layers <= 0 || g.parts <= 0 || g.parts > 2 || g.chunkBytes == 0 || g.chunkBytes % 16) bad("bad KV geometry");
  if (p.transferBlocks <= 0 || p.blocksPerJob <= 0 || p.transferBlocks % p.blocksPerJob) bad("transfer blocks must be a multiple of blocks per job");
  if (g.gpuBlocks != p.shape.batch * p.shape.contextBlocks + p.transferBlocks) bad("gpuBlocks must be context + transfer blocks");
  if (p.steps <= 0 || p.warmupSteps < 0) bad("steps must be positive");
  if (p.strategies.empty()) bad("no strategy");
  if (p.stagingSlots < 2 || p.stagingSlotBytes % 16 || static_cast<size_t>(p.stagingSlots) * p.stagingSlotBytes > p.stagingBytes) bad("staging ring slots must be two or more, multiples of 16 bytes, within the ring");
  if (p.stagingSlotBytes < g.layerBlockBytes()) bad("staging buffer smaller than one block of one layer per ring slot");
  if (p.ceiling.device != p.device) bad("the ceiling plan must be for the run's device");
  if (p.mix && (p.load || p.useStore || p.traceSteps > 0)) bad("a mixed run is neither a load run nor one with a store or a trace");
  if (p.allReduce.on && (p.allReduce.world < 1 || p.allReduce.rank < 0 || p.allReduce.rank >= p.allReduce.world)) bad("all-reduce rank must be in [0, world)");
  if (p.allReduce.on && p.allReduce.world > 1 && p.allReduce.uniqueIdHex.empty()) bad("an all-reduce of several ranks needs rank 0's NCCL id");
  if (p.fault == Fault::AllReduceUnordered && !p.allReduce.on) bad("the allreduce-unordered fault needs the all-reduce");
  if (p.mix && p.transferBlocks / p.blocksPerJob < 4) bad("a mixed run needs four or more jobs in the transfer set (two each way)");
}

}  // namespace kv
