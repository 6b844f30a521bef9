// What every step beside the forward shares, whichever the direction: the step's clock and how a
// step ends, the window around a phase's steps, and how a phase ends.
#pragma once
#include <functional>
#include <memory>

#include "save_load.h"
#include "../common/clock.h"
#include "../connector/connector.h"
#include "../cuda/device.h"

namespace kv {

struct StepClock {
  Event start, end;
  double wall0 = 0;
};

// Every step of both phases ends the same way: the scheduler's per-step sync (sampling
// reads the logits), then the step's samples when it is measured.
inline void endStep(ConcurrentResult& r, const StepClock& clk, bool measured, Design design, double blockedUs, const StoreTier* tier) {
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

}  // namespace kv
