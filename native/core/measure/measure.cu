#include "measure.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <cstring>
#include <functional>

#include "../cuda/cuda_check.h"
#include "../cuda/device.h"
#include "../cuda/device_info.h"
#include "../kv/pattern.cuh"

namespace kv {
namespace {

using Enqueue = std::function<void(cudaStream_t)>;

// Times `iterations` runs of `enqueue`, each bracketed by its own pair of events.
// All samples are enqueued back to back and read after one sync: no host gaps.
std::vector<double> timeWithEvents(cudaStream_t s, int warmup, int iterations, const Enqueue& enqueue) {
  for (int i = 0; i < warmup; ++i) enqueue(s);
  std::vector<Event> starts, stops;
  starts.reserve(iterations);
  stops.reserve(iterations);
  for (int i = 0; i < iterations; ++i) {
    starts.emplace_back();
    stops.emplace_back();
    starts.back().record(s);
    enqueue(s);
    stops.back().record(s);
  }
  KV_CUDA(cudaStreamSynchronize(s));
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) ms.push_back(stops[i].since(starts[i]));
  return ms;
}

// Both directions at once on two streams, each direction's buffer copied kBidirPasses times in
// pieces with an event after each. A sample is the rate while both directions are busy: the bytes
// both have moved by the time the first one finishes (the other's copy in flight counted pro rata
// between its events), over that time. Timing one pass until both finish added the tail where one
// direction runs alone and the skew of the two starts: the ceiling swung by 7% between runs and
// fell below what the link reference moved both ways at once.
constexpr int kBidirPieces = 16;  // a pass
constexpr int kBidirPasses = 4;

// Bytes a stream whose pieces of `lens` bytes ended at `ends` (ms from the common start) had moved at `t`.
double bytesMovedBy(const std::vector<double>& ends, const std::vector<size_t>& lens, double t) {
  double begin = 0, moved = 0;
  for (size_t k = 0; k < ends.size(); ++k) {
    if (ends[k] <= t) moved += lens[k];
    else if (t > begin) moved += lens[k] * (t - begin) / (ends[k] - begin);
    if (ends[k] > t) break;
    begin = ends[k];
  }
  return moved;
}

// Each sample: the ms that 2 x bytesEach would take at that rate (the caller divides those bytes by it).
std::vector<double> timeBidirectional(cudaStream_t a, cudaStream_t b, int warmup, int iterations, size_t bytesEach,
                                      const std::function<void(cudaStream_t, size_t, size_t)>& onA,
                                      const std::function<void(cudaStream_t, size_t, size_t)>& onB) {
  constexpr int kPieces = kBidirPieces * kBidirPasses;
  const size_t piece = bytesEach / kBidirPieces;
  std::vector<size_t> offs, lens;  // a pass's last piece takes the remainder
  for (int k = 0; k < kPieces; ++k) {
    offs.push_back((k % kBidirPieces) * piece);
    lens.push_back(k % kBidirPieces + 1 == kBidirPieces ? bytesEach - offs.back() : piece);
  }
  std::vector<double> ms;
  for (int i = 0; i < warmup + iterations; ++i) {
    Event start;
    std::vector<Event> endsA(kPieces), endsB(kPieces);
    start.record(a);
    KV_CUDA(cudaStreamWaitEvent(b, start.get(), 0));
    for (int k = 0; k < kPieces; ++k) {
      onA(a, offs[k], lens[k]);
      endsA[k].record(a);
      onB(b, offs[k], lens[k]);
      endsB[k].record(b);
    }
    endsA.back().sync();
    endsB.back().sync();
    if (i < warmup) continue;
    std::vector<double> ta, tb;
    for (int k = 0; k < kPieces; ++k) ta.push_back(endsA[k].since(start)), tb.push_back(endsB[k].since(start));
    const double t = std::min(ta.back(), tb.back());
    const double moved = bytesMovedBy(ta, lens, t) + bytesMovedBy(tb, lens, t);
    ms.push_back(t * (2.0 * bytesEach) / moved);
  }
  return ms;
}

void checkPlan(const MeasurePlan& p) {
  if (p.bytes == 0 || p.bytes % 8 || p.pageableBytes == 0 || p.pageableBytes % 8 || p.smallBytes == 0)
    throw Error(codes::kBadInput, "measure plan: byte sizes must be positive multiples of 8");
  if (p.iterations <= 0 || p.pageableIterations <= 0 || p.smallIterations <= 0 || p.warmup < 0)
    throw Error(codes::kBadInput, "measure plan: iteration counts must be positive");
}

void memcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind k, cudaStream_t s) {
  KV_CUDA(cudaMemcpyAsync(dst, src, n, k, s));
}

constexpr uint64_t kSeedUp = 0x6b76626e6368ull, kSeedDown = kSeedUp ^ 0xD2Aull;

CopyMeasurement measurement(const char* id, const char* label, size_t bytes, const char* timer, std::vector<double> ms) {
  CopyMeasurement m;
  m.id = id;
  m.label = label;
  m.bytesPerSample = bytes;
  m.timer = timer;
  m.samplesMs = std::move(ms);
  return m;
}

