// One save/load run as an ordered list of named phases over one rig (see save_load.h): each
// phase says whether it applies to this run and runs; what one phase hands the next (the
// ceilings, the strategy picked, the calibrated step time) is in the Run they share.
#include "save_load.h"
#include "../cuda/nccl_loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "phases.h"
#include "pick.h"
#include "../common/format.h"
#include "../cuda/device_info.h"
#include "../measure/host_noise.h"
#include "../measure/link_reference.h"
#include "../measure/measure.h"

namespace kv {
namespace {

// The link reference's copies: large enough that each one alone reaches the link's ceiling.
constexpr size_t kReferenceChunk = 8u << 20;

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
  ~L2SetAside() { drop(); }
  void drop() noexcept {  // an error's path: nothing to report it to
    if (!held) return;
    held = false;
    cudaDeviceSynchronize();
    cudaCtxResetPersistingL2Cache();
    cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, 0);
  }
};

// What the phases of one run share. Members are destroyed in reverse: the rig (which waits
// for the store's requests) before the set-aside and the store.
struct Run {
  const SaveLoadPlan& p;
  SaveLoadResult out;
  std::unique_ptr<StoreTier> store;
  L2SetAside setAside;
  std::unique_ptr<Rig> rig;
  uint64_t gen = 1;                         // generation of the next pattern written
  std::vector<Strategy> besideForward;      // strategies the designs run with (auto: the one picked)
  double stepMs = 0;                        // the forward alone, calibrated
  uint64_t primeGen = 0;                    // load, mix: the generation the requests load
  int mixLoadPick = -1;                     // mix with auto: the loads' strategy (the saves run besideForward's)

  explicit Run(const SaveLoadPlan& plan) : p(plan), besideForward(plan.strategies) {}
  // --gpus: what the run made on its GPU, freed on its worker's thread (that GPU current), in the
  // order the destructor would; the results stay.
  void freeDevice() noexcept {
    rig.reset();
    setAside.drop();
    store.reset();
  }
  bool cancelled() const { return rig ? rig->cancelled() : p.stopping(); }
  // --gpus: waits for every GPU's worker to reach this point; false when the run is stopping.
  bool together() const { return !p.group || p.group->together(); }
  // --gpus: every worker's run, so that all take the first one's strategy pick (null: one GPU).
  const std::vector<Run*>* workers = nullptr;
  // Runs `phase` with the set-aside held when it moves bytes through the staged ring.
  template <class F>
  auto withRing(bool staged, F&& phase) {
    if (staged) setAside.hold();
    auto r = phase();
    setAside.release();
    return r;
  }
};

struct Phase {
  virtual ~Phase() = default;
  virtual bool applies(const Run&) const { return true; }
  virtual void run(Run&) = 0;
};

struct LinkCeilings {
  double h2d = 0, d2h = 0, both = 0;
};

// The link's ceilings (the higher median of each is kept by the second reading).
LinkCeilings measureLink(const SaveLoadPlan& p) {
  LinkCeilings c;
  for (const CopyMeasurement& m : measureCeilings(p.ceiling).copies) {
    // A median that decides the run (the offered load) stays native; TS recomputes the reported one.
    const double gbps = m.bytesPerSample / (medianOf(m.samplesMs) * 1e6);
    if (m.id == "h2d_pinned") c.h2d = gbps;
    if (m.id == "d2h_pinned") c.d2h = gbps;
    if (m.id == "bidir_pinned") c.both = gbps;
  }
  return c;
}

// The store opens first: a wrong address, password or a full disk fails before any allocation.
struct OpenStore : Phase {
  bool applies(const Run& r) const override { return r.p.useStore; }
  void run(Run& r) override {
    const SaveLoadPlan& p = r.p;
    const size_t slots = static_cast<size_t>(p.transferBlocks / p.blocksPerJob) * p.geometry.layers;
    r.store = std::make_unique<StoreTier>(p.store, slots, static_cast<size_t>(p.blocksPerJob) * p.geometry.layerBlockBytes());
    r.out.store = r.store->describe();
    r.out.storeNote = r.store->note();
    r.out.storeDirect = r.store->direct();
  }
};

