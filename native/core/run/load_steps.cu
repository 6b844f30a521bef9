// Loads beside the forward: requests with prefix hits arrive each step and load their blocks
// by the design under test, the engine's hooks timed (lookup, start_load, poll; blocking:
// wait_for_layer_load). Request q loads the first `loadBlocks` blocks saved by job q of its span
// into the GPU blocks of job q + half: every destination always receives the same source, which is
// what the end-of-phase verification expects (no verification work inside the measured steps).
#include "load_steps.h"
#include "phases.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

namespace kv {

LoadSteps::LoadSteps(Rig& rg, Design d, Strategy s, JobSpan jobs, double perStep, int blocks, uint64_t g0, int n)
    : DirectionSteps(rg, d, s, n),
      span(jobs),
      requestsPerStep(perStep),
      reqBytes(static_cast<double>(blocks) * rg.g.layerBlockBytes() * rg.g.layers),
      loadBlocks(blocks),
      half(std::max(1, jobs.count / 2)),
      jobsPerRequest((rg.g.layers + kLoadLayersPerJob - 1) / kLoadLayersPerJob),  // a request's layers, kLoadLayersPerJob to a job
      inflightCap(std::max(2, static_cast<int>(std::ceil(2 * perStep)))),
      gen(g0),
      loaded(rg.numJobs, 0),
      loadBatches(kLoadRing),
      lookupUs(r.hookUs["lookup"]),
      startLoad(r.hookUs["start_load"]),
      waitForLayerLoad(r.hookUs["wait_for_layer_load"]),
      poll(r.hookUs["poll"]) {
  r.offeredBytesPerStep = reqBytes * requestsPerStep;
  poisonDestinations();
  if (design == Design::Async) {
    auto ex = [this](const ConnectorTask& t, std::deque<ConnectorJob>& out) { expand(t, out); };
    conn = std::make_unique<AsyncConnector>(p.device, rig.copyConfig(s, Direction::Load), ex, false, 1 << 14, copyTrace.get());
  } else if (design == Design::Blocking) {
    loadMain = std::make_unique<Stream>(Priority::Low);
    loadAux = std::make_unique<Stream>(Priority::Low);
    copier = std::make_unique<Copier>(rig.copyConfig(s, Direction::Load), loadMain->get(), loadAux->get());
    for (int l = 0; l < g.layers; ++l) layerLoaded.emplace_back(cudaEventDisableTiming);
  }
  const size_t requests = static_cast<size_t>(std::ceil(requestsPerStep * total)) + 16;
  for (std::vector<double>* v : {&startLoad, &poll}) presize(*v, total);
  presize(waitForLayerLoad, static_cast<size_t>(total) * g.layers);
  presize(lookupUs, requests);
  presize(r.transferLatencyMs, requests);
  presize(arrival, requests);
  for (auto& b : loadBatches) presize(b, static_cast<size_t>(inflightCap + 1));
  if (tier) {
    useStore();
    presize(getsLeft, requests);
    presize(getFailed, requests);
  }
}

// Every destination poisoned first, so a block never loaded cannot pass.
void LoadSteps::poisonDestinations() {
  std::vector<ChunkRef> dst;
  for (int j = span.first; j < span.first + span.count; ++j)
    for (int l = 0; l < g.layers; ++l) rig.gpuRefs(dst, j, l, gen, p.blocksPerJob);
  DeviceBuffer d = upload(dst, rig.compute.get());
  launchPoisonChunks(d.get<ChunkRef>(), static_cast<int>(dst.size()), g.chunkBytes, rig.compute.get());
  KV_CUDA(cudaStreamSynchronize(rig.compute.get()));
}

static_assert(kLoadLayersPerJob <= kMaxSegments, "a load job's layers are segments of one staged piece");

// A load task: request `first`, every layer, from its pool extents to its GPU blocks.
void LoadSteps::expand(const ConnectorTask& t, std::deque<ConnectorJob>& out) const {
  const int q = t.first;
  for (int k = 0; k < jobsPerRequest; ++k) {
    ConnectorJob& j = out.emplace_back();
    j.id = static_cast<uint64_t>(q) * jobsPerRequest + k;
    j.parts = std::min(kLoadLayersPerJob, g.layers - k * kLoadLayersPerJob);
    for (int i = 0; i < j.parts; ++i) {
      const int l = k * kLoadLayersPerJob + i;
      j.part[i] = CopyPart{rig.jobIds(destination(q)), loadBlocks, rig.pool->extentFor(source(q), l).host, l};
    }
    j.bytes = static_cast<double>(j.parts) * loadBlocks * g.layerBlockBytes();
    j.step = t.step;
    j.layer = k * kLoadLayersPerJob;
    j.reports = k == jobsPerRequest - 1;
  }
}

// The scheduler's get_num_new_matched_tokens. The pool answers from its index; a store
// answers synchronously (blocking design) or later through its I/O threads (async).
bool LoadSteps::lookup(int q) {
  if (!tier) return rig.pool->lookup(static_cast<uint64_t>(source(q))).has_value();
  if (design == Design::Blocking) {
    try {
      return tier->containsNow(rig.slotOf(source(q), 0));
    } catch (const Error& e) {
      ++tier->counters.lookupsFailed;
      if (tier->counters.firstError.empty()) tier->counters.firstError = e.what();
      return false;
    }
  }
  if (!tier->lookup(rig.slotOf(source(q), 0), static_cast<uint64_t>(q))) ++r.store.lookupsRefused;
  return false;  // answered later (drainStore)
}

void LoadSteps::ready(int q, double doneUs) {
  ++r.requestsScheduled;
  ++r.jobsDone;
  r.transferLatencyMs.push_back((doneUs - arrival[q]) / 1000);
  r.bytesMoved += reqBytes;
  lastDone = std::max(lastDone, doneUs);
  loaded[destination(q)] = 1;
}

void LoadSteps::drainCompletions() {
  ConnectorDone d;
  while (conn->poll(&d)) {  // the last job of a request: the only one that reports (expand)
    --inflight;
    ready(static_cast<int>(d.id / jobsPerRequest), d.doneUs);
  }
}

void LoadSteps::publishCopies() {
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
}

// Async: request q's load, expanded into its copies on the connector thread.
void LoadSteps::submitCopies(int q) {
  if (firstEnqueue < 0) firstEnqueue = nowUs();
  loadBatches[loadBatch].push_back(ConnectorTask{static_cast<uint64_t>(q), arrival[q], nullptr, stepNow, q, 0, g.layers});
}

void LoadSteps::growTo(int q) {
  if (static_cast<int>(getsLeft.size()) > q) return;
  getsLeft.resize(q + 1, 0);
  getFailed.resize(q + 1, 0);
}

// A store record read: the last record of a request read whole starts its copies (async);
// a record missing or corrupt fails the request.
void LoadSteps::onGet(uint64_t tag, bool whole) {
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
}

// Store answers: a found lookup makes its request wait for the link; read records go to onGet.
void LoadSteps::drainStore() {
  if (!tier) return;
  tier->drain([this](uint64_t tag, bool whole) { onGet(tag, whole); },
              [this](uint64_t q, bool found) {
                if (found) waiting.push_back(static_cast<int>(q));
              });
}

void LoadSteps::readRecords(int q) {
  growTo(q);
  getsLeft[q] = g.layers;
  for (int l = 0; l < g.layers; ++l) tier->get(rig.slotOf(source(q), l), rig.extent(rig.slotOf(source(q), l)), static_cast<uint64_t>(q) * g.layers + l);
}

// Async with a store: start reading request q's records if its extents and the queue are free.
bool LoadSteps::startGets(int q) {
  for (int l = 0; l < g.layers; ++l)
    if (tier->busy(rig.slotOf(source(q), l))) return false;
  if (tier->room() < static_cast<size_t>(g.layers)) return false;
  readRecords(q);
  return true;
}

// Async start_load: every hit (and every answered lookup) waits its turn under the in-flight cap.
void LoadSteps::startAsync() {
  for (int q : hits) waiting.push_back(q);
  drainStore();  // answered lookups join `waiting`; whole records start their copies
  while (!waiting.empty() && inflight < inflightCap) {
    const int q = waiting.front();
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
}

// Blocking start_load: with a store, every hit's records read first (waiting for the store)
// and the requests that failed dropped; then every layer's loads enqueued.
void LoadSteps::startBlocking() {
  if (firstEnqueue < 0) firstEnqueue = nowUs();
  if (tier) {
    for (int q : hits) readRecords(q);
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
    for (int q : hits) copier->enqueue(l, rig.jobIds(destination(q)), loadBlocks, rig.pool->extentFor(source(q), l).host);
    copier->recordDone(layerLoaded[l].get());
  }
}

void LoadSteps::beforeLaunches(StepHooks& h) {
  stepNow = h.step;
  arrivals.clear();
  hits.clear();
  for (acc += requestsPerStep; acc >= 1; acc -= 1) arrivals.push_back(nextRequest++);
  for (size_t i = 0; i < arrivals.size(); ++i) arrival.push_back(nowUs());
  r.jobsOffered += static_cast<long long>(arrivals.size());
  for (int q : arrivals)
    h.time(lookupUs, [&](double) {
      if (lookup(q)) hits.push_back(q);
    });
  if (design == Design::Async) {
    h.time(startLoad, [&](double) { startAsync(); });
    if (!waiting.empty()) ++r.requestsNotReadySteps;
  } else if (design == Design::Blocking && !hits.empty()) {
    h.time(startLoad, [&](double) { startBlocking(); });
  }
}

void LoadSteps::beforeLayer(int l, StepHooks& h) {
  // wait_for_layer_load: the host waits before launching the layer.
  if (design == Design::Blocking && !hits.empty()) h.time(waitForLayerLoad, [&](double) { layerLoaded[l].sync(); });
}

void LoadSteps::layer(int l, StepHooks& h) {
  beforeLayer(l, h);
  rig.forward->layer(l, nullptr, 0, nullptr);
}

void LoadSteps::afterLaunches(StepHooks& h) {
  if (design == Design::Async) {
    h.time(poll, [&](double) {
      drainCompletions();
      drainStore();
      publishCopies();  // of requests whose records came in
    });
    conn->rethrow();
  } else if (design == Design::Blocking && !hits.empty()) {
    const double done = nowUs();  // every layer's load was waited for above
    for (int q : hits) ready(q, done);
  }
}

void LoadSteps::finish() {
  if (tier && conn) {  // records still being read: let them land and their copies start, then drain
    tier->waitIdle();
    drainStore();
    publishCopies();
  }
  finishConnector(conn, [&] { drainCompletions(); }, [&] { drainStore(); });
  r.jobsSkipped = static_cast<long long>(waiting.size());
}

void LoadSteps::verify() {
  std::vector<ChunkRef> check;
  for (int d = span.first; d < span.first + span.count; ++d) {
    if (!loaded[d]) continue;
    const int src = span.job(((d - span.first - half) % span.count + span.count) % span.count);
    for (int l = 0; l < g.layers; ++l) rig.gpuRefs(check, src, l, gen, loadBlocks, d);
  }
  r.mismatches = rig.checkGpu(check);
  r.chunksChecked = static_cast<long long>(check.size());
}


DesignResult loadBesideForward(Rig& rig, Design design, Strategy s, double requestsPerStep, int loadBlocks, uint64_t gen, int steps, const StepsWindow& around) {
  LoadSteps d(rig, design, s, rig.allJobs(), requestsPerStep, loadBlocks, gen, steps);
  return runSteps(d, around);
}

}  // namespace kv