// One GPU's pinned copies (H2D, D2H, both at once) with their buffers: what `measureCeilings`
// reads of one GPU, and what each GPU reads at once in `measureCeilingsTogether`. Made on the
// calling thread's device.
class PinnedLink {
 public:
  explicit PinnedLink(const MeasurePlan& plan)
      : p_(plan), n_(plan.bytes), d0(allocDevice(n_)), d1(allocDevice(n_)), hUp(allocPinned(n_)), hDown(allocPinned(n_)) {
    fillPatternHost(hUp.get(), n_, kSeedUp);
    fillPatternDevice(d1.get(), n_, kSeedDown, s0.get());  // what D2H and D2D copy
    KV_CUDA(cudaStreamSynchronize(s0.get()));
  }

  // Pinned host -> device.
  CopyMeasurement h2d() {
    KV_CUDA(cudaMemsetAsync(d0.get(), 0, n_, s0.get()));
    CopyMeasurement m = measurement("h2d_pinned", "H2D pinned", n_, "cuda-events", timeWithEvents(s0.get(), p_.warmup, p_.iterations, [&](cudaStream_t s) {
                                      memcpyAsync(d0.get(), hUp.get(), n_, cudaMemcpyHostToDevice, s);
                                    }));
    verifyDevice(m, d0.get(), n_, kSeedUp);
    return m;
  }
  // Pinned device -> host: the destination poisoned first.
  CopyMeasurement d2h() {
    std::memset(hDown.get(), 0xA5, n_);
    CopyMeasurement m = measurement("d2h_pinned", "D2H pinned", n_, "cuda-events", timeWithEvents(s0.get(), p_.warmup, p_.iterations, [&](cudaStream_t s) {
                                      memcpyAsync(hDown.get(), d1.get(), n_, cudaMemcpyDeviceToHost, s);
                                    }));
    verifyHost(m, hDown.get(), n_, kSeedDown);
    return m;
  }
  // Both directions at once, separate buffers so neither copy depends on the other.
  CopyMeasurement both() {
    KV_CUDA(cudaMemsetAsync(d0.get(), 0, n_, s0.get()));
    std::memset(hDown.get(), 0xA5, n_);
    KV_CUDA(cudaStreamSynchronize(s0.get()));
    CopyMeasurement m = measurement(
        "bidir_pinned", "H2D+D2H pinned, both at once", 2 * n_, "cuda-events",
        timeBidirectional(
            s0.get(), s1.get(), p_.warmup, p_.iterations, n_,
            [&](cudaStream_t s, size_t off, size_t len) {
              memcpyAsync(static_cast<char*>(d0.get()) + off, static_cast<const char*>(hUp.get()) + off, len, cudaMemcpyHostToDevice, s);
            },
            [&](cudaStream_t s, size_t off, size_t len) {
              memcpyAsync(static_cast<char*>(hDown.get()) + off, static_cast<const char*>(d1.get()) + off, len, cudaMemcpyDeviceToHost, s);
            }));
    verifyDevice(m, d0.get(), n_, kSeedUp);
    verifyHost(m, hDown.get(), n_, kSeedDown);
    return m;
  }

  void verifyDevice(CopyMeasurement& m, const void* d, size_t bytes, uint64_t seed) {
    if (!p_.verify) return;
    m.mismatches += countMismatchesDevice(d, bytes, seed, s0.get());
    m.verified = m.mismatches == 0;
  }
  void verifyHost(CopyMeasurement& m, const void* h, size_t bytes, uint64_t seed) const {
    if (!p_.verify) return;
    m.mismatches += countMismatchesHost(h, bytes, seed);
    m.verified = m.mismatches == 0;
  }

 private:
  const MeasurePlan& p_;
  const size_t n_;

 public:  // the single-GPU measurements after these reuse the buffers
  DeviceBuffer d0, d1;
  PinnedBuffer hUp, hDown;
  Stream s0, s1;
};

// The threads of `measureCeilingsTogether` start each measurement at once.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void arriveAndWait() {
    std::unique_lock<std::mutex> lock(m_);
    const long long gen = gen_;
    if (++waiting_ == n_) {
      waiting_ = 0, ++gen_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return gen_ != gen; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  const int n_;
  int waiting_ = 0;
  long long gen_ = 0;
};

}  // namespace

