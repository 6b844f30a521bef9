#include "host_noise.h"

#include <algorithm>

#include "../common/clock.h"

namespace kv {
namespace {

// Dependent integer work the compiler can neither drop nor shorten.
inline unsigned work(unsigned x, int n) {
  for (int i = 0; i < n; ++i) x = x * 1664525u + 1013904223u;
  return x;
}

// The shortest of 16 timings of `n` iterations, so a stall during calibration does not
// shrink the unit.
double shortestUs(int n) {
  double best = 1e9;
  for (int k = 0; k < 16; ++k) {
    const double t0 = nowUs();
    volatile unsigned sink = work(k + 1, n);
    (void)sink;
    best = std::min(best, nowUs() - t0);
  }
  return best;
}

// Iterations that take about 1 us here, and what they take.
int calibrate(double* repUs) {
  int n = 256;
  for (;;) {
    const double best = shortestUs(n);
    if (best >= 0.5 || n >= (1 << 24)) {
      n = std::max(1, static_cast<int>(n / best));
      break;
    }
    n *= 2;
  }
  *repUs = shortestUs(n);
  return n;
}

}  // namespace

void HostNoise::add(const HostNoise& o) {
  seconds += o.seconds;
  reps += o.reps;
  repUs = std::max(repUs, o.repUs);
  over10us += o.over10us;
  over20us += o.over20us;
  over50us += o.over50us;
  slowReps += o.slowReps;
  maxUs = std::max(maxUs, o.maxUs);
}

HostNoise probeHostNoise(const std::atomic<bool>& stop) {
  HostNoise h;
  const int n = calibrate(&h.repUs);
  unsigned x = 1;
  const double slow = 2 * h.repUs;
  const double start = nowUs();
  double t0 = start;
  while (!stop.load(std::memory_order_relaxed)) {
    x = work(x, n);
    const double t1 = nowUs(), dt = t1 - t0;
    t0 = t1;
    ++h.reps;
    h.maxUs = std::max(h.maxUs, dt);
    if (dt > slow) ++h.slowReps;
    if (dt > 10) {
      ++h.over10us;
      if (dt > 20) ++h.over20us;
      if (dt > 50) ++h.over50us;
    }
  }
  h.seconds = (t0 - start) / 1e6;
  volatile unsigned sink = x;
  (void)sink;
  return h;
}

HostNoiseProbe::HostNoiseProbe() : thread_([this] { result_ = probeHostNoise(stop_); }) {}

HostNoiseProbe::~HostNoiseProbe() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

HostNoise HostNoiseProbe::finish() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return result_;
}

}  // namespace kv
