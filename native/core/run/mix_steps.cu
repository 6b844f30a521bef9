// Both directions in one step (`kvbench mix`): the engine saves each layer's new blocks and
// loads the prefix hits of arriving requests in the same steps, as real connectors do. A
// SaveSteps over the saves' half of the transfer set and a LoadSteps over the loads' half run
// side by side, each with its own connector (thread, streams, staging ring): the hooks are
// called in the engine's order, the layer is launched once (with the save's KV writes), and
// the step's blocked time is both directions' hooks together.
#include "load_steps.h"
#include "phases.h"
#include "save_steps.h"

#include <algorithm>

namespace kv {
namespace {

class MixSteps : public DirectionSteps {
 public:
  MixSteps(Rig& rg, Design d, const MixWork& w, int n)
      : DirectionSteps(rg, d, w.saveWith, n),
        save(rg, d, w.saveWith, rg.saveHalf(), w.jobsPerStep, w.saveGen, n),
        load(rg, d, w.loadWith, rg.loadHalf(), w.requestsPerStep, w.loadBlocks, w.loadGen, n) {
    if (d != Design::Off && w.saveWith != w.loadWith) r.strategy = std::string(strategyName(w.saveWith)) + "/" + strategyName(w.loadWith);
    r.offeredBytesPerStep = save.r.offeredBytesPerStep + load.r.offeredBytesPerStep;
  }

  // The scheduler's lookups and start_load, then wait_for_block_free and the step's KV writes.
  void beforeLaunches(StepHooks& h) override {
    saveHooks = StepHooks{h.step, h.measured, 0, nullptr};
    loadHooks = saveHooks;
    load.beforeLaunches(loadHooks);
    save.beforeLaunches(saveHooks);
    h.blocked = saveHooks.blocked + loadHooks.blocked;
  }
  // Blocking: wait_for_layer_load; then the layer (its KV writes) and save_layer.
  void layer(int l, StepHooks& h) override {
    load.beforeLayer(l, loadHooks);
    save.layer(l, saveHooks);
    h.blocked = saveHooks.blocked + loadHooks.blocked;
  }
  void afterLaunches(StepHooks& h) override {
    save.afterLaunches(saveHooks);
    load.afterLaunches(loadHooks);
    h.blocked = saveHooks.blocked + loadHooks.blocked;
    if (h.measured && design != Design::Off) {  // each direction's share of the step's blocked time
      save.r.hookUs["blocked_per_step"].push_back(saveHooks.blocked);
      load.r.hookUs["blocked_per_step"].push_back(loadHooks.blocked);
    }
  }
  void finish() override {
    save.finish();
    load.finish();
    for (const DirectionSteps* d : {static_cast<const DirectionSteps*>(&save), static_cast<const DirectionSteps*>(&load)}) {
      if (d->firstEnqueueUs() >= 0) firstEnqueue = firstEnqueue < 0 ? d->firstEnqueueUs() : std::min(firstEnqueue, d->firstEnqueueUs());
      lastDone = std::max(lastDone, d->lastDoneUs());
    }
  }
  void verify() override {
    save.verify();
    load.verify();
  }

  // After runSteps: `both` (this phase's result) made the total of the two directions, each
  // direction given the steps it shared.
  void combine(DesignResult& both) {
    if (design == Design::Off) return;
    for (DirectionSteps* d : {static_cast<DirectionSteps*>(&save), static_cast<DirectionSteps*>(&load)}) {
      DesignResult& x = d->r;
      x.stepGpuMs = both.stepGpuMs, x.stepWallMs = both.stepWallMs, x.stepsRun = both.stepsRun;
      x.measuredFromUs = both.measuredFromUs, x.measuredToUs = both.measuredToUs, x.nonFinite = both.nonFinite;
      if (d->firstEnqueueUs() >= 0) x.windowMs = (d->lastDoneUs() - d->firstEnqueueUs()) / 1000;
      both.bytesMoved += x.bytesMoved;
      both.jobsOffered += x.jobsOffered, both.jobsDone += x.jobsDone, both.jobsSkipped += x.jobsSkipped;
      both.mismatches += x.mismatches, both.chunksChecked += x.chunksChecked;
      both.connectorBusyUs += x.connectorBusyUs, both.connectorAliveUs += x.connectorAliveUs;
    }
    both.directions.push_back(std::move(save.r));
    both.directions.push_back(std::move(load.r));
  }

 private:
  SaveSteps save;
  LoadSteps load;
  StepHooks saveHooks, loadHooks;
};

}  // namespace

DesignResult mixBesideForward(Rig& rig, Design design, const MixWork& work, int steps, const StepsWindow& around) {
  MixSteps d(rig, design, work, steps);
  DesignResult both = runSteps(d, around);
  d.combine(both);
  return both;
}

}  // namespace kv