// The link's ceiling: measured before the strategies and again after them, and the higher
// median of each direction kept (a busy host or link only ever lowers a reading; one low
// reading put strategies at 130% of it).
struct Ceilings : Phase {
  void run(Run& r) override {
    const LinkCeilings c = measureLink(r.p);
    r.out.ceilingH2dGBps = c.h2d, r.out.ceilingD2hGBps = c.d2h, r.out.ceilingBothGBps = c.both;
  }
};

// Auto keeps the ring in L2 only where it fits the GPU's set-aside; Persist sets aside what it
// can and says when the ring is larger. A mixed run's two rings (one each way) share a set-aside
// of one: a set-aside of both cost the forward 2.5-3 points more (H200, docs/benchmarks.md).
struct StagingInL2 : Phase {
  bool applies(const Run& r) const override { return r.p.stagingL2 != StagingL2::Normal; }
  void run(Run& r) override {
    const SaveLoadPlan& p = r.p;
    int maxPersist = 0;
    KV_CUDA(cudaDeviceGetAttribute(&maxPersist, cudaDevAttrMaxPersistingL2CacheSize, p.device));
    const size_t allowed = maxPersist > 0 ? static_cast<size_t>(maxPersist) : 0;
    const std::string ring = std::to_string(p.stagingBytes >> 20) + " MiB", mib = std::to_string(allowed >> 20) + " MiB";
    const std::string what = p.mix ? "the two " + ring + " staging rings (one each way)" : "the " + ring + " staging ring";
    if (p.stagingL2 == StagingL2::Persist && allowed == 0) throw Error(codes::kBadInput, "--staging-l2 persist: this GPU has no persisting L2");
    if (p.stagingL2 == StagingL2::Auto && allowed < p.stagingBytes) {
      r.out.notes.push_back("--staging-l2 auto: " + what + (p.mix ? " stay" : " stays") + " in HBM (this GPU's persisting L2 allows " + mib + ")");
      return;
    }
    r.setAside.bytes = std::min(p.stagingBytes, allowed);
    r.out.stagingInL2 = true;
    const char* flag = p.stagingL2 == StagingL2::Auto ? "--staging-l2 auto" : "--staging-l2 persist";
    r.out.notes.push_back(std::string(flag) + ": " + what + (p.mix ? " share" : " in") + " an L2 set-aside of " + std::to_string(r.setAside.bytes >> 20) + " MiB (this GPU allows " + mib +
                          "), held only while the staged copies run: the connector-off baselines and the link reference have the whole L2");
    if (p.stagingBytes > allowed)
      r.out.notes.push_back("--staging-l2 persist: the staging ring (" + ring + ") is larger than the L2 set-aside (" + mib + "); lower --staging-mib to keep it resident");
  }
};

struct BuildRig : Phase {
  void run(Run& r) override {
    r.rig = std::make_unique<Rig>(r.p, r.store.get());
    r.rig->stagingInL2 = r.out.stagingInL2;
    r.out.gemmEngine = r.rig->forward->gemmEngine();
    if (const AllReduce* tp = r.rig->forward->allReduce()) r.out.allReduceLibrary = tp->library();
    const ForwardCost cost = r.rig->forward->cost(0);
    r.out.flopsPerStep = cost.flopsPerStep;
    r.out.hbmBytesPerStep = cost.bytesPerStep;
  }
};

struct StrategiesAlone : Phase {
  void run(Run& r) override {
    for (Strategy s : r.p.strategies) {
      if (r.cancelled()) break;
      r.out.strategies.push_back(r.withRing(s == Strategy::StagedGather, [&] { return strategyAlone(*r.rig, s, r.gen++); }));
    }
  }
};

