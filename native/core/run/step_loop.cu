#include "step_loop.h"

#include <algorithm>

namespace kv {

DirectionSteps::DirectionSteps(Rig& rg, Design d, Strategy s, int n)
    : rig(rg), p(rg.p), g(rg.g), design(d), tier(rg.store), steps(n), total(rg.p.warmupSteps + n) {
  r.design = designName(d);
  r.strategy = d == Design::Off ? "-" : strategyName(s);
  presize(r.hookUs["blocked_per_step"], total);
  presize(r.stepGpuMs, total);
  presize(r.stepWallMs, total);
  if (p.allReduce.on) presize(r.allReduceMs, total);
  if (p.traceSteps > 0 && !p.load)
    for (int l = 0; l < g.layers; ++l) kvWritten.emplace_back();
  if (p.traceSteps > 0 && d == Design::Async) {
    // A task's jobs per layer are few (a save: a group of up to kMaxParts jobs; a load: a request's layers, kLoadLayersPerJob to a job).
    const size_t capacity = std::min<size_t>(static_cast<size_t>(p.traceSteps) * g.layers * 8, 1 << 16);
    copyTrace = std::make_unique<CopyTrace>(p.warmupSteps, p.traceSteps, capacity);
  }
}

void DirectionSteps::useStore() {
  tier->resetCounters(static_cast<size_t>(total) * g.layers * 2);
  r.store.used = true;
  presize(r.store.queueDepth, total);
}

namespace {

struct StepClock {
  Event start, end;
  double wall0 = 0;
};

// Every step ends the same way: the scheduler's per-step sync (sampling reads the logits),
// then the step's samples when it is measured. Returns the step's wall end.
double endStep(DesignResult& r, const StepClock& clk, const StepHooks& h, Design design, const StoreTier* tier) {
  clk.end.sync();
  const double now = nowUs();  // the step's wall end and the measured window's end are one instant
  if (!h.measured) return now;
  if (r.measuredFromUs < 0) r.measuredFromUs = clk.wall0;
  r.measuredToUs = now;
  r.stepGpuMs.push_back(clk.end.since(clk.start));
  r.stepWallMs.push_back((now - clk.wall0) / 1000);
  if (design != Design::Off) r.hookUs["blocked_per_step"].push_back(h.blocked);
  if (tier && design != Design::Off) r.store.queueDepth.push_back(static_cast<double>(tier->outstanding()));
  ++r.stepsRun;
  return now;
}

}  // namespace

DesignResult runSteps(DirectionSteps& d, const StepsWindow& around) {
  Rig& rig = d.rig;
  DesignTrace* trace = d.p.traceSteps > 0 ? &d.r.trace : nullptr;
  std::vector<Event> layerEnds;
  std::vector<StoreDone> storeDone;  // --trace with a store: the requests handled in the traced steps
  // However the steps end (an error included), the store stops writing into storeDone before it goes.
  struct StopStoreTrace {
    StoreTier* tier;
    ~StopStoreTrace() {
      if (tier) tier->traceInto(nullptr);
    }
  } stopStoreTrace{d.tier};
  if (trace) {
    trace->on = true;
    trace->firstStep = d.p.warmupSteps;
    trace->steps = std::min(d.p.traceSteps, d.steps);
    trace->bindHooks(d.r.hookUs);
    for (int l = 0; l < d.g.layers; ++l) layerEnds.emplace_back();
  }
  AllReduce* const tp = rig.forward->allReduce();
  const long long callsBefore = tp ? tp->calls() : 0;
  if (around.begin) around.begin();
  for (int st = 0; st < d.total; ++st) {
    if (!rig.mayStep()) break;
    const bool traced = trace && st >= trace->firstStep && st < trace->firstStep + trace->steps;
    // The compute stream is idle between steps (each ends in a sync): the clock is set there.
    if (traced && st == trace->firstStep) {
      d.clock.calibrate(rig.compute.get());
      trace->alignErrorUs = d.clock.errorUs();
      if (d.tier) d.tier->traceInto(&storeDone);
    }
    if (trace && d.tier && st == trace->firstStep + trace->steps) d.tier->traceInto(nullptr);
    StepHooks h{st, st >= d.p.warmupSteps, 0, traced ? trace : nullptr};
    StepClock clk;
    clk.wall0 = nowUs();
    d.beforeLaunches(h);
    clk.start.record(rig.compute.get());
    for (int l = 0; l < d.g.layers; ++l) {
      d.layer(l, h);
      if (traced) layerEnds[l].record(rig.compute.get());
    }
    clk.end.record(rig.compute.get());
    d.afterLaunches(h);
    const double wallEnd = endStep(d.r, clk, h, d.design, d.tier);
    const double allReduceMs = rig.forward->takeAllReduceMs();  // every step's, so the next starts clean
    if (h.measured && rig.forward->allReduce()) d.r.allReduceMs.push_back(allReduceMs);
    if (traced) {
      TraceStep& t = trace->stepsTraced.emplace_back();
      t.step = st, t.wallStartUs = clk.wall0, t.wallEndUs = wallEnd;
      t.gpuStartUs = d.clock.hostUs(clk.start.get()), t.gpuEndUs = d.clock.hostUs(clk.end.get());
      for (const Event& e : layerEnds) t.layerEndUs.push_back(d.clock.hostUs(e.get()));
      for (const Event& e : d.kvWritten) t.kvWrittenUs.push_back(d.clock.hostUs(e.get()));
    }
    if (d.p.stepsDone) d.p.stepsDone->fetch_add(1, std::memory_order_relaxed);
  }
  if (around.end) around.end();
  if (d.tier) d.tier->traceInto(nullptr);  // the requests drained by finish() are after the traced steps
  for (const StoreDone& s : storeDone)
    d.r.trace.storeCalls.push_back({static_cast<int>(s.request.op), s.thread, static_cast<double>(s.request.bytes), s.queuedUs, s.startUs, s.doneUs, s.ok});
  d.finish();
  if (d.firstEnqueue >= 0) d.r.windowMs = (d.lastDone - d.firstEnqueue) / 1000;
  d.r.nonFinite = rig.forward->nonFiniteOutputs();
  if (tp) d.r.allReduceCalls = tp->calls() - callsBefore, d.r.allReduceMismatches = tp->takeMismatches();
  if (d.p.verify && d.design != Design::Off) d.verify();
  if (d.tier) d.r.store.counters = d.tier->counters;
  return std::move(d.r);
}

}  // namespace kv
