#include "save_load.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <numeric>
#include <random>

#include "../connector/connector.h"
#include "../copy/copy.h"
#include "../common/format.h"
#include "../forward/forward.h"
#include "../cuda/cuda_check.h"
#include "../cuda/device.h"
#include "../cuda/device_info.h"
#include "../kv/host_pool.h"
#include "../measure/link_reference.h"
#include "../kv/kv_kernels.cuh"
#include "../measure/measure.h"

namespace kv {
namespace {

const char* designName(Design d) {
  switch (d) {
    case Design::Off: return "off";
    case Design::Async: return "async";
    case Design::Blocking: return "blocking";
  }
  return "?";
}

// Reserves room for `n` samples and touches it: the first write to a fresh page is a page
// fault (a microsecond or more) that would otherwise land inside the hook being timed.
template <typename V>
void presize(V& v, size_t n) {
  v.resize(n);
  v.clear();
}

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Bytes per millisecond of the median timed group; -1 when nothing was timed.
double medianRate(const std::vector<double>& ms, const std::vector<double>& bytes) {
  std::vector<double> rates;
  for (size_t i = 0; i < ms.size() && i < bytes.size(); ++i)
    if (ms[i] > 0) rates.push_back(bytes[i] / ms[i]);
  return rates.empty() ? -1.0 : medianOf(rates);
}

// Device copy of a host vector of refs, owned by the returned buffer.
DeviceBuffer upload(const std::vector<ChunkRef>& refs, cudaStream_t s) {
  DeviceBuffer b = allocDevice(std::max<size_t>(1, refs.size()) * sizeof(ChunkRef));
  if (!refs.empty()) KV_CUDA(cudaMemcpyAsync(b.get(), refs.data(), refs.size() * sizeof(ChunkRef), cudaMemcpyHostToDevice, s));
  KV_CUDA(cudaStreamSynchronize(s));  // `refs` may go away after this
  return b;
}

void validate(const SaveLoadPlan& p) {
  const KvGeometry& g = p.geometry;
  auto bad = [](const std::string& m) { throw Error(codes::kBadInput, "save/load plan: " + m); };
  if (g.layers <= 0 || g.parts <= 0 || g.parts > 2 || g.chunkBytes == 0 || g.chunkBytes % 16) bad("bad KV geometry");
  if (p.transferBlocks <= 0 || p.blocksPerJob <= 0 || p.transferBlocks % p.blocksPerJob) bad("transfer blocks must be a multiple of blocks per job");
  if (g.gpuBlocks != p.shape.batch * p.shape.contextBlocks + p.transferBlocks) bad("gpuBlocks must be context + transfer blocks");
  if (p.steps <= 0 || p.warmupSteps < 0) bad("steps must be positive");
  if (p.strategies.empty()) bad("no strategy");
  if (stagingSlotBytes(p.stagingBytes) < g.layerBlockBytes()) bad("staging buffer smaller than one block of one layer per ring slot");
}

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
    forward = std::make_unique<Forward>(p.shape, g, cache.get(), contextIds, compute.get());
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
    c.stagingBytes = p.stagingBytes;
    c.kernelCtas = s == Strategy::MappedKernel ? p.mappedCtas : p.copyCtas;
    c.streaming = p.streamingCopies;
    c.persistStaging = stagingInL2;
    c.batchSharePct = s == Strategy::StagedGather ? p.batchSharePct : 0;
    return c;
  }
  bool cancelled() const { return p.cancel && p.cancel->load(); }
};

