// NCCL, loaded at run time as cuBLAS is: the build machines have no NCCL, GPU hosts with several
// GPUs usually do (a system package, or the one torch's wheels bring). Missing, the forward runs
// without its tensor-parallel all-reduce and the run says why.
#pragma once
#include <cstddef>
#include <mutex>
#include <string>

// cudaStream_t without the CUDA headers: `env` reports NCCL from an addon built without CUDA too.
struct CUstream_st;

namespace kv {

// ncclUniqueId: what every rank of one communicator must be given (rank 0 makes it).
struct NcclUniqueId {
  char bytes[128];
  std::string hex() const;  // what a plan carries (all_reduce.h uniqueIdFromHex reads it back)
};

class Nccl {
 public:
  Nccl();  // never throws; check available()
  ~Nccl();
  Nccl(const Nccl&) = delete;
  Nccl& operator=(const Nccl&) = delete;
  bool available() const { return allReduce_ != nullptr; }
  const std::string& source() const { return source_; }  // library path, or why it is unavailable
  int version() const { return version_; }               // e.g. 22803 for 2.28.3; 0 when unavailable
  std::string versionText() const;

  // Each throws kv::Error naming the call and NCCL's own words for the failure.
  NcclUniqueId uniqueId() const;
  void* initRank(int world, int rank, const NcclUniqueId& id) const;  // on the calling thread's device
  void destroy(void* comm) const;                                     // never throws
  void abort(void* comm) const;                                       // ends its work in flight; never throws
  void groupStart() const;
  void groupEnd() const;
  // In place where send == recv. bf16 sums the activations; u64 the probe that checks them.
  void allReduceSumBf16(const void* send, void* recv, size_t count, void* comm, CUstream_st* s) const;
  void allReduceSumU64(const void* send, void* recv, size_t count, void* comm, CUstream_st* s) const;

 private:
  void check(int result, const char* call) const;
  void* lib_ = nullptr;
  std::string source_;
  int version_ = 0;
  int (*getVersion_)(int*) = nullptr;
  int (*getUniqueId_)(NcclUniqueId*) = nullptr;
  int (*commInitRank_)(void**, int, NcclUniqueId, int) = nullptr;
  int (*commDestroy_)(void*) = nullptr;
  int (*commAbort_)(void*) = nullptr;
  int (*groupStart_)() = nullptr;
  int (*groupEnd_)() = nullptr;
  int (*allReduce_)(const void*, void*, size_t, int, int, void*, CUstream_st*) = nullptr;
  const char* (*errorString_)(int) = nullptr;
};

// A communicator another thread may abort: NCCL's own way out for a rank left waiting in a
// collective for a peer that failed or died (its kernels see the abort and end). The lock is
// held around each enqueue on it and around the abort, never around a wait.
struct SharedComm {
  std::mutex m;
  void* comm = nullptr;
  bool aborted = false;
  std::string why;  // what the next call on it throws once aborted
  // Ends its work in flight, once; with no communicator yet, the one to come is refused. Never throws.
  void abort(const Nccl& nccl, const std::string& reason) {
    std::lock_guard<std::mutex> held(m);
    if (aborted) return;
    nccl.abort(comm);
    aborted = true;
    why = reason;
  }
};

}  // namespace kv