MeasureResult measureCeilings(const MeasurePlan& plan) {
  checkPlan(plan);
  requireDevice(plan.device);
  useDevice(plan.device);

  const size_t n = plan.bytes;
  const uint64_t seedUp = kSeedUp, seedDown = kSeedDown;
  MeasureResult result;
  result.copies.reserve(16);  // `add` hands out pointers into this vector
  PinnedLink link(plan);
  DeviceBuffer &d0 = link.d0, &d1 = link.d1;
  PinnedBuffer &hUp = link.hUp, &hDown = link.hDown;
  Stream& s0 = link.s0;

  auto add = [&](const char* id, const char* label, size_t bytes, const char* timer, std::vector<double> ms) {
    result.copies.push_back(measurement(id, label, bytes, timer, std::move(ms)));
    return &result.copies.back();
  };
  auto verifyDevice = [&](CopyMeasurement* m, const void* d, size_t bytes, uint64_t seed) { link.verifyDevice(*m, d, bytes, seed); };
  auto verifyHost = [&](CopyMeasurement* m, const void* h, size_t bytes, uint64_t seed) { link.verifyHost(*m, h, bytes, seed); };

  result.copies.push_back(link.h2d());
  result.copies.push_back(link.d2h());
  result.copies.push_back(link.both());
  CopyMeasurement* m;

  // Device -> device; bytes counted once (HBM traffic is twice this).
  KV_CUDA(cudaMemsetAsync(d0.get(), 0, n, s0.get()));
  m = add("d2d", "D2D (bytes counted once)", n, "cuda-events",
          timeWithEvents(s0.get(), plan.warmup, plan.iterations, [&](cudaStream_t s) {
            memcpyAsync(d0.get(), d1.get(), n, cudaMemcpyDeviceToDevice, s);
          }));
  verifyDevice(m, d0.get(), n, seedDown);

  // Pageable host memory: what a connector gets when it forgets to pin.
  {
    const size_t pn = plan.pageableBytes;
    PageableBuffer pUp = allocPageable(pn), pDown = allocPageable(pn);
    fillPatternHost(pUp.get(), pn, seedUp);
    std::memset(pDown.get(), 0xA5, pn);  // touch every page before timing
    KV_CUDA(cudaMemsetAsync(d0.get(), 0, pn, s0.get()));
    m = add("h2d_pageable", "H2D pageable", pn, "cuda-events",
            timeWithEvents(s0.get(), 1, plan.pageableIterations, [&](cudaStream_t s) {
              memcpyAsync(d0.get(), pUp.get(), pn, cudaMemcpyHostToDevice, s);
            }));
    verifyDevice(m, d0.get(), pn, seedUp);
    m = add("d2h_pageable", "D2H pageable", pn, "cuda-events",
            timeWithEvents(s0.get(), 1, plan.pageableIterations, [&](cudaStream_t s) {
              memcpyAsync(pDown.get(), d1.get(), pn, cudaMemcpyDeviceToHost, s);
            }));
    verifyHost(m, pDown.get(), pn, seedDown);
  }

  // Small-copy latency: host wall time from enqueue to completion, the cost a
  // connector pays per synchronous small transfer.
  {
    const size_t sn = plan.smallBytes;
    auto latency = [&](const char* id, const char* label, void* dst, const void* src, cudaMemcpyKind kind) {
      std::vector<double> ms;
      for (int i = 0; i < plan.warmup + plan.smallIterations; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        memcpyAsync(dst, src, sn, kind, s0.get());
        KV_CUDA(cudaStreamSynchronize(s0.get()));
        auto t1 = std::chrono::steady_clock::now();
        if (i >= plan.warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      return add(id, label, sn, "host-wall", std::move(ms));
    };
    KV_CUDA(cudaMemsetAsync(d0.get(), 0, sn, s0.get()));
    m = latency("h2d_small_latency", "H2D small-copy latency", d0.get(), hUp.get(), cudaMemcpyHostToDevice);
    verifyDevice(m, d0.get(), sn - sn % 8, seedUp);
    std::memset(hDown.get(), 0xA5, sn);
    m = latency("d2h_small_latency", "D2H small-copy latency", hDown.get(), d1.get(), cudaMemcpyDeviceToHost);
    verifyHost(m, hDown.get(), sn - sn % 8, seedDown);
  }
  return result;
}

std::vector<DeviceCeilings> measureCeilingsTogether(const MeasurePlan& plan, const std::vector<int>& devices) {
  checkPlan(plan);
  if (devices.empty()) throw Error(codes::kBadInput, "measure together: no GPU named");
  for (int d : devices) requireDevice(d);
  std::vector<DeviceCeilings> out(devices.size());
  std::vector<std::exception_ptr> errors(devices.size());
  Barrier atOnce(static_cast<int>(devices.size()));
  std::vector<std::thread> threads;
  // Each GPU on a thread of its own (which sets its device: a new thread starts on device 0);
  // every thread passes each barrier, failed or not, so none waits for one that gave up.
  for (size_t i = 0; i < devices.size(); ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<PinnedLink> link;
      auto step = [&](auto&& what) {
        atOnce.arriveAndWait();
        if (errors[i]) return;
        try {
          what();
        } catch (...) {
          errors[i] = std::current_exception();
        }
      };
      step([&] {
        useDevice(devices[i]);
        link = std::make_unique<PinnedLink>(plan);
        out[i].device = devices[i];
      });
      step([&] { out[i].copies.push_back(link->h2d()); });
      step([&] { out[i].copies.push_back(link->d2h()); });
      step([&] { out[i].copies.push_back(link->both()); });
      atOnce.arriveAndWait();  // the buffers go after every GPU is done copying
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

}  // namespace kv
