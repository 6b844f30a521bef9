#include "phases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <vector>

namespace kv {

ConcurrentResult saveBesideForward(Rig& rig, Design design, Strategy s, int jobsPerStep, uint64_t genBase, int steps, const StepsWindow& around) {
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

}  // namespace kv