struct StoreAlone : Phase {
  bool applies(const Run& r) const override { return r.store && !r.out.strategies.empty() && !r.cancelled(); }
  void run(Run& r) override { r.out.storeAlone = storeAlone(*r.rig, r.gen - 1); }  // the pool holds the last save
};

struct CeilingsAgain : Phase {
  bool applies(const Run& r) const override { return !r.cancelled(); }
  void run(Run& r) override {
    const LinkCeilings again = measureLink(r.p);
    auto keepHigher = [&](double& kept, double again, const char* dir) {
      if (std::abs(again - kept) > 0.03 * std::max(again, kept))
        r.out.notes.push_back(std::string("ceiling ") + dir +
                              fmt(" read %.1f GB/s before the strategies and %.1f GB/s after them: the higher is used (the host or link was busy for the other)", kept, again));
      kept = std::max(kept, again);
    };
    keepHigher(r.out.ceilingH2dGBps, again.h2d, "H2D");
    keepHigher(r.out.ceilingD2hGBps, again.d2h, "D2H");
    if (r.p.mix) keepHigher(r.out.ceilingBothGBps, again.both, "both ways");
    else r.out.ceilingBothGBps = std::max(r.out.ceilingBothGBps, again.both);
  }
};

// --strategy auto, decided once (pick.h): the strategy each direction's table marks, and with
// auto the run's direction's is the one the designs run with.
struct PickStrategy : Phase {
  bool applies(const Run& r) const override { return !r.out.strategies.empty(); }
  void run(Run& r) override {
    const SaveLoadPlan& p = r.p;
    const int save = pickStrategy(p.strategies, r.out.strategies, Direction::Save);
    const int load = pickStrategy(p.strategies, r.out.strategies, Direction::Load);
    if (save >= 0) r.out.bestSave = r.out.strategies[save].strategy;
    if (load >= 0) r.out.bestLoad = r.out.strategies[load].strategy;
    const int mine = p.load ? load : save;
    if (p.pickBest && mine >= 0) r.besideForward = {p.strategies[mine]};
    if (p.pickBest && p.mix) r.mixLoadPick = load;
    // --gpus: every GPU runs the first one's pick, so the designs' rows line up across GPUs.
    if (!r.workers || !r.together() || p.worker == 0) return;
    const Run& first = *(*r.workers)[0];
    r.out.bestSave = first.out.bestSave, r.out.bestLoad = first.out.bestLoad;
    r.besideForward = first.besideForward;
    r.mixLoadPick = first.mixLoadPick;
  }
};

// The forward alone, to size a full-rate connector load per step (its median steers the run, so
// it stays native; the reported step times are the baselines' samples, summarized in TypeScript).
struct Calibration : Phase {
  bool applies(const Run& r) const override { return !r.cancelled(); }
  void run(Run& r) override {
    Rig& rig = *r.rig;
    std::vector<double> ms;
    for (int i = 0; i < std::max(3, r.p.warmupSteps) + 5 && rig.mayStep(); ++i) {
      Event a, b;
      a.record(rig.compute.get());
      for (int l = 0; l < rig.g.layers; ++l) rig.forward->layer(l, nullptr, 0, nullptr);
      b.record(rig.compute.get());
      b.sync();
      rig.forward->takeAllReduceMs();
      ms.push_back(b.since(a));
    }
    if (!ms.empty()) r.stepMs = medianOf(ms);
  }
};

