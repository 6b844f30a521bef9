// What a run asks of the forward's tensor-parallel all-reduce (all_reduce.h); plain data, so the
// boundary can read it without CUDA.
#pragma once
#include <string>

namespace kv {

struct AllReducePlan {
  bool on = false;
  int world = 1, rank = 0;
  std::string uniqueIdHex;  // every rank's communicator id (256 hex digits); empty with a world of one: made here
  bool unordered = false;   // testing (--inject allreduce-unordered): on a side stream that does not wait for the compute stream
};

}  // namespace kv
