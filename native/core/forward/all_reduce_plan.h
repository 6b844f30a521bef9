// What a run asks of the forward's tensor-parallel all-reduce (all_reduce.h); plain data, so the
// boundary can read it without CUDA.
#pragma once
#include <string>

#include "../cuda/nccl_loader.h"

namespace kv {

struct AllReducePlan {
  bool on = false;
  int world = 1, rank = 0;
  std::string uniqueIdHex;  // every rank's communicator id (256 hex digits); empty with a world of one: made here
  bool unordered = false;   // testing (--inject allreduce-unordered): on a side stream that does not wait for the compute stream
  // --gpus: the run's communicator for this rank, made for every worker at once and owned by the
  // run (null: the forward makes its own), which aborts it when this rank waits for one that failed.
  SharedComm* shared = nullptr;
  // A launcher's rank: where the forward keeps the communicator it makes while it lives, so that the
  // addon can abort it from another thread when a peer rank stopped or died (abortAllReduce).
  SharedComm* abortable = nullptr;
};

}  // namespace kv