// Load and mixed runs: every job's blocks saved once (staged) with a known generation, which is what the
// requests load; with a store, the records go to it and the pool is poisoned, so a load passes
// only with bytes read back.
struct PrimeLoads : Phase {
  bool applies(const Run& r) const override { return r.p.load || r.p.mix; }
  void run(Run& r) override {
    r.primeGen = r.gen++;
    if (r.cancelled()) return;
    const SaveLoadPlan& p = r.p;
    Rig& rig = *r.rig;
    rig.fillTransfer(r.primeGen);
    Stream m, a;
    Copier c(rig.copyConfig(Strategy::StagedGather, Direction::Save), m.get(), a.get());
    for (int j = 0; j < rig.numJobs; ++j)
      for (int l = 0; l < rig.g.layers; ++l) {
        c.enqueue(l, rig.jobIds(j), p.blocksPerJob, rig.pool->extentFor(j, l).host);
        rig.pool->commit(static_cast<uint64_t>(j), static_cast<uint64_t>(j));
      }
    c.joinInto(m.get());
    m.sync();
    StoreTier* store = r.store.get();
    if (!store) return;
    for (size_t slot = 0; slot < rig.slots(); ++slot) store->put(slot, rig.extent(slot), static_cast<long long>(r.primeGen));
    store->flush(true);
    store->waitIdle();
    store->drain([](uint64_t, bool) {}, [](uint64_t, bool) {});
    if (store->counters.putsFailed > 0) throw Error(codes::kStoreIo, "could not store the records the load run reads: " + store->counters.firstError);
    std::memset(rig.pool->base(), 0xA5, rig.slots() * rig.extentBytes());
    if (p.fault == Fault::CorruptStoreRecord)  // test hook: every request of job 0 must fail, not load bad bytes
      for (int l = 0; l < rig.g.layers; ++l) store->corrupt(rig.slotOf(0, l));
  }
};

// Each design beside the forward, between two connector-off baselines (clocks drift over a
// run, and the slowdown is taken against both), with the link reference inside that bracket
// (just before the closing baseline, or last when only the baseline runs).
struct DesignsBesideForward : Phase {

  void run(Run& r) override {
    const SaveLoadPlan& p = r.p;
    using Steps = std::function<DesignResult(Design, Strategy, int, const StepsWindow&)>;
    Steps steps;
    if (p.mix) {
      // Each direction is offered its half of the both-ways ceiling (x the offered factor).
      const double half = r.out.ceilingBothGBps / 2;
      MixWork w;
      w.jobsPerStep = saveJobsPerStep(r, half, r.rig->saveHalf().count);
      w.loadBlocks = loadBlocks(p);
      w.requestsPerStep = loadRequestsPerStep(r, half, w.loadBlocks);
      w.loadGen = r.primeGen;
      steps = [&r, w](Design d, Strategy s, int n, const StepsWindow& win) mutable {
        w.saveWith = s;
        w.loadWith = r.mixLoadPick >= 0 ? r.p.strategies[r.mixLoadPick] : s;
        w.saveGen = 1000 * r.gen++;
        return mixBesideForward(*r.rig, d, w, n, win);
      };
    } else if (!p.load) {
      const int jobsPerStep = saveJobsPerStep(r, r.out.ceilingD2hGBps, r.rig->numJobs);
      steps = [&r, jobsPerStep](Design d, Strategy s, int n, const StepsWindow& w) { return saveBesideForward(*r.rig, d, s, jobsPerStep, 1000 * r.gen++, n, w); };
    } else {
      const int blocks = loadBlocks(p);
      const double requestsPerStep = loadRequestsPerStep(r, r.out.ceilingH2dGBps, blocks);
      steps = [&r, requestsPerStep, blocks](Design d, Strategy s, int n, const StepsWindow& w) {
        return loadBesideForward(*r.rig, d, s, requestsPerStep, blocks, r.primeGen, n, w);
      };
    }
    std::vector<Design> designs = p.designs;
    const bool off = std::find(designs.begin(), designs.end(), Design::Off) != designs.end();
    if (off && designs.size() > 1) designs.push_back(Design::Off);  // the closing baseline
    const size_t referenceAt = designs.size() > 1 && designs.back() == Design::Off ? designs.size() - 1 : designs.size();
    if (p.stepsTotal) p.stepsTotal->fetch_add(stepsPlanned(r, designs));  // --gpus: every worker's added
    for (size_t i = 0; i <= designs.size(); ++i) {
      if (i == referenceAt) linkReference(r, steps);
      if (i == designs.size()) break;
      const Design d = designs[i];
      const std::vector<Strategy> list = d == Design::Off ? std::vector<Strategy>{r.besideForward.front()} : r.besideForward;
      for (Strategy s : list) {
        if (r.cancelled() || !r.together()) break;
        if (p.fault == Fault::GpuWorkerFails && d != Design::Off && p.group && p.worker == p.group->size() - 1)
          throw Error(codes::kCuda, "--inject gpu-worker-fails: GPU " + std::to_string(p.device) + "'s worker failed on purpose as its designs began");
        const bool staged = s == Strategy::StagedGather || (r.mixLoadPick >= 0 && p.strategies[r.mixLoadPick] == Strategy::StagedGather);
        r.out.designs.push_back(withNoiseProbe(r, d, [&] { return r.withRing(d != Design::Off && staged, [&] { return steps(d, s, p.steps, StepsWindow{}); }); }));
      }
    }
  }

