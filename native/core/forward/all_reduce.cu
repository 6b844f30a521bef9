#include "all_reduce.h"

#include "../common/error.h"
#include "../cuda/cuda_check.h"

namespace kv {
namespace {

// A rank's ask to stop, in the probe's high bits: the sum's high bits count the ranks that asked
// (the low part stays far below it: (seq + 1) * w * (w + 1) / 2 for a million calls and 1,024 ranks).
constexpr int kAskShift = 48;
constexpr unsigned long long kLowMask = (1ull << kAskShift) - 1;

// The probe of call `seq`: rank r contributes (r + 1) * (seq + 1), so the ranks' sum is known.
__global__ void writeProbe(unsigned long long* in, int rank, unsigned long long seq, int ask) {
  *in = static_cast<unsigned long long>(rank + 1) * (seq + 1) + (static_cast<unsigned long long>(ask) << kAskShift);
}

// On the all-reduce's stream after it: a wrong sum is counted, and the output poisoned so the
// next call cannot pass by reading this one's.
// Asks counted go to `votes` (host memory), written only when there are some: no PCIe access
// in a step where no rank asked.
__global__ void checkProbe(unsigned long long* out, unsigned long long expected, unsigned long long* mismatches, unsigned long long* votes) {
  if ((*out & kLowMask) != expected) ++*mismatches;
  if (const unsigned long long asks = *out >> kAskShift) *votes = asks;
  *out = 0;
}

}  // namespace

AllReduce::AllReduce(const AllReducePlan& plan, cudaStream_t compute, int layers) : plan_(plan), compute_(compute) {
  if (!nccl_.available()) throw Error(codes::kBadInput, "the forward's all-reduce needs NCCL: " + nccl_.source());
  if (plan.world < 1 || plan.rank < 0 || plan.rank >= plan.world) throw Error(codes::kBadInput, "all-reduce: rank must be in [0, world)");
  if (plan.shared) {
    comm_ = plan.shared->comm;
  } else {
    if (plan.uniqueIdHex.empty() && plan.world > 1) throw Error(codes::kBadInput, "all-reduce: a world of several ranks needs rank 0's NCCL id");
    const NcclUniqueId id = plan.uniqueIdHex.empty() ? nccl_.uniqueId() : uniqueIdFromHex(plan.uniqueIdHex);
    comm_ = nccl_.initRank(plan.world, plan.rank, id);
    if (SharedComm* slot = plan.abortable) {  // kept where another thread can abort it
      std::lock_guard<std::mutex> held(slot->m);
      if (slot->aborted) {  // asked while the ranks were still meeting
        nccl_.abort(comm_);
        throw Error(codes::kCuda, slot->why);
      }
      slot->comm = comm_;
    }
  }
  try {
    probeIn_ = allocDevice(sizeof(unsigned long long));
    probeOut_ = allocDevice(sizeof(unsigned long long));
    mismatches_ = allocDevice(sizeof(unsigned long long));
    votes_ = allocPinned(sizeof(unsigned long long), cudaHostAllocMapped);  // one address for host and GPU (unified addressing)
    *votes_.get<unsigned long long>() = 0;
    KV_CUDA(cudaMemsetAsync(mismatches_.get(), 0, sizeof(unsigned long long), compute_));
    const size_t perStep = 2 * static_cast<size_t>(layers);  // two row-parallel products a layer
    before_.resize(perStep);
    after_.resize(perStep);
    KV_CUDA(cudaStreamSynchronize(compute_));
  } catch (...) {
    releaseOwnComm();  // no destructor runs for a constructor that threw
    throw;
  }
}

AllReduce::~AllReduce() { releaseOwnComm(); }

void AllReduce::releaseOwnComm() {
  if (plan_.shared) return;  // the run's
  if (SharedComm* slot = plan_.abortable) {
    std::lock_guard<std::mutex> held(slot->m);
    if (!slot->aborted) nccl_.destroy(comm_);  // an aborted one is freed by its abort
    slot->comm = nullptr;
    return;
  }
  nccl_.destroy(comm_);
}

void AllReduce::sumBf16(void* data, size_t count) {
  if (used_ == before_.size()) before_.emplace_back(), after_.emplace_back();
  const unsigned long long seq = static_cast<unsigned long long>(calls_++);
  const unsigned long long w = plan_.world;
  before_[used_].record(compute_);
  writeProbe<<<1, 1, 0, compute_>>>(probeIn_.get<unsigned long long>(), plan_.rank, seq, ask_ ? 1 : 0);
  KV_CUDA_LAUNCHED("writeProbe");
  cudaStream_t s = compute_;
  if (plan_.unordered) s = side_.get();  // the fault: no wait for the compute stream's writes
  {
    std::unique_lock<std::mutex> held;
    if (SharedComm* slot = plan_.shared ? plan_.shared : plan_.abortable) {
      held = std::unique_lock<std::mutex>(slot->m);
      if (slot->aborted) throw Error(codes::kCuda, slot->why);
    }
    nccl_.groupStart();
    nccl_.allReduceSumBf16(data, data, count, comm_, s);
    nccl_.allReduceSumU64(probeIn_.get(), probeOut_.get(), 1, comm_, s);
    nccl_.groupEnd();
  }
  checkProbe<<<1, 1, 0, s>>>(probeOut_.get<unsigned long long>(), (seq + 1) * w * (w + 1) / 2, mismatches_.get<unsigned long long>(),
                             votes_.get<unsigned long long>());
  KV_CUDA_LAUNCHED("checkProbe");
  if (s != compute_) {  // the layer's next product still reads the sum after it is made
    after_[used_].record(s);
    KV_CUDA(cudaStreamWaitEvent(compute_, after_[used_].get(), 0));
  } else {
    after_[used_].record(compute_);
  }
  ++used_;
}

bool AllReduce::stopVoted() {
  if (stopAsks_ == 0) stopAsks_ = static_cast<long long>(*static_cast<volatile unsigned long long*>(votes_.get<unsigned long long>()));
  return stopAsks_ > 0;
}

double AllReduce::takeStepMs() {
  double ms = 0;
  for (size_t i = 0; i < used_; ++i) ms += after_[i].since(before_[i]);
  used_ = 0;
  return ms;
}

long long AllReduce::takeMismatches() {
  unsigned long long bad = 0;
  KV_CUDA(cudaStreamSynchronize(side_.get()));
  KV_CUDA(cudaMemcpyAsync(&bad, mismatches_.get(), sizeof bad, cudaMemcpyDeviceToHost, compute_));
  KV_CUDA(cudaMemsetAsync(mismatches_.get(), 0, sizeof bad, compute_));
  KV_CUDA(cudaStreamSynchronize(compute_));
  return static_cast<long long>(bad);
}

NcclUniqueId uniqueIdFromHex(const std::string& hex) {
  NcclUniqueId id{};
  if (hex.size() != 2 * sizeof id.bytes) throw Error(codes::kBadInput, "NCCL id must be " + std::to_string(2 * sizeof id.bytes) + " hex digits");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error(codes::kBadInput, "NCCL id: not a hex digit");
  };
  for (size_t i = 0; i < sizeof id.bytes; ++i) id.bytes[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return id;
}

}  // namespace kv