// Each strategy alone: every transfer block saved, then loaded back over poison.
constexpr int kTransferSamples = 8;
TransferResult transfer(Rig& rig, Strategy s, uint64_t gen) {
  const SaveLoadPlan& p = rig.p;
  const KvGeometry& g = rig.g;
  TransferResult r;
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
    for (int j = 0; j < rig.numJobs; ++j) {
      for (int l = 0; l < g.layers; ++l) copier.enqueue(l, rig.jobIds(j), p.blocksPerJob, rig.pool->extentFor(j, l).host);
      if ((j + 1) % perGroup == 0 || j + 1 == rig.numJobs) copier.recordDone(marks[(j + perGroup) / perGroup].get());
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

// The store alone: every pool extent (holding generation `gen`) put through the I/O
// threads, the pool poisoned, every record read back into it and checked.
StoreLegResult storeLeg(Rig& rig, uint64_t gen) {
  StoreTier& st = *rig.store;
  StoreLegResult r;
  r.ran = true;
  st.counters = StoreCounters{};
  auto ignore = [](uint64_t, bool) {};
  double t0 = nowUs();
  for (size_t slot = 0; slot < rig.slots(); ++slot) st.put(slot, rig.extent(slot), static_cast<long long>(gen));
  st.flush(true);
  st.waitIdle();
  r.putMs = (nowUs() - t0) / 1000;
  st.drain(ignore, ignore);
  std::memset(rig.pool->base(), 0xA5, rig.slots() * rig.extentBytes());  // only bytes read back can pass
  t0 = nowUs();
  for (size_t slot = 0; slot < rig.slots(); ++slot)
    if (st.generation(slot) == static_cast<long long>(gen)) st.get(slot, rig.extent(slot), slot);
  st.flush(true);
  st.waitIdle();
  r.getMs = (nowUs() - t0) / 1000;
  st.drain(ignore, ignore);
  r.records = static_cast<long long>(rig.slots());
  r.bytes = static_cast<double>(st.counters.putsDone) * rig.extentBytes();
  r.putFailed = st.counters.putsFailed;
  r.getFailed = st.counters.getsFailed;
  r.firstError = st.counters.firstError;
  if (rig.p.verify) {
    std::vector<ChunkRef> refs;
    for (size_t slot = 0; slot < rig.slots(); ++slot)
      if (st.generation(slot) == static_cast<long long>(gen)) rig.hostRefs(refs, static_cast<int>(slot / rig.g.layers), static_cast<int>(slot % rig.g.layers), gen);
    r.mismatches = checkChunksHost(refs.data(), static_cast<int>(refs.size()), rig.g.chunkBytes);
    r.chunksChecked = static_cast<long long>(refs.size());
  }
  return r;
}

// After a concurrent save: every record the store is said to hold, read back on this
// thread and checked against its generation. A store that fails stops the check (said).
void verifyStoreRecords(Rig& rig, ConcurrentStore& cs) {
  std::vector<uint64_t> scratch(rig.extentBytes() / 8 + 1);
  char* buf = reinterpret_cast<char*>(scratch.data());
  for (size_t slot = 0; slot < rig.slots(); ++slot) {
    const long long gen = rig.store->generation(slot);
    if (gen < 0) continue;
    GetStatus s = GetStatus::Missing;
    try {
      s = rig.store->readBack(slot, buf);
    } catch (const Error& e) {
      cs.verifyError = e.what();
      return;
    }
    ++cs.recordsChecked;
    if (s != GetStatus::Ok) {
      ++cs.recordsUnreadable;
      continue;
    }
    std::vector<ChunkRef> refs;
    rig.hostRefs(refs, static_cast<int>(slot / rig.g.layers), static_cast<int>(slot % rig.g.layers), static_cast<uint64_t>(gen), buf);
    cs.mismatches += checkChunksHost(refs.data(), static_cast<int>(refs.size()), rig.g.chunkBytes);
  }
}

struct StepClock {
  Event start, end;
  double wall0 = 0;
};

// Every step of both phases ends the same way: the scheduler's per-step sync (sampling
// reads the logits), then the step's samples when it is measured.
void endStep(ConcurrentResult& r, const StepClock& clk, bool measured, Design design, double blockedUs, const StoreTier* tier) {
  clk.end.sync();
  if (!measured) return;
  const double now = nowUs();  // the step's wall end and the measured window's end are one instant
  if (r.measuredFromUs < 0) r.measuredFromUs = clk.wall0;
  r.measuredToUs = now;
  r.stepGpuMs.push_back(clk.end.since(clk.start));
  r.stepWallMs.push_back((now - clk.wall0) / 1000);
  if (design != Design::Off) r.hookUs["blocked_per_step"].push_back(blockedUs);
  if (tier && design != Design::Off) r.store.queueDepth.push_back(static_cast<double>(tier->outstanding()));
  ++r.stepsRun;
}

// Called just before a phase's first step and just after its last: what runs beside the
// steps (the link reference) starts and stops there, clear of the phase's own allocations
// and frees (cudaFree and cudaFreeHost wait for the whole device).
struct StepsWindow {
  std::function<void()> begin, end;
};

// The end of a concurrent phase: every connector copy completed and taken, the
// connector thread joined, then every store request finished and taken.
template <class TakeCompletions, class TakeStoreDone>
void finishPhase(std::unique_ptr<AsyncConnector>& conn, TakeCompletions takeCompletions, StoreTier* tier, TakeStoreDone takeStoreDone) {
  if (conn) {
    conn->drain();
    takeCompletions();
    conn.reset();
  }
  if (tier) {
    tier->waitIdle();
    takeStoreDone();
  }
}

// The forward with the connector beside it, saving every layer's new blocks.
ConcurrentResult concurrentSave(Rig& rig, Design design, Strategy s, int jobsPerStep, uint64_t genBase, int steps, const StepsWindow& around) {
  const SaveLoadPlan& p = rig.p;
  const KvGeometry& g = rig.g;
  ConcurrentResult r;
  r.design = designName(design);
  r.strategy = design == Design::Off ? "-" : strategyName(s);
  const double jobBytes = static_cast<double>(p.blocksPerJob) * g.layerBlockBytes();
  const int total = p.warmupSteps + steps;
  r.offeredBytesPerStep = jobBytes * jobsPerStep * g.layers;

  // Each step's KV writes [layer][job][block][part], built on the host and uploaded
  // through a ring of 4 pinned slots (the per-step sync makes a slot free again).
  const size_t perLayer = static_cast<size_t>(jobsPerStep) * p.blocksPerJob * g.parts;
  const size_t perStep = perLayer * g.layers;
  PinnedBuffer hostRing = allocPinned(4 * perStep * sizeof(ChunkRef));
  DeviceBuffer writes = allocDevice(4 * perStep * sizeof(ChunkRef));
  std::vector<ChunkRef> refs;
  refs.reserve(perStep);
  auto uploadStep = [&](int st) {
    refs.clear();
    for (int l = 0; l < g.layers; ++l)
      for (int k = 0; k < jobsPerStep; ++k) rig.gpuRefs(refs, st * jobsPerStep + k, l, genBase + st, p.blocksPerJob);
    ChunkRef* h = hostRing.get<ChunkRef>() + (st % 4) * perStep;
    std::copy(refs.begin(), refs.end(), h);
    KV_CUDA(cudaMemcpyAsync(writes.get<ChunkRef>() + (st % 4) * perStep, h, perStep * sizeof(ChunkRef), cudaMemcpyHostToDevice,
                            rig.compute.get()));
  };

  // The connector orders a save after its layer's event when it enqueues the copy, which can
  // be a few steps later (it keeps only kQueuedBytes on the GPU): a deep ring of events keeps
  // that wait on the step that wrote the blocks, not a later reuse of the event.
  constexpr int kEventSteps = 16;
  std::vector<Event> layerDone;
  for (int i = 0; i < kEventSteps * g.layers; ++i) layerDone.emplace_back(cudaEventDisableTiming);
  // Which generation each host extent last received whole: what verification expects.
  const size_t slots = rig.slots();
  std::vector<long long> lastGen(slots, -1);
  // Newest task that saves any layer of each job's blocks: an engine cannot rewrite a
  // block whose save has not finished, so the forward waits for it (a slow connector's cost).
  // Tasks complete in order, so the newest one stands for every layer of the job.
  std::vector<long long> jobPending(slots / g.layers, -1);
  // A save task: `count` jobs from job `first`, layer `layer`.
  const int groupsPerLayer = (jobsPerStep + kMaxParts - 1) / kMaxParts;
  // No allocation inside the measured hooks: every sample vector is sized up front.
  presize(r.transferLatencyMs, static_cast<size_t>(total) * g.layers * groupsPerLayer);
  for (const char* h : {"wait_for_block_free", "poll", "wait_for_save", "publish_saves", "blocked_per_step"}) presize(r.hookUs[h], total);
  presize(r.hookUs["save_layer"], static_cast<size_t>(total) * g.layers);

  // A save task's copies: each job's blocks of that layer into the job's extent of the layer.
  auto expand = [&rig, jobBytes](const ConnectorTask& t, std::deque<ConnectorJob>& out) {
    ConnectorJob& j = out.emplace_back();
    j.id = t.id;
    j.parts = t.count;
    j.after = t.after;
    j.bytes = t.count * jobBytes;
    for (int i = 0; i < t.count; ++i) {
      const int job = t.first + i;
      j.part[i] = CopyPart{rig.jobIds(job), rig.p.blocksPerJob, rig.pool->extentFor(job % rig.numJobs, t.layer).host, t.layer};
    }
  };
  std::unique_ptr<AsyncConnector> conn;
  std::unique_ptr<Stream> saveMain, saveAux;
  std::unique_ptr<Copier> copier;
  std::deque<ConnectorJob> blockingJobs;  // blocking: save_layer expands its task itself
  std::vector<ConnectorTask> stepTasks;   // blocking: this step's saves, complete at wait_for_save
  if (design == Design::Async) {
    conn = std::make_unique<AsyncConnector>(p.device, rig.copyConfig(s, Direction::Save), expand, p.fault == Fault::DropEventWait, 1 << 14);
  } else if (design == Design::Blocking) {
    saveMain = std::make_unique<Stream>(Priority::Low);
    saveAux = std::make_unique<Stream>(Priority::Low);
    copier = std::make_unique<Copier>(rig.copyConfig(s, Direction::Save), saveMain->get(), saveAux->get());
  }
  const double inflightCap = 2.0 * r.offeredBytesPerStep;
  double inflightBytes = 0, firstEnqueue = -1, lastDone = 0;
  long long submitted = 0, completed = 0;  // tasks; they complete in submission order
  auto& hooks = r.hookUs;
  StoreTier* tier = rig.store;
  if (tier) {
    tier->resetCounters(static_cast<size_t>(total) * g.layers * 2);
    r.store.used = true;
    presize(r.store.queueDepth, total);
  }
  auto ignore = [](uint64_t, bool) {};
  // Async: every task lives in one ring, at its id: save_layer writes it in place, a step's
  // tasks are published as one span, and a completion (an id) finds its task there. A slot is
  // written again only once its task completed; the ring holds kTaskSteps steps of tasks, far
  // more than are ever in flight (the bytes in flight are capped at two steps' worth).
  constexpr int kTaskSteps = 16;
  const long long stepTaskMax = static_cast<long long>(g.layers) * groupsPerLayer;
  long long taskRing = 1;  // a power of two: a completion's slot is a mask, not a division
  while (taskRing < kTaskSteps * stepTaskMax) taskRing *= 2;
  std::vector<ConnectorTask> tasks(design == Design::Async ? taskRing : 0);
  long long published = 0;  // tasks handed to the connector
  presize(stepTasks, static_cast<size_t>(stepTaskMax));

  // Runs once per completion, inside poll.
  auto complete = [&](const ConnectorTask& t, double doneUs) {
    ++completed;
    const double bytes = t.count * jobBytes;
    const long long gen = static_cast<long long>(genBase) + t.step;
    r.transferLatencyMs.push_back((doneUs - t.enqueuedUs) / 1000);
    r.bytesMoved += bytes;
    r.jobsDone += t.count;
    lastDone = std::max(lastDone, doneUs);
    inflightBytes -= bytes;
    for (int i = 0; i < t.count; ++i) {
      const size_t slot = rig.slotOf(t.first + i, t.layer);
      lastGen[slot] = gen;
      // The extent now holds the save: hand it to the store (async: dropped if the queue is full).
      if (tier) tier->put(slot, rig.extent(slot), gen);
    }
  };
  auto drainCompletions = [&] {
    ConnectorDone d;
    while (conn->poll(&d)) complete(tasks[d.id & (taskRing - 1)], d.doneUs);
    if (tier) tier->flush(false);  // what the full queue refuses is dropped, counted
  };

  if (around.begin) around.begin();
  for (int st = 0; st < total; ++st) {
    if (rig.cancelled()) break;
    const bool measured = st >= p.warmupSteps;
    StepClock clk;
    double blocked = 0;
    clk.wall0 = nowUs();
    if (design == Design::Async) {
      // Blocks this step rewrites must have no save in flight, and the ring slots this step
      // fills must hold completed tasks (kTaskSteps steps ago: they always do).
      double t0 = nowUs();
      while (submitted + stepTaskMax - completed > taskRing) {
        drainCompletions();
        conn->rethrow();
        std::this_thread::yield();
      }
      for (int k = 0; k < jobsPerStep; ++k) {
        const long long id = jobPending[(st * jobsPerStep + k) % rig.numJobs];
        while (id >= completed) {
          drainCompletions();
          if (id >= completed) { conn->rethrow(); std::this_thread::yield(); }
        }
      }
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["wait_for_block_free"].push_back(us);
    }
    uploadStep(st);
    clk.start.record(rig.compute.get());
    for (int l = 0; l < g.layers; ++l) {
      cudaEvent_t ev = layerDone[(st % kEventSteps) * g.layers + l].get();
      const ChunkRef* w = writes.get<ChunkRef>() + (st % 4) * perStep + l * perLayer;
      rig.forward->layer(l, w, static_cast<int>(perLayer), ev);
      if (design == Design::Off) continue;
      double t0 = nowUs();
      // save_layer: one descriptor per kMaxParts jobs of this layer.
      for (int k0 = 0; k0 < jobsPerStep; k0 += kMaxParts) {
        const int n = std::min(kMaxParts, jobsPerStep - k0);
        r.jobsOffered += n;
        if (design == Design::Async && inflightBytes + n * jobBytes > inflightCap) {  // never block: skip
          r.jobsSkipped += n;
          continue;
        }
        if (tier) {  // an extent the store still writes from cannot take a new save: skip, never wait
          bool busy = false;
          for (int i = 0; i < n && !busy; ++i) busy = tier->busy(rig.slotOf(st * jobsPerStep + k0 + i, l));
          if (busy) {
            r.jobsSkipped += n;
            tier->counters.savesSkippedBusy += n;
            continue;
          }
        }
        // Async: written in place in the ring (published at the end of the step's launches).
        ConnectorTask& t = design == Design::Async ? tasks[submitted & (taskRing - 1)] : stepTasks.emplace_back();
        t.id = static_cast<uint64_t>(submitted++);
        t.enqueuedUs = t0;
        t.after = ev;
        t.step = st;
        t.first = st * jobsPerStep + k0;
        t.layer = l;
        t.count = n;
        for (int i = 0; i < n; ++i) jobPending[(t.first + i) % rig.numJobs] = static_cast<long long>(t.id);
        if (firstEnqueue < 0) firstEnqueue = t0;
        inflightBytes += n * jobBytes;
        if (design != Design::Async) {
          if (p.fault != Fault::DropEventWait) KV_CUDA(cudaStreamWaitEvent(saveMain->get(), ev, 0));
          expand(t, blockingJobs);
          const ConnectorJob& j = blockingJobs.back();
          for (int i = 0; i < j.parts; ++i) copier->enqueue(l, j.part[i].blockIds, j.part[i].count, j.part[i].host);
          blockingJobs.clear();
        }
      }
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["save_layer"].push_back(us);
    }
    clk.end.record(rig.compute.get());
    if (design == Design::Async) {
      // End of the step's launches: the step's saves are published with one push (two where
      // the span wraps the ring; the queue is deep enough that a push never waits).
      double t0 = nowUs();
      while (published < submitted) {
        const long long n = std::min(submitted, published - published % taskRing + taskRing) - published;
        while (!conn->submitBatch({&tasks[published & (taskRing - 1)], static_cast<int>(n)})) std::this_thread::yield();
        published += n;
      }
      double pub = nowUs() - t0;
      blocked += pub;
      if (measured) hooks["publish_saves"].push_back(pub);
      t0 = nowUs();
      drainCompletions();
      if (tier) tier->drain(ignore, ignore);
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["poll"].push_back(us);
      conn->rethrow();
    } else if (design == Design::Blocking) {
      double t0 = nowUs();
      Event saved(cudaEventDisableTiming);
      copier->recordDone(saved.get());
      saved.sync();
      double done = nowUs();
      for (const ConnectorTask& t : stepTasks) complete(t, done);
      stepTasks.clear();
      if (tier) {  // the save is done when the store has it
        tier->flush(true);
        tier->waitIdle();
        tier->drain(ignore, ignore);
      }
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["wait_for_save"].push_back(us);
    }
    endStep(r, clk, measured, design, blocked, tier);
  }
  if (around.end) around.end();
  finishPhase(conn, drainCompletions, tier, [&] { tier->drain(ignore, ignore); });
  if (firstEnqueue >= 0) r.windowMs = (lastDone - firstEnqueue) / 1000;
  r.nonFinite = rig.forward->nonFiniteOutputs();
  if (p.verify && design != Design::Off) {
    std::vector<ChunkRef> check;
    for (int job = 0; job < rig.numJobs; ++job)
      for (int l = 0; l < g.layers; ++l) {
        long long gen = lastGen[rig.slotOf(job, l)];
        if (gen >= 0) rig.hostRefs(check, job, l, static_cast<uint64_t>(gen));
      }
    r.mismatches = checkChunksHost(check.data(), static_cast<int>(check.size()), g.chunkBytes);
    r.chunksChecked = static_cast<long long>(check.size());
    if (tier) verifyStoreRecords(rig, r.store);
  }
  if (tier) r.store.counters = tier->counters;
  return r;
}

// The forward while requests with prefix hits arrive and load their blocks. Request q
// loads the first `loadBlocks` blocks saved by job q into the GPU blocks of job q + half;
// every destination therefore always receives the same source, which is what the
// end-of-phase verification expects (no verification work inside the measured steps).
ConcurrentResult concurrentLoad(Rig& rig, Design design, Strategy s, double requestsPerStep, int loadBlocks, uint64_t gen, int steps, const StepsWindow& around) {
  const SaveLoadPlan& p = rig.p;
  const KvGeometry& g = rig.g;
  ConcurrentResult r;
  r.design = designName(design);
  r.strategy = design == Design::Off ? "-" : strategyName(s);
  const double reqBytes = static_cast<double>(loadBlocks) * g.layerBlockBytes() * g.layers;
  const int total = p.warmupSteps + steps;
  r.offeredBytesPerStep = reqBytes * requestsPerStep;
  const int half = std::max(1, rig.numJobs / 2);
  // Poison every destination first, so a block never loaded cannot pass.
  {
    std::vector<ChunkRef> dst;
    for (int j = 0; j < rig.numJobs; ++j)
      for (int l = 0; l < g.layers; ++l) rig.gpuRefs(dst, j, l, gen, p.blocksPerJob);
    DeviceBuffer d = upload(dst, rig.compute.get());
    launchPoisonChunks(d.get<ChunkRef>(), static_cast<int>(dst.size()), g.chunkBytes, rig.compute.get());
    KV_CUDA(cudaStreamSynchronize(rig.compute.get()));
  }

  // Async: a request's layers go to the connector kMaxParts to a job; its jobs complete in order.
  const int jobsPerRequest = (g.layers + kMaxParts - 1) / kMaxParts;
  // A load task: request `first`, every layer, from its pool extents to its GPU blocks.
  auto expand = [&rig, half, loadBlocks, jobsPerRequest](const ConnectorTask& t, std::deque<ConnectorJob>& out) {
    const KvGeometry& g = rig.g;
    const int q = t.first;
    for (int k = 0; k < jobsPerRequest; ++k) {
      ConnectorJob& j = out.emplace_back();
      j.id = static_cast<uint64_t>(q) * jobsPerRequest + k;
      j.parts = std::min(kMaxParts, g.layers - k * kMaxParts);
      for (int i = 0; i < j.parts; ++i) {
        const int l = k * kMaxParts + i;
        j.part[i] = CopyPart{rig.jobIds(q + half), loadBlocks, rig.pool->extentFor(q % rig.numJobs, l).host, l};
      }
      j.bytes = static_cast<double>(j.parts) * loadBlocks * g.layerBlockBytes();
    }
  };
  std::unique_ptr<AsyncConnector> conn;
  std::unique_ptr<Stream> loadMain, loadAux;
  std::unique_ptr<Copier> copier;
  std::vector<Event> layerLoaded;
  if (design == Design::Async) {
    conn = std::make_unique<AsyncConnector>(p.device, rig.copyConfig(s, Direction::Load), expand, false, 1 << 14);
  } else if (design == Design::Blocking) {
    loadMain = std::make_unique<Stream>(Priority::Low);
    loadAux = std::make_unique<Stream>(Priority::Low);
    copier = std::make_unique<Copier>(rig.copyConfig(s, Direction::Load), loadMain->get(), loadAux->get());
    for (int l = 0; l < g.layers; ++l) layerLoaded.emplace_back(cudaEventDisableTiming);
  }
  auto& hooks = r.hookUs;
  for (const char* h : {"start_load", "poll", "blocked_per_step"}) presize(hooks[h], total);
  presize(hooks["wait_for_layer_load"], static_cast<size_t>(total) * g.layers);
  presize(hooks["lookup"], static_cast<size_t>(std::ceil(requestsPerStep * total)) + 16);
  presize(r.transferLatencyMs, static_cast<size_t>(std::ceil(requestsPerStep * total)) + 16);
  std::vector<double> arrival;       // by request
  presize(arrival, static_cast<size_t>(std::ceil(requestsPerStep * total)) + 16);
  std::deque<int> waiting;           // hit, load not started (async backpressure)
  std::vector<char> loaded(rig.numJobs, 0);  // destinations written at least once
  int inflight = 0, nextRequest = 0;
  double acc = 0, firstEnqueue = -1, lastDone = 0;
  const int inflightCap = std::max(2, static_cast<int>(std::ceil(2 * requestsPerStep)));

  StoreTier* tier = rig.store;
  // With a store: how many layer records of request q are still being read, and whether one failed.
  std::vector<int> getsLeft;
  std::vector<char> getFailed;
  if (tier) {
    tier->resetCounters(static_cast<size_t>(total) * g.layers * 2);
    r.store.used = true;
    presize(r.store.queueDepth, total);
    presize(getsLeft, arrival.capacity());
    presize(getFailed, arrival.capacity());
  }
  // The scheduler's get_num_new_matched_tokens. The pool answers from its index; a store
  // answers synchronously (blocking design) or later through its I/O threads (async).
  auto lookup = [&](int q, bool measured) {
    double t0 = nowUs();
    bool hit = false;
    if (!tier) {
      hit = rig.pool->lookup(static_cast<uint64_t>(q % rig.numJobs)).has_value();
    } else if (design == Design::Blocking) {
      try {
        hit = tier->containsNow(rig.slotOf(q, 0));
      } catch (const Error& e) {
        ++tier->counters.lookupsFailed;
        if (tier->counters.firstError.empty()) tier->counters.firstError = e.what();
      }
    } else if (!tier->lookup(rig.slotOf(q, 0), static_cast<uint64_t>(q))) {
      ++r.store.lookupsRefused;
    }
    double us = nowUs() - t0;
    if (measured) hooks["lookup"].push_back(us);
    return std::make_pair(hit, us);
  };
  auto ready = [&](int q, double doneUs) {
    ++r.requestsScheduled;
    ++r.jobsDone;
    r.transferLatencyMs.push_back((doneUs - arrival[q]) / 1000);
    r.bytesMoved += reqBytes;
    lastDone = std::max(lastDone, doneUs);
    loaded[(q + half) % rig.numJobs] = 1;
  };
  auto drainCompletions = [&] {
    ConnectorDone d;
    while (conn->poll(&d)) {
      if (static_cast<int>(d.id % jobsPerRequest) != jobsPerRequest - 1) continue;  // ready when its last job is
      --inflight;
      ready(static_cast<int>(d.id / jobsPerRequest), d.doneUs);
    }
  };
  // Async: the loads started in one hook go into one batch, handed over with one push.
  constexpr int kLoadRing = 8;
  std::vector<std::vector<ConnectorTask>> loadBatches(kLoadRing);
  for (auto& b : loadBatches) presize(b, static_cast<size_t>(inflightCap + 1));
  long long loadBatchesSubmitted = 0;
  int loadBatch = 0;
  auto publishCopies = [&] {
    std::vector<ConnectorTask>& b = loadBatches[loadBatch];
    if (b.empty()) return;
    while (!conn->submitBatch({b.data(), static_cast<int>(b.size())})) std::this_thread::yield();
    ++loadBatchesSubmitted;
    loadBatch = (loadBatch + 1) % kLoadRing;
    while (conn->batchesTaken() < loadBatchesSubmitted - (kLoadRing - 1)) {  // the next batch's memory is read
      conn->rethrow();
      std::this_thread::yield();
    }
    loadBatches[loadBatch].clear();
  };
  // Async: request q's load, expanded into its copies on the connector thread.
  auto submitCopies = [&](int q) {
    if (firstEnqueue < 0) firstEnqueue = nowUs();
    loadBatches[loadBatch].push_back(ConnectorTask{static_cast<uint64_t>(q), arrival[q], nullptr, 0, q, 0, g.layers});
  };
  auto growTo = [&](int q) {
    if (static_cast<int>(getsLeft.size()) <= q) {
      getsLeft.resize(q + 1, 0);
      getFailed.resize(q + 1, 0);
    }
  };
  // Store answers: a found lookup makes its request wait for the link; the last record of a
  // request read whole starts its copies (async); a record missing or corrupt fails the request.
  auto onLookup = [&](uint64_t q, bool found) {
    if (found) waiting.push_back(static_cast<int>(q));
  };
  auto onGet = [&](uint64_t tag, bool whole) {
    const int q = static_cast<int>(tag / g.layers);
    if (!whole) getFailed[q] = 1;
    if (--getsLeft[q] > 0) return;
    if (design != Design::Async) return;  // the blocking design looks at getFailed itself
    if (getFailed[q]) {
      --inflight;
      ++r.store.requestsFailed;
    } else {
      submitCopies(q);
    }
  };
  auto drainStore = [&] {
    if (tier) tier->drain(onGet, onLookup);
  };
  // Async with a store: start reading request q's records if its extents and the queue are free.
  auto startGets = [&](int q) {
    for (int l = 0; l < g.layers; ++l)
      if (tier->busy(rig.slotOf(q, l))) return false;
    if (tier->room() < static_cast<size_t>(g.layers)) return false;
    growTo(q);
    getsLeft[q] = g.layers;
    for (int l = 0; l < g.layers; ++l) tier->get(rig.slotOf(q, l), rig.extent(rig.slotOf(q, l)), static_cast<uint64_t>(q) * g.layers + l);
    return true;
  };

  if (around.begin) around.begin();
  for (int st = 0; st < total; ++st) {
    if (rig.cancelled()) break;
    const bool measured = st >= p.warmupSteps;
    double blocked = 0;
    StepClock clk;
    clk.wall0 = nowUs();
    std::vector<int> arrivals;
    for (acc += requestsPerStep; acc >= 1; acc -= 1) arrivals.push_back(nextRequest++);
    for (size_t i = 0; i < arrivals.size(); ++i) arrival.push_back(nowUs());
    r.jobsOffered += static_cast<long long>(arrivals.size());
    std::vector<int> hits;
    for (int q : arrivals) {
      auto [hit, us] = lookup(q, measured);  // the scheduler's get_num_new_matched_tokens
      blocked += us;
      if (hit) hits.push_back(q);
    }
    if (design == Design::Async) {
      for (int q : hits) waiting.push_back(q);
      double t0 = nowUs();
      drainStore();  // answered lookups join `waiting`; whole records start their copies
      while (!waiting.empty() && inflight < inflightCap) {
        int q = waiting.front();
        if (tier) {
          if (!startGets(q)) break;  // its copies start when its records are in (drainStore)
        } else {
          submitCopies(q);
        }
        waiting.pop_front();
        ++inflight;
      }
      if (tier) tier->flush(false);  // every request started above, with one wake-up
      publishCopies();
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["start_load"].push_back(us);
      if (!waiting.empty()) ++r.requestsNotReadySteps;
    } else if (design == Design::Blocking && !hits.empty()) {
      double t0 = nowUs();
      if (firstEnqueue < 0) firstEnqueue = t0;
      if (tier) {  // read every hit's records first, waiting for the store; drop the requests that failed
        for (int q : hits) {
          growTo(q);
          getsLeft[q] = g.layers;
          for (int l = 0; l < g.layers; ++l) tier->get(rig.slotOf(q, l), rig.extent(rig.slotOf(q, l)), static_cast<uint64_t>(q) * g.layers + l);
        }
        tier->flush(true);
        tier->waitIdle();
        drainStore();
        std::vector<int> whole;
        for (int q : hits)
          if (getFailed[q]) ++r.store.requestsFailed;
          else whole.push_back(q);
        hits.swap(whole);
      }
      for (int l = 0; l < g.layers && !hits.empty(); ++l) {
        for (int q : hits) copier->enqueue(l, rig.jobIds(q + half), loadBlocks, rig.pool->extentFor(q % rig.numJobs, l).host);
        copier->recordDone(layerLoaded[l].get());
      }
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["start_load"].push_back(us);
    }
    clk.start.record(rig.compute.get());
    for (int l = 0; l < g.layers; ++l) {
      if (design == Design::Blocking && !hits.empty()) {
        double t0 = nowUs();
        layerLoaded[l].sync();  // wait_for_layer_load: the host waits before launching the layer
        double us = nowUs() - t0;
        blocked += us;
        if (measured) hooks["wait_for_layer_load"].push_back(us);
      }
      rig.forward->layer(l, nullptr, 0, nullptr);
    }
    clk.end.record(rig.compute.get());
    if (design == Design::Async) {
      double t0 = nowUs();
      drainCompletions();
      drainStore();
      publishCopies();  // of requests whose records came in
      double us = nowUs() - t0;
      blocked += us;
      if (measured) hooks["poll"].push_back(us);
      conn->rethrow();
    } else if (design == Design::Blocking && !hits.empty()) {
      double done = nowUs();  // every layer's load was waited for above
      for (int q : hits) ready(q, done);
    }
    endStep(r, clk, measured, design, blocked, tier);
  }
  if (around.end) around.end();
  if (tier && conn) {  // records still being read: let them land and their copies start, then drain
    tier->waitIdle();
    drainStore();
    publishCopies();
  }
  finishPhase(conn, drainCompletions, tier, drainStore);
  if (tier) r.store.counters = tier->counters;
  r.jobsSkipped = static_cast<long long>(waiting.size());
  if (firstEnqueue >= 0) r.windowMs = (lastDone - firstEnqueue) / 1000;
  r.nonFinite = rig.forward->nonFiniteOutputs();
  if (p.verify && design != Design::Off) {
    std::vector<ChunkRef> check;
    for (int d = 0; d < rig.numJobs; ++d) {
      if (!loaded[d]) continue;
      const int src = ((d - half) % rig.numJobs + rig.numJobs) % rig.numJobs;
      for (int l = 0; l < g.layers; ++l) rig.gpuRefs(check, src, l, gen, loadBlocks, d);
    }
    r.mismatches = rig.checkGpu(check);
    r.chunksChecked = static_cast<long long>(check.size());
  }
  return r;
}

// The link reference's copies: large enough that each one alone reaches the link's ceiling.
constexpr size_t kReferenceChunk = 8u << 20;

// The baseline runs first and again last: clocks drift over a run, and the slowdown
// is taken against both.
std::vector<Design> designsWithClosingBaseline(const std::vector<Design>& designs) {
  std::vector<Design> out = designs;
  bool off = std::find(designs.begin(), designs.end(), Design::Off) != designs.end();
  if (off && designs.size() > 1) out.push_back(Design::Off);
  return out;
}

}  // namespace

SaveLoadResult runSaveLoad(const SaveLoadPlan& p) {
  validate(p);
  requireDevice(p.device);
  useDevice(p.device);
  SaveLoadResult out;
  // The store opens first: a wrong address, password or a full disk fails before any allocation.
  std::unique_ptr<StoreTier> store;
  if (p.useStore) {
    const size_t slots = static_cast<size_t>(p.transferBlocks / p.blocksPerJob) * p.geometry.layers;
    store = std::make_unique<StoreTier>(p.store, slots, static_cast<size_t>(p.blocksPerJob) * p.geometry.layerBlockBytes());
    out.store = store->describe();
    out.storeNote = store->note();
    out.storeDirect = store->direct();
  }

  MeasurePlan mp;
  mp.device = p.device;
  mp.bytes = p.ceilingBytes;
  mp.pageableBytes = 8u << 20;
  mp.iterations = p.ceilingIterations;
  mp.pageableIterations = 2;
  mp.warmup = 2;
  mp.smallBytes = 4096;
  mp.smallIterations = 10;
  mp.verify = p.verify;
  // The link's ceiling: measured before the strategies and again after them, and the higher
  // median of each direction kept (a busy host or link only ever lowers a reading; one low
  // reading put strategies at 130% of it).
  auto measureLink = [&](double& h2d, double& d2h) {
    for (const CopyMeasurement& m : measureCeilings(mp).copies) {
      const double gbps = m.bytesPerSample / (medianOf(m.samplesMs) * 1e6);
      if (m.id == "h2d_pinned") h2d = gbps;
      if (m.id == "d2h_pinned") d2h = gbps;
    }
  };
  measureLink(out.ceilingH2dGBps, out.ceilingD2hGBps);

  // The L2 set-aside for a persisting staging ring is device-wide. It is held only while a
  // phase moves bytes through that ring: the connector-off baselines and the link reference run
  // with the whole L2, as the forward would without this connector (with the set-aside held,
  // the baseline step ran 0.6% slower on an H200 and 1% on an H100, and the ring's cost hid in
  // it). It is returned on every path.
  struct L2SetAside {
    size_t bytes = 0;  // 0: the staging ring stays in HBM
    bool held = false;
    void hold() {
      if (bytes == 0 || held) return;
      KV_CUDA(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, bytes));
      held = true;
    }
    void release() {
      if (!held) return;
      held = false;
      KV_CUDA(cudaDeviceSynchronize());  // no persisting access still in flight
      KV_CUDA(cudaCtxResetPersistingL2Cache());
      KV_CUDA(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, 0));
    }
    ~L2SetAside() {
      if (!held) return;
      cudaDeviceSynchronize();
      cudaCtxResetPersistingL2Cache();
      cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, 0);
    }
  } setAside;
  // Runs `phase` with the set-aside held when it moves bytes through the staged ring.
  auto withRing = [&](bool staged, auto&& phase) {
    if (staged) setAside.hold();
    auto r = phase();
    setAside.release();
    return r;
  };
  // Auto keeps the ring in L2 only where the whole ring fits the GPU's set-aside; Persist
  // sets aside what it can and says when the ring is larger.
  if (p.stagingL2 != StagingL2::Normal) {
    int maxPersist = 0;
    KV_CUDA(cudaDeviceGetAttribute(&maxPersist, cudaDevAttrMaxPersistingL2CacheSize, p.device));
    const size_t allowed = maxPersist > 0 ? static_cast<size_t>(maxPersist) : 0;
    const std::string ring = std::to_string(p.stagingBytes >> 20) + " MiB", mib = std::to_string(allowed >> 20) + " MiB";
    if (p.stagingL2 == StagingL2::Persist && allowed == 0) throw Error(codes::kBadInput, "--staging-l2 persist: this GPU has no persisting L2");
    if (p.stagingL2 == StagingL2::Auto && allowed < p.stagingBytes) {
      out.notes.push_back("--staging-l2 auto: the " + ring + " staging ring stays in HBM (this GPU's persisting L2 allows " + mib + ")");
    } else {
      setAside.bytes = std::min(p.stagingBytes, allowed);
      out.stagingInL2 = true;
      const char* flag = p.stagingL2 == StagingL2::Auto ? "--staging-l2 auto" : "--staging-l2 persist";
      out.notes.push_back(std::string(flag) + ": the staging ring in an L2 set-aside of " + std::to_string(setAside.bytes >> 20) + " MiB (this GPU allows " +
                          mib + "), held only while the ring runs: the connector-off baselines and the link reference have the whole L2");
      if (p.stagingBytes > allowed)
        out.notes.push_back("--staging-l2 persist: the staging ring (" + ring + ") is larger than the L2 set-aside (" + mib +
                            "); lower --staging-mib to keep it resident");
    }
  }
  Rig rig(p, store.get());
  rig.stagingInL2 = out.stagingInL2;
  out.gemmEngine = rig.forward->gemmEngine();
  const KvGeometry& g = rig.g;

  uint64_t gen = 1;
  for (Strategy s : p.strategies) {
    if (rig.cancelled()) break;
    out.transfers.push_back(withRing(s == Strategy::StagedGather, [&] { return transfer(rig, s, gen++); }));
  }

  if (store && !out.transfers.empty() && !rig.cancelled()) out.storeLeg = storeLeg(rig, gen - 1);  // the pool holds the last save

  if (!rig.cancelled()) {
    double h2d = 0, d2h = 0;
    measureLink(h2d, d2h);
    auto keepHigher = [&](double& kept, double again, const char* dir) {
      if (std::abs(again - kept) > 0.03 * std::max(again, kept))
        out.notes.push_back(std::string("ceiling ") + dir +
                            fmt(" read %.1f GB/s before the strategies and %.1f GB/s after them: the higher is used (the host or link was busy for the other)", kept, again));
      kept = std::max(kept, again);
    };
    keepHigher(out.ceilingH2dGBps, h2d, "H2D");
    keepHigher(out.ceilingD2hGBps, d2h, "D2H");
  }

  std::vector<Strategy> concurrentStrategies = p.strategies;
  if (p.pickBest && !out.transfers.empty()) {
    // The fastest verified strategy (median of its pass's timed groups: one slow patch of the
    // host does not decide); among those within 1% of it (a tie, given run-to-run
    // noise), the one cheapest to enqueue: the connector thread's enqueue rate bounds what
    // it can move beside the forward. A strategy that moves bytes over PCIe on SMs is not a
    // candidate while a copy-engine one is: alone it can look fastest, beside the forward it
    // takes the SMs the forward runs on (an H100 step took 2.3x as long).
    bool copyEngineMeasured = false;
    for (size_t i = 0; i < out.transfers.size(); ++i) copyEngineMeasured |= !movesOverPcieOnSms(p.strategies[i]);
    auto rate = [&](size_t i) {
      const TransferResult& t = out.transfers[i];
      const long long bad = p.load ? t.loadMismatches : t.saveMismatches;
      if (bad != 0 || (copyEngineMeasured && movesOverPcieOnSms(p.strategies[i]))) return -1.0;
      return medianRate(p.load ? t.loadSampleMs : t.saveSampleMs, t.sampleBytes);
    };
    double best = -1;
    for (size_t i = 0; i < out.transfers.size(); ++i) best = std::max(best, rate(i));
    double cheapest = -1;
    for (size_t i = 0; i < out.transfers.size() && best > 0; ++i) {
      const TransferResult& t = out.transfers[i];
      const double enqueueMs = p.load ? t.loadEnqueueMs : t.saveEnqueueMs;
      if (rate(i) >= 0.99 * best && (cheapest < 0 || enqueueMs < cheapest)) {
        cheapest = enqueueMs;
        concurrentStrategies = {p.strategies[i]};
        out.picked = t.strategy;
      }
    }
  }

  // Calibrate: the forward alone, to size a full-rate connector load per step.
  double stepMs = 0;
  if (!rig.cancelled()) {
    std::vector<double> ms;
    for (int i = 0; i < std::max(3, p.warmupSteps) + 5; ++i) {
      Event a, b;
      a.record(rig.compute.get());
      for (int l = 0; l < g.layers; ++l) rig.forward->layer(l, nullptr, 0, nullptr);
      b.record(rig.compute.get());
      b.sync();
      ms.push_back(b.since(a));
    }
    stepMs = medianOf(ms);
  }
  const ForwardCost cost = rig.forward->cost(0);
  out.flopsPerStep = cost.flopsPerStep;
  out.hbmBytesPerStep = cost.bytesPerStep;

  // Full rate is the slower leg: the link, or the store alone when it is slower (else the
  // blocking design would wait out a backlog no connector could clear).
  auto offeredGBps = [&](double linkGBps, double storeMs, const char* op) {
    if (!out.storeLeg.ran || storeMs <= 0 || out.storeLeg.bytes <= 0) return linkGBps;
    const double storeGBps = out.storeLeg.bytes / (storeMs * 1e6);
    if (storeGBps >= linkGBps) return linkGBps;
    out.notes.push_back(std::string("full rate set by the store: ") + op + " alone " + std::to_string(storeGBps).substr(0, 5) + " GB/s, below the link's " +
                        std::to_string(linkGBps).substr(0, 5) + " GB/s");
    return storeGBps;
  };
  // The host's own noise, probed on another core while the forward runs alone (no hooks,
  // no connector thread): what any per-step host timing on this machine is exposed to.
  auto withNoiseProbe = [&](Design d, auto&& phase) {
    if (d != Design::Off) return phase();
    HostNoiseProbe probe;
    ConcurrentResult r = phase();
    out.hostNoise.add(probe.finish());
    return r;
  };
  // The link reference: a connector-off phase with a contiguous copy stream beside the forward.
  auto linkReference = [&](auto&& phase) {
    if (p.referenceSteps <= 0 || rig.cancelled()) return;
    ContiguousCopyStream link(p.device, p.load ? Direction::Load : Direction::Save, p.ceilingBytes, std::min<size_t>(kReferenceChunk, p.ceilingBytes));
    LinkReferenceResult& ref = out.reference;
    ref.steps = phase(Design::Off, concurrentStrategies.front(), p.referenceSteps, StepsWindow{[&] { link.start(); }, [&] { link.finish(); }});
    ref.steps.design = "reference";
    ref.chunkBytes = link.chunkBytes();
    if (ref.steps.stepsRun > 0) {
      ref.bytes = link.bytesDoneBetween(ref.steps.measuredFromUs, ref.steps.measuredToUs);
      ref.steps.windowMs = (ref.steps.measuredToUs - ref.steps.measuredFromUs) / 1000;
      ref.ran = true;
    }
  };
  // Each design in turn between the two baselines, then the link reference inside that bracket
  // (just before the closing baseline, or last when only the baseline runs).
  auto forEachPhase = [&](auto&& phase) {
    const std::vector<Design> designs = designsWithClosingBaseline(p.designs);
    const size_t referenceAt = designs.size() > 1 && designs.back() == Design::Off ? designs.size() - 1 : designs.size();
    for (size_t i = 0; i <= designs.size(); ++i) {
      if (i == referenceAt) linkReference(phase);
      if (i == designs.size()) break;
      const Design d = designs[i];
      const std::vector<Strategy> list = d == Design::Off ? std::vector<Strategy>{concurrentStrategies.front()} : concurrentStrategies;
      for (Strategy s : list) {
        if (rig.cancelled()) break;
        out.concurrent.push_back(withNoiseProbe(d, [&] { return withRing(d != Design::Off && s == Strategy::StagedGather, [&] { return phase(d, s, p.steps, StepsWindow{}); }); }));
      }
    }
  };
  const double jobBytes = static_cast<double>(p.blocksPerJob) * g.layerBlockBytes();
  if (!p.load) {
    const double ceiling = offeredGBps(out.ceilingD2hGBps, out.storeLeg.putMs, "put") * 1e9;
    int jobsPerStep = static_cast<int>(std::ceil(p.offeredFactor * ceiling * stepMs / 1000 / (jobBytes * g.layers)));
    jobsPerStep = std::max(1, std::min(jobsPerStep, std::max(1, rig.numJobs / 4)));
    if (jobsPerStep == rig.numJobs / 4) out.notes.push_back("saves per step capped by the transfer set: the link may not be saturated");
    forEachPhase([&](Design d, Strategy s, int steps, const StepsWindow& w) { return concurrentSave(rig, d, s, jobsPerStep, 1000 * gen++, steps, w); });
  } else {
    const int loadBlocks = std::max(1, static_cast<int>(std::lround(p.blocksPerJob * p.prefixHitRate)));
    // Every job's blocks, saved once (staged) with a known generation, are what requests load.
    const uint64_t primeGen = gen++;
    if (!rig.cancelled()) {
      rig.fillTransfer(primeGen);
      Stream m, a;
      Copier c(rig.copyConfig(Strategy::StagedGather, Direction::Save), m.get(), a.get());
      for (int j = 0; j < rig.numJobs; ++j)
        for (int l = 0; l < g.layers; ++l) {
          c.enqueue(l, rig.jobIds(j), p.blocksPerJob, rig.pool->extentFor(j, l).host);
          rig.pool->commit(static_cast<uint64_t>(j), static_cast<uint64_t>(j));
        }
      c.joinInto(m.get());
      m.sync();
      if (store) {
        // The records go to the store, and the pool is poisoned: a load passes only with bytes read back.
        for (size_t slot = 0; slot < rig.slots(); ++slot) store->put(slot, rig.extent(slot), static_cast<long long>(primeGen));
        store->flush(true);
        store->waitIdle();
        store->drain([](uint64_t, bool) {}, [](uint64_t, bool) {});
        if (store->counters.putsFailed > 0)
          throw Error(codes::kStoreIo, "could not store the records the load run reads: " + store->counters.firstError);
        std::memset(rig.pool->base(), 0xA5, rig.slots() * rig.extentBytes());
        if (p.fault == Fault::CorruptStoreRecord)  // test hook: every request of job 0 must fail, not load bad bytes
          for (int l = 0; l < g.layers; ++l) store->corrupt(rig.slotOf(0, l));
      }
    }
    const double reqBytes = static_cast<double>(loadBlocks) * g.layerBlockBytes() * g.layers;
    const double requestsPerStep = p.offeredFactor * offeredGBps(out.ceilingH2dGBps, out.storeLeg.getMs, "get") * 1e9 * stepMs / 1000 / reqBytes;
    forEachPhase([&](Design d, Strategy s, int steps, const StepsWindow& w) { return concurrentLoad(rig, d, s, requestsPerStep, loadBlocks, primeGen, steps, w); });
  }
  out.cancelled = rig.cancelled();
  KV_CUDA(cudaStreamSynchronize(rig.compute.get()));
  return out;
}

}  // namespace kv