 private:
  // Save jobs per step: the offered factor x `gbps` x the calibrated step, at most a quarter of
  // the saves' jobs (a job's blocks are rewritten only every fourth step).
  static int saveJobsPerStep(Run& r, double gbps, int jobs) {
    const SaveLoadPlan& p = r.p;
    const double jobBytes = static_cast<double>(p.blocksPerJob) * r.rig->g.layerBlockBytes();
    const double ceiling = offeredGBps(r, gbps, r.out.storeAlone.putMs, "put") * 1e9;
    const int cap = std::max(1, jobs / 4);
    const int n = std::max(1, std::min(static_cast<int>(std::ceil(p.offeredFactor * ceiling * r.stepMs / 1000 / (jobBytes * r.rig->g.layers))), cap));
    if (n == cap) r.out.notes.push_back("saves per step capped by the transfer set: the link may not be saturated (--transfer-sequences makes the set larger)");
    return n;
  }
  static int loadBlocks(const SaveLoadPlan& p) { return std::max(1, static_cast<int>(std::lround(p.blocksPerJob * p.prefixHitRate))); }
  // Requests per step: the offered factor x `gbps` x the calibrated step, in requests of `blocks` blocks x every layer.
  static double loadRequestsPerStep(Run& r, double gbps, int blocks) {
    const double reqBytes = static_cast<double>(blocks) * r.rig->g.layerBlockBytes() * r.rig->g.layers;
    return r.p.offeredFactor * offeredGBps(r, gbps, r.out.storeAlone.getMs, "get") * 1e9 * r.stepMs / 1000 / reqBytes;
  }

  // The forward steps the loop below runs (warm-up included), for a progress bar.
  static long long stepsPlanned(const Run& r, const std::vector<Design>& designs) {
    const SaveLoadPlan& p = r.p;
    long long n = 0;
    for (Design d : designs) n += static_cast<long long>(d == Design::Off ? 1 : r.besideForward.size()) * (p.warmupSteps + p.steps);
    if (p.referenceSteps > 0) n += p.warmupSteps + p.referenceSteps;
    return n;
  }

  // Full rate is the slower leg: the link, or the store alone when it is slower (else the
  // blocking design would wait out a backlog no connector could clear).
  static double offeredGBps(Run& r, double linkGBps, double storeMs, const char* op) {
    const StoreAloneResult& alone = r.out.storeAlone;
    if (!alone.ran || storeMs <= 0 || alone.bytes <= 0) return linkGBps;
    const double storeGBps = alone.bytes / (storeMs * 1e6);
    if (storeGBps >= linkGBps) return linkGBps;
    r.out.notes.push_back(std::string("full rate set by the store: ") + op + " alone " + std::to_string(storeGBps).substr(0, 5) + " GB/s, below the link's " +
                          std::to_string(linkGBps).substr(0, 5) + " GB/s");
    return storeGBps;
  }

