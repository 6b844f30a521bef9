// One step loop for both directions beside the forward. The loop owns what every step shares
// (the clock, warm-up, the blocked time per step, the window around the steps, the end of the
// phase and its checks); a direction fills in its hooks (save_steps.cu, load_steps.cu).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "gpu_clock.h"
#include "rig.h"
#include "save_load.h"
#include "../common/clock.h"
#include "../connector/connector.h"
#include "../cuda/device.h"

namespace kv {

// One step's hook calls: each call's host time is time the scheduler was blocked, and a sample
// of that hook when the step is measured (warm-up steps are not).
struct StepHooks {
  int step = 0;
  bool measured = false;
  double blocked = 0;
  DesignTrace* trace = nullptr;  // --trace, on a traced step: each call also a span
  // Runs `call(t0)` as one call of the hook whose samples are `samples` (sized up front: no
  // allocation inside a measured hook); t0 is when the call began.
  template <class F>
  void time(std::vector<double>& samples, F&& call) {
    const double t0 = nowUs();
    call(t0);
    const double us = nowUs() - t0;
    blocked += us;
    if (measured) samples.push_back(us);
    if (trace) trace->hook(&samples, step, t0, us);
  }
};

// Called just before a phase's first step and just after its last: what runs beside the
// steps (the link reference) starts and stops there, clear of the phase's own allocations
// and frees (cudaFree and cudaFreeHost wait for the whole device).
struct StepsWindow {
  std::function<void()> begin, end;
};

// A direction's side of the steps: its connector, its hooks and its checks. `r` is the phase's
// result; the loop fills the step samples, the direction everything it moves.
class DirectionSteps {
 public:
  // `steps`: the measured steps the phase runs (after p.warmupSteps of warm-up).
  DirectionSteps(Rig& rig, Design design, Strategy s, int steps);
  virtual ~DirectionSteps() = default;
  DesignResult r;

  // The scheduler's hooks before the step's launches.
  virtual void beforeLaunches(StepHooks& h) = 0;
  // Layer l's launch, with the hooks the engine calls around it.
  virtual void layer(int l, StepHooks& h) = 0;
  // The hooks after the step's launches, before the step's sync.
  virtual void afterLaunches(StepHooks& h) = 0;
  // After the last step: every copy done and taken, the connector joined, the store idle.
  virtual void finish() = 0;
  // With --verify and a connector: the bytes it moved, checked (outside every timed step).
  virtual void verify() = 0;
  // The transfer window: the first copy enqueued (-1: none) and the last one done (nowUs clock).
  double firstEnqueueUs() const { return firstEnqueue; }
  double lastDoneUs() const { return lastDone; }

 protected:
  Rig& rig;
  const SaveLoadPlan& p;
  const KvGeometry& g;
  const Design design;
  const int steps, total;  // measured steps; with warm-up
  StoreTier* const tier;
  double firstEnqueue = -1, lastDone = 0;  // the transfer window: first copy enqueued to last one done
  // --trace: the clock the GPU times are placed on, and (async) the connector's timed copies.
  // Declared before the subclasses' connectors, so they outlive them.
  GpuClock clock;
  std::unique_ptr<CopyTrace> copyTrace;
  std::vector<Event> kvWritten;  // a save's KV write of each layer, on a traced step
  // The end of a phase with an async connector: every copy completed and taken, the thread
  // joined, then every store request finished and taken.
  template <class TakeCompletions, class TakeStoreDone>
  void finishConnector(std::unique_ptr<AsyncConnector>& conn, TakeCompletions takeCompletions, TakeStoreDone takeStoreDone) {
    if (conn) {
      conn->drain();
      takeCompletions();
      conn->join();  // drained: the thread ends; its times and timed copies are written
      r.connectorBusyUs = conn->busyUs(), r.connectorAliveUs = conn->aliveUs();
      if (copyTrace && r.trace.on) takeTracedCopies(r.trace, *copyTrace, clock);
      conn.reset();
    }
    if (tier) {
      tier->waitIdle();
      takeStoreDone();
    }
  }
  // With a store: its counters reset and its per-step samples sized.
  void useStore();

  friend DesignResult runSteps(DirectionSteps& d, const StepsWindow& around);
};

// Runs the warm-up and measured steps of the forward with `d` beside it, then ends the phase:
// drain, the forward's outputs checked, the moved bytes verified.
DesignResult runSteps(DirectionSteps& d, const StepsWindow& around);

}  // namespace kv
