// Saves beside the forward: each layer's new blocks saved by the design under test, the engine's
// hooks timed (wait_for_block_free, save_layer, publish_saves, poll; blocking: wait_for_save).
#include "save_steps.h"
#include "phases.h"

#include <algorithm>
#include <deque>
#include <vector>

namespace kv {

SaveSteps::SaveSteps(Rig& rg, Design d, Strategy s, JobSpan jobs_, int jobs, uint64_t gen, int n)
    : DirectionSteps(rg, d, s, n),
      span(jobs_),
      jobsPerStep(jobs),
      groupsPerLayer((jobs + kMaxParts - 1) / kMaxParts),
      genBase(gen),
      jobBytes(static_cast<double>(rg.p.blocksPerJob) * rg.g.layerBlockBytes()),
      inflightCap(2.0 * jobBytes * jobs * rg.g.layers),
      perLayer(static_cast<size_t>(jobs) * rg.p.blocksPerJob * rg.g.parts),
      perStep(perLayer * rg.g.layers),
      allWrites(rg.p.mix || allWritesFit(total, perStep)),
      writeSlots(allWrites ? total : kWriteSlots),
      hostRing(allocPinned((allWrites ? 1 : kWriteSlots) * perStep * sizeof(ChunkRef))),
      writes(allocDevice(static_cast<size_t>(writeSlots) * perStep * sizeof(ChunkRef))),
      jobPending(rg.slots() / rg.g.layers, -1),
      waitForBlockFree(r.hookUs["wait_for_block_free"]),
      saveLayer(r.hookUs["save_layer"]),
      publishSaves(r.hookUs["publish_saves"]),
      poll(r.hookUs["poll"]),
      waitForSave(r.hookUs["wait_for_save"]) {
  r.offeredBytesPerStep = jobBytes * jobsPerStep * g.layers;
  refs.reserve(perStep);
  for (int i = 0; i < kEventSteps * g.layers; ++i) layerDone.emplace_back(cudaEventDisableTiming);
  // No allocation inside the measured hooks: every sample vector is sized up front.
  stepTaskMax = static_cast<long long>(g.layers) * groupsPerLayer;
  presize(r.transferLatencyMs, static_cast<size_t>(total * stepTaskMax));
  presize(saved, static_cast<size_t>(total * stepTaskMax));
  for (std::vector<double>* v : {&waitForBlockFree, &poll, &waitForSave, &publishSaves}) presize(*v, total);
  presize(saveLayer, static_cast<size_t>(total) * g.layers);
  presize(stepTasks, static_cast<size_t>(stepTaskMax));
  if (design == Design::Async) {
    while (taskRing < kTaskSteps * stepTaskMax) taskRing *= 2;  // a power of two: a completion's slot is a mask
    tasks.resize(taskRing);
    auto ex = [this](const ConnectorTask& t, std::deque<ConnectorJob>& out) { expand(t, out); };
    conn = std::make_unique<AsyncConnector>(p.device, rig.copyConfig(s, Direction::Save), ex, p.fault == Fault::DropEventWait, 1 << 14, copyTrace.get());
  } else if (design == Design::Blocking) {
    saveMain = std::make_unique<Stream>(Priority::Low);
    saveAux = std::make_unique<Stream>(Priority::Low);
    copier = std::make_unique<Copier>(rig.copyConfig(s, Direction::Save), saveMain->get(), saveAux->get());
  }
  if (tier) useStore();
  if (allWrites) uploadEveryStep();
}

bool SaveSteps::allWritesFit(int total, size_t perStep) {
  size_t freeBytes = 0, totalBytes = 0;
  KV_CUDA(cudaMemGetInfo(&freeBytes, &totalBytes));
  const size_t bytes = static_cast<size_t>(total) * perStep * sizeof(ChunkRef);
  return bytes <= kAllWritesBytes && bytes <= freeBytes / 4;
}

// A save task's copies: each job's blocks of that layer into the job's extent of the layer.
void SaveSteps::expand(const ConnectorTask& t, std::deque<ConnectorJob>& out) const {
  ConnectorJob& j = out.emplace_back();
  j.id = t.id;
  j.parts = t.count;
  j.after = t.after;
  j.bytes = t.count * jobBytes;
  j.step = t.step;
  j.layer = t.layer;
  for (int i = 0; i < t.count; ++i) {
    const int job = t.first + i;
    j.part[i] = CopyPart{rig.jobIds(span.job(job)), p.blocksPerJob, rig.pool->extentFor(span.job(job), t.layer).host, t.layer};
  }
}

// Step st's KV writes [layer][job][block][part], built on the host into refs.
void SaveSteps::buildStepRefs(int st) {
  refs.clear();
  for (int l = 0; l < g.layers; ++l)
    for (int k = 0; k < jobsPerStep; ++k) rig.gpuRefs(refs, span.job(st * jobsPerStep + k), l, genOf(st), p.blocksPerJob);
}

// Step st's KV writes uploaded through the pinned ring (or already there).
void SaveSteps::uploadStep(int st) {
  if (allWrites) return;
  buildStepRefs(st);
  ChunkRef* h = hostRing.get<ChunkRef>() + (st % kWriteSlots) * perStep;
  std::copy(refs.begin(), refs.end(), h);
  KV_CUDA(cudaMemcpyAsync(writes.get<ChunkRef>() + (st % kWriteSlots) * perStep, h, perStep * sizeof(ChunkRef), cudaMemcpyHostToDevice,
                          rig.compute.get()));
}

// Every step's KV writes uploaded once, before the first step (outside its timing).
void SaveSteps::uploadEveryStep() {
  for (int st = 0; st < total; ++st) {
    buildStepRefs(st);
    std::copy(refs.begin(), refs.end(), hostRing.get<ChunkRef>());
    KV_CUDA(cudaMemcpy(writes.get<ChunkRef>() + static_cast<size_t>(st) * perStep, hostRing.get<ChunkRef>(), perStep * sizeof(ChunkRef), cudaMemcpyHostToDevice));
  }
}

// Runs once per completed task (async: inside poll).
void SaveSteps::complete(const ConnectorTask& t, double doneUs) {
  ++completed;
  const double bytes = t.count * jobBytes;
  r.transferLatencyMs.push_back((doneUs - t.enqueuedUs) / 1000);
  r.bytesMoved += bytes;
  r.jobsDone += t.count;
  lastDone = std::max(lastDone, doneUs);
  inflightBytes -= bytes;
  saved.push_back({t.step, t.first, t.layer, t.count});
  if (!tier) return;
  // The extents now hold the save: hand them to the store (async: dropped if the queue is full).
  for (int i = 0; i < t.count; ++i) {
    const size_t slot = rig.slotOf(span.job(t.first + i), t.layer);
    tier->put(slot, rig.extent(slot), genOf(t.step));
  }
}

void SaveSteps::drainCompletions() {
  ConnectorDone d;
  while (conn->poll(&d)) complete(tasks[d.id & (taskRing - 1)], d.doneUs);
  if (tier) tier->flush(false);  // what the full queue refuses is dropped, counted
}

// Blocks this step rewrites must have no save in flight, and the ring slots this step fills
// must hold completed tasks (kTaskSteps steps ago: they always do).
void SaveSteps::waitForBlocksFree(int st) {
  while (submitted + stepTaskMax - completed > taskRing) {
    drainCompletions();
    conn->rethrow();
    std::this_thread::yield();
  }
  for (int k = 0; k < jobsPerStep; ++k) {
    const long long id = jobPending[span.job(st * jobsPerStep + k)];
    while (id >= completed) {
      drainCompletions();
      if (id >= completed) {
        conn->rethrow();
        std::this_thread::yield();
      }
    }
  }
}

void SaveSteps::beforeLaunches(StepHooks& h) {
  if (design == Design::Async) h.time(waitForBlockFree, [&](double) { waitForBlocksFree(h.step); });
  uploadStep(h.step);
}

// A save of n jobs from job k0 of layer l is skipped, never waited for, when the bytes in
// flight are at their cap (async) or an extent is still being written to the store.
bool SaveSteps::skip(int st, int l, int k0, int n) {
  if (design == Design::Async && inflightBytes + n * jobBytes > inflightCap) {
    r.jobsSkipped += n;
    return true;
  }
  if (!tier) return false;
  for (int i = 0; i < n; ++i)
    if (tier->busy(rig.slotOf(span.job(st * jobsPerStep + k0 + i), l))) {
      r.jobsSkipped += n;
      tier->counters.savesSkippedBusy += n;
      return true;
    }
  return false;
}

void SaveSteps::submit(int st, int l, int k0, int n, cudaEvent_t ev, double t0) {
  // Async: written in place in the ring (published at the end of the step's launches).
  ConnectorTask& t = design == Design::Async ? tasks[submitted & (taskRing - 1)] : stepTasks.emplace_back();
  t.id = static_cast<uint64_t>(submitted++);
  t.enqueuedUs = t0;
  t.after = ev;
  t.step = st;
  t.first = st * jobsPerStep + k0;
  t.layer = l;
  t.count = n;
  for (int i = 0; i < n; ++i) jobPending[span.job(t.first + i)] = static_cast<long long>(t.id);
  if (firstEnqueue < 0) firstEnqueue = t0;
  inflightBytes += n * jobBytes;
  if (design == Design::Async) return;
  if (p.fault != Fault::DropEventWait) KV_CUDA(cudaStreamWaitEvent(saveMain->get(), ev, 0));
  expand(t, blockingJobs);
  const ConnectorJob& j = blockingJobs.back();
  for (int i = 0; i < j.parts; ++i) copier->enqueue(l, j.part[i].blockIds, j.part[i].count, j.part[i].host);
  copier->flush();  // before the next task's wait for its layer
  blockingJobs.clear();
}

void SaveSteps::layer(int l, StepHooks& h) {
  const int st = h.step;
  cudaEvent_t ev = layerDone[(st % kEventSteps) * g.layers + l].get();
  const ChunkRef* w = writes.get<ChunkRef>() + static_cast<size_t>(st % writeSlots) * perStep + l * perLayer;
  rig.forward->layer(l, w, static_cast<int>(perLayer), ev, h.trace ? kvWritten[l].get() : nullptr);
  if (design == Design::Off) return;
  h.time(saveLayer, [&](double t0) {  // one descriptor per kMaxParts jobs of this layer
    for (int k0 = 0; k0 < jobsPerStep; k0 += kMaxParts) {
      const int n = std::min(kMaxParts, jobsPerStep - k0);
      r.jobsOffered += n;
      if (!skip(st, l, k0, n)) submit(st, l, k0, n, ev, t0);
    }
  });
}

// Blocking: wait_for_save waits for the step's copies, and with a store for its records.
void SaveSteps::saveWhole() {
  Event saved(cudaEventDisableTiming);
  copier->recordDone(saved.get());
  saved.sync();
  const double done = nowUs();
  for (const ConnectorTask& t : stepTasks) complete(t, done);
  stepTasks.clear();
  if (tier) {
    tier->flush(true);
    tier->waitIdle();
    tier->drain(ignore, ignore);
  }
}

void SaveSteps::afterLaunches(StepHooks& h) {
  if (design == Design::Blocking) h.time(waitForSave, [&](double) { saveWhole(); });
  if (design != Design::Async) return;
  // The step's saves are published with one push (two where the span wraps the ring; the
  // queue is deep enough that a push never waits).
  h.time(publishSaves, [&](double) {
    while (published < submitted) {
      const long long n = std::min(submitted, published - published % taskRing + taskRing) - published;
      while (!conn->submitBatch({&tasks[published & (taskRing - 1)], static_cast<int>(n)})) std::this_thread::yield();
      published += n;
    }
  });
  h.time(poll, [&](double) {
    drainCompletions();
    if (tier) tier->drain(ignore, ignore);
  });
  conn->rethrow();
}

void SaveSteps::finish() {
  finishConnector(conn, [&] { drainCompletions(); }, [&] { tier->drain(ignore, ignore); });
}

void SaveSteps::verify() {
  std::vector<long long> lastGen(rig.slots(), -1);  // per host extent: the generation it last received whole
  for (const SavedTask& t : saved)
    for (int i = 0; i < t.count; ++i) lastGen[rig.slotOf(span.job(t.first + i), t.layer)] = genOf(t.step);
  std::vector<ChunkRef> check;
  for (int job = span.first; job < span.first + span.count; ++job)
    for (int l = 0; l < g.layers; ++l) {
      const long long gen = lastGen[rig.slotOf(job, l)];
      if (gen >= 0) rig.hostRefs(check, job, l, static_cast<uint64_t>(gen));
    }
  r.mismatches = checkChunksHost(check.data(), static_cast<int>(check.size()), g.chunkBytes);
  r.chunksChecked = static_cast<long long>(check.size());
  if (tier) verifyStoreRecords(rig, r.store);
}


DesignResult saveBesideForward(Rig& rig, Design design, Strategy s, int jobsPerStep, uint64_t genBase, int steps, const StepsWindow& around) {
  SaveSteps d(rig, design, s, rig.allJobs(), jobsPerStep, genBase, steps);
  return runSteps(d, around);
}

}  // namespace kv