  // The host's own noise, probed on another core while the forward runs alone (no hooks,
  // no connector thread): what any per-step host timing on this machine is exposed to.
  template <class F>
  static DesignResult withNoiseProbe(Run& r, Design d, F&& phase) {
    if (d != Design::Off) return phase();
    HostNoiseProbe probe;
    DesignResult steps = phase();
    r.out.hostNoise.add(probe.finish());
    return steps;
  }

  // The link reference: a connector-off phase with a contiguous copy stream beside the forward
  // (a mixed run: one each way, at once).
  template <class Steps>
  static void linkReference(Run& r, const Steps& steps) {
    const SaveLoadPlan& p = r.p;
    if (p.referenceSteps <= 0 || r.cancelled() || !r.together()) return;
    const size_t chunk = std::min<size_t>(kReferenceChunk, p.ceiling.bytes);
    std::vector<std::unique_ptr<ContiguousCopyStream>> links;
    if (p.mix || !p.load) links.push_back(std::make_unique<ContiguousCopyStream>(p.device, Direction::Save, p.ceiling.bytes, chunk));
    if (p.mix || p.load) links.push_back(std::make_unique<ContiguousCopyStream>(p.device, Direction::Load, p.ceiling.bytes, chunk));
    LinkReferenceResult& ref = r.out.reference;
    const StepsWindow around{[&] {
                               for (auto& l : links) l->start();
                             },
                             [&] {
                               for (auto& l : links) l->finish();
                             }};
    ref.steps = steps(Design::Off, r.besideForward.front(), p.referenceSteps, around);
    ref.steps.design = "reference";
    ref.chunkBytes = chunk;
    if (ref.steps.stepsRun == 0) return;
    for (size_t i = 0; i < links.size(); ++i) {
      const double bytes = links[i]->bytesDoneBetween(ref.steps.measuredFromUs, ref.steps.measuredToUs);
      const bool save = (p.mix || !p.load) && i == 0;
      (save ? ref.saveBytes : ref.loadBytes) = bytes;
      ref.bytes += bytes;
    }
    ref.steps.windowMs = (ref.steps.measuredToUs - ref.steps.measuredFromUs) / 1000;
    ref.ran = true;
  }
};

}  // namespace

namespace {

// Refused before anything is allocated.
void checkPlan(const SaveLoadPlan& p) {
  validatePlan(p);
  if (p.allReduce.on) {
    const Nccl nccl;
    if (!nccl.available()) throw Error(codes::kBadInput, "--all-reduce nccl: " + nccl.source());
  }
}

// The phases in order; with --gpus each starts when every GPU's worker has reached it.
void runPhases(Run& r) {
  useDevice(r.p.device);
  OpenStore openStore;
  Ceilings ceilings;
  StagingInL2 stagingInL2;
  BuildRig rig;
  StrategiesAlone strategiesAlone;
  StoreAlone storeAlonePhase;
  CeilingsAgain ceilingsAgain;
  PickStrategy pick;
  Calibration calibration;
  PrimeLoads primeLoads;
  DesignsBesideForward designs;
  Phase* const phases[] = {&openStore, &ceilings, &stagingInL2, &rig, &strategiesAlone, &storeAlonePhase, &ceilingsAgain, &pick, &calibration, &primeLoads, &designs};
  for (Phase* phase : phases) {
    if (!r.together()) break;
    if (phase->applies(r)) phase->run(r);
  }
  r.out.cancelled = r.cancelled();
  if (AllReduce* tp = r.rig ? r.rig->rankVote() : nullptr; tp && tp->stopVoted())
    r.out.notes.push_back("the " + std::to_string(tp->world()) + " ranks stopped together, at the same forward step: " + std::to_string(tp->stopAsks()) +
                          " of them asked (Ctrl-C or SIGTERM), so none was left waiting in an all-reduce");
  if (r.rig) KV_CUDA(cudaStreamSynchronize(r.rig->compute.get()));
}

// --gpus with the all-reduce: one communicator across the GPUs, made from one thread (NCCL's
// group of one init a GPU), so that no worker can be left waiting in an init another never joins.
struct Communicators {
  Nccl nccl;
  std::vector<std::unique_ptr<SharedComm>> ranks;
  explicit Communicators(const std::vector<int>& devices) {
    const NcclUniqueId id = nccl.uniqueId();
    for (size_t i = 0; i < devices.size(); ++i) ranks.push_back(std::make_unique<SharedComm>());
    nccl.groupStart();
    for (size_t i = 0; i < devices.size(); ++i) {
      useDevice(devices[i]);
      ranks[i]->comm = nccl.initRank(static_cast<int>(devices.size()), static_cast<int>(i), id);
    }
    nccl.groupEnd();
  }
  // A rank left waiting for a failed one: its work in flight ended (the worker's next call throws).
  void abortAll() {
    for (auto& r : ranks) r->abort(nccl, "the all-reduce was aborted: this GPU waited for a GPU whose worker failed");
  }
  ~Communicators() {
    for (auto& r : ranks)
      if (!r->aborted) nccl.destroy(r->comm);
  }
};

// How long the workers still running may take to stop after one failed, before they are taken to
// be waiting for it in an all-reduce (a step is milliseconds; a phase boundary comes within seconds).
constexpr double kStuckAfterS = 30;

}  // namespace

