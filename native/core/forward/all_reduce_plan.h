// What a run asks of the forward's tensor-parallel all-reduce (all_reduce.h); plain data, so the
// boundary can read it without CUDA.
#pragma once
#include <mutex>
#include <string>

namespace kv {

// --gpus: one rank's communicator, made for every worker at once by the run, which owns it (the
// forward borrows it). Its lock is held around each call, so that the run can abort it from
// another thread when this rank is left waiting for a rank that failed.
struct SharedComm {
  std::mutex m;
  void* comm = nullptr;
  bool aborted = false;
};

struct AllReducePlan {
  bool on = false;
  int world = 1, rank = 0;
  std::string uniqueIdHex;  // every rank's communicator id (256 hex digits); empty with a world of one: made here
  bool unordered = false;   // testing (--inject allreduce-unordered): on a side stream that does not wait for the compute stream
  SharedComm* shared = nullptr;  // --gpus: the run's communicator for this rank (null: the forward makes its own)
};

}  // namespace kv
