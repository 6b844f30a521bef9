#include "step_loop.h"

namespace kv {

DirectionSteps::DirectionSteps(Rig& rg, Design d, Strategy s, int n)
    : rig(rg), p(rg.p), g(rg.g), design(d), tier(rg.store), steps(n), total(rg.p.warmupSteps + n) {
  r.design = designName(d);
  r.strategy = d == Design::Off ? "-" : strategyName(s);
  presize(r.hookUs["blocked_per_step"], total);
  presize(r.stepGpuMs, total);
  presize(r.stepWallMs, total);
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
// then the step's samples when it is measured.
void endStep(DesignResult& r, const StepClock& clk, const StepHooks& h, Design design, const StoreTier* tier) {
  clk.end.sync();
  if (!h.measured) return;
  const double now = nowUs();  // the step's wall end and the measured window's end are one instant
  if (r.measuredFromUs < 0) r.measuredFromUs = clk.wall0;
  r.measuredToUs = now;
  r.stepGpuMs.push_back(clk.end.since(clk.start));
  r.stepWallMs.push_back((now - clk.wall0) / 1000);
  if (design != Design::Off) r.hookUs["blocked_per_step"].push_back(h.blocked);
  if (tier && design != Design::Off) r.store.queueDepth.push_back(static_cast<double>(tier->outstanding()));
  ++r.stepsRun;
}

}  // namespace

DesignResult runSteps(DirectionSteps& d, const StepsWindow& around) {
  Rig& rig = d.rig;
  if (around.begin) around.begin();
  for (int st = 0; st < d.total; ++st) {
    if (rig.cancelled()) break;
    StepHooks h{st, st >= d.p.warmupSteps};
    StepClock clk;
    clk.wall0 = nowUs();
    d.beforeLaunches(h);
    clk.start.record(rig.compute.get());
    for (int l = 0; l < d.g.layers; ++l) d.layer(l, h);
    clk.end.record(rig.compute.get());
    d.afterLaunches(h);
    endStep(d.r, clk, h, d.design, d.tier);
    if (d.p.stepsDone) d.p.stepsDone->fetch_add(1, std::memory_order_relaxed);
  }
  if (around.end) around.end();
  d.finish();
  if (d.firstEnqueue >= 0) d.r.windowMs = (d.lastDone - d.firstEnqueue) / 1000;
  d.r.nonFinite = rig.forward->nonFiniteOutputs();
  if (d.p.verify && d.design != Design::Off) d.verify();
  if (d.tier) d.r.store.counters = d.tier->counters;
  return std::move(d.r);
}

}  // namespace kv
