// The forward's tensor-parallel all-reduce: what a TP engine runs after each row-parallel
// matrix product (attention's output projection and the MLP's down projection), through NCCL,
// on the stream the engine computes on. Each call also reduces a probe the compute stream
// wrote just before it and checks the sum on the same stream after it: an all-reduce that does
// not wait for the compute stream (the connector's stream leaked into the engine's accessor,
// the seed's bug) reads a stale probe, and the run counts it.
#pragma once
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "../cuda/device.h"
#include "../cuda/nccl_loader.h"
#include "all_reduce_plan.h"

namespace kv {

class AllReduce {
 public:
  // Throws (naming the library and why) when NCCL is missing; on the calling thread's device.
  AllReduce(const AllReducePlan& plan, cudaStream_t compute, int layers);
  ~AllReduce();
  AllReduce(const AllReduce&) = delete;
  AllReduce& operator=(const AllReduce&) = delete;

  // Sums `count` bf16 values in place across the ranks, with the probe, on the compute stream.
  void sumBf16(void* data, size_t count);
  // After the step's sync: the GPU ms of this step's calls (from the work before each to its
  // end, so a rank waiting for the others counts), and the step's timing events freed for the next.
  double takeStepMs();
  // Probe sums that came out wrong since the last take (synchronizes).
  long long takeMismatches();
  long long calls() const { return calls_; }
  // Launcher ranks (a process each) stop where they agree to, so that no rank stops a step sooner
  // than the others and leaves them waiting in an all-reduce that never comes. The vote rides on
  // the probes: each carries its rank's ask to stop (askStop, set before each forward step) in
  // its high bits, so the sum every rank gets says how many asked, with no collective of its own
  // and no round trip (a synchronous vote a step made two ranks on one GPU, NCCL over sockets,
  // take minutes: H200, 2026-12-03). After a step's sync, stopVoted() is the same on every rank;
  // once true it stays true.
  void askStop(bool mine) { ask_ = mine; }
  bool stopVoted();
  long long stopAsks() const { return stopAsks_; }  // ranks that asked, in the step that stopped them
  std::string library() const { return nccl_.source() + " " + nccl_.versionText(); }
  int world() const { return plan_.world; }

 private:
  void releaseOwnComm();  // never throws

  AllReducePlan plan_;
  Nccl nccl_;
  void* comm_ = nullptr;
  cudaStream_t compute_;
  Stream side_;  // the unordered fault's stream
  DeviceBuffer probeIn_, probeOut_, mismatches_;
  PinnedBuffer votes_;  // written by the probe check on the GPU (pinned memory is mapped), read after a step's sync
  bool ask_ = false;
  std::vector<Event> before_, after_;  // this step's calls
  size_t used_ = 0;
  long long calls_ = 0;
  long long stopAsks_ = 0;
};

// The id a plan carries as hex (rank 0 makes it, the others are handed it); bad text throws kBadInput.
NcclUniqueId uniqueIdFromHex(const std::string& hex);

}  // namespace kv