SaveLoadResult runSaveLoad(const SaveLoadPlan& p) {
  checkPlan(p);
  requireDevice(p.device);
  Run r(p);
  runPhases(r);
  return std::move(r.out);
}

std::vector<WorkerOutcome> runSaveLoadTogether(const SaveLoadPlan& p, const std::vector<int>& devices, const std::vector<HostPlacement>& placements) {
  checkPlan(p);
  if (devices.empty()) throw Error(codes::kBadInput, "--gpus: no GPU named");
  if (!placements.empty() && placements.size() != devices.size()) throw Error(codes::kBadInput, "placements: one for each GPU, or none");
  for (int d : devices) requireDevice(d);
  const int n = static_cast<int>(devices.size());
  std::unique_ptr<Communicators> comms;
  if (p.allReduce.on) comms = std::make_unique<Communicators>(devices);
  std::vector<SaveLoadPlan> plans(n, p);
  std::vector<std::unique_ptr<Run>> runs(n);
  std::vector<Run*> views(n);
  std::vector<PlacementApplied> placed(n);
  for (int w = 0; w < n; ++w) {
    SaveLoadPlan& mine = plans[w];
    mine.device = devices[w];
    mine.worker = w;
    if (comms) mine.allReduce.world = n, mine.allReduce.rank = w, mine.allReduce.shared = comms->ranks[w].get();
    if (mine.useStore) mine.store.spec.run += "g" + std::to_string(devices[w]);  // each GPU's records apart
    runs[w] = std::make_unique<Run>(mine);
    runs[w]->workers = &views;
    views[w] = runs[w].get();
  }
  const std::vector<WorkerEnd> ends = runWorkers(
      n, p.cancel,
      [&](int w, WorkerGroup& group) {
        plans[w].group = &group;  // the Run holds a reference to its plan
        if (!placements.empty()) placed[w] = placeThisThread(placements[w]);  // before its pool, its threads
        struct Free {
          Run& r;
          ~Free() { r.freeDevice(); }
        } free{*runs[w]};
        runPhases(*runs[w]);
      },
      [&] {
        if (comms) comms->abortAll();
      },
      kStuckAfterS);
  std::vector<WorkerOutcome> out(n);
  for (int w = 0; w < n; ++w) {
    out[w].device = devices[w];
    out[w].code = ends[w].code, out[w].error = ends[w].error, out[w].stuck = ends[w].stuck;
    out[w].placement = placed[w];
    out[w].ended = ends[w].error.empty();
    if (out[w].ended) out[w].result = std::move(runs[w]->out);
  }
  return out;
}

}  // namespace kv
