#include "phases.h"

#include "../cuda/device_info.h"

namespace kv {

// The pass is cut into this many timed groups (see StrategyAloneResult).
constexpr int kTransferSamples = 8;
StrategyAloneResult strategyAlone(Rig& rig, Strategy s, uint64_t gen) {
  const SaveLoadPlan& p = rig.p;
  const KvGeometry& g = rig.g;
  StrategyAloneResult r;
  r.strategy = strategyName(s);
  r.bytes = static_cast<double>(p.transferBlocks) * g.layerBlockBytes() * g.layers;
  rig.fillTransfer(gen);
  // The pass is timed in groups of jobs, the same groups both ways.
  const int perGroup = std::max(1, (rig.numJobs + kTransferSamples - 1) / kTransferSamples);
  const int groups = (rig.numJobs + perGroup - 1) / perGroup;
  for (int k = 0; k < groups; ++k)
    r.sampleBytes.push_back(static_cast<double>(std::min(perGroup, rig.numJobs - k * perGroup)) * p.blocksPerJob * g.layerBlockBytes() * g.layers);
  Stream main(Priority::Low), aux(Priority::Low);
  for (Direction dir : {Direction::Save, Direction::Load}) {
    Copier copier(rig.copyConfig(s, dir), main.get(), aux.get());
    if (dir == Direction::Load) {
      // The GPU copy is overwritten before the load, so only loaded bytes can pass.
      launchPoison(rig.cache.get(), g.cacheBytes(), rig.compute.get());
      KV_CUDA(cudaStreamSynchronize(rig.compute.get()));
    }
    // marks[0] before the first copy, marks[k] once group k's copies completed.
    std::vector<Event> marks(groups + 1);
    marks[0].record(main.get());
    double t0 = nowUs();
    // Each group's jobs layer by layer, as a save task gives them (the staged copier merges them).
    for (int k = 0; k < groups; ++k) {
      const int j0 = k * perGroup, j1 = std::min(rig.numJobs, j0 + perGroup);
      for (int l = 0; l < g.layers; ++l)
        for (int j = j0; j < j1; ++j) copier.enqueue(l, rig.jobIds(j), p.blocksPerJob, rig.pool->extentFor(j, l).host);
      copier.recordDone(marks[k + 1].get());
    }
    double enqueueMs = (nowUs() - t0) / 1000;
    marks.back().sync();
    std::vector<double>& sampleMs = dir == Direction::Save ? r.saveSampleMs : r.loadSampleMs;
    for (int k = 1; k <= groups; ++k) sampleMs.push_back(marks[k].since(marks[k - 1]));
    const Event& e0 = marks.front();
    const Event& e1 = marks.back();
    if (dir == Direction::Save) {
      r.saveMs = e1.since(e0);
      r.saveEnqueueMs = enqueueMs;
      if (p.fault == Fault::CorruptHostWord) rig.pool->base()[g.chunkBytes * 3 + 8] ^= 0x01;  // test hook
      if (p.verify) {
        std::vector<ChunkRef> refs;
        for (int j = 0; j < rig.numJobs; ++j)
          for (int l = 0; l < g.layers; ++l) rig.hostRefs(refs, j, l, gen);
        r.saveMismatches = checkChunksHost(refs.data(), static_cast<int>(refs.size()), g.chunkBytes);
        r.chunksChecked += static_cast<long long>(refs.size());
      }
    } else {
      r.loadMs = e1.since(e0);
      r.loadEnqueueMs = enqueueMs;
      if (p.verify) {
        std::vector<ChunkRef> refs;
        for (int j = 0; j < rig.numJobs; ++j)
          for (int l = 0; l < g.layers; ++l) rig.gpuRefs(refs, j, l, gen, p.blocksPerJob);
        r.loadMismatches = rig.checkGpu(refs);
        r.chunksChecked += static_cast<long long>(refs.size());
      }
    }
  }
  // Restore the context KV the forward reads (the poison covered it too).
  rig.fillContext();
  return r;
}

}  // namespace kv
