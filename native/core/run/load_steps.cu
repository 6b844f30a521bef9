#include "phases.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <vector>

namespace kv {

// The forward while requests with prefix hits arrive and load their blocks. Request q
// loads the first `loadBlocks` blocks saved by job q into the GPU blocks of job q + half;
// every destination therefore always receives the same source, which is what the
// end-of-phase verification expects (no verification work inside the measured steps).
ConcurrentResult loadBesideForward(Rig& rig, Design design, Strategy s, double requestsPerStep, int loadBlocks, uint64_t gen, int steps, const StepsWindow& around) {
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

}  // namespace kv
