#include "nccl_loader.h"

#include <dlfcn.h>

#include <cstdlib>

#include "../common/error.h"

namespace kv {
namespace {
// Values from nccl.h (stable ABI since NCCL 2.0; bfloat16 since 2.10).
constexpr int kNcclUint64 = 5;
constexpr int kNcclBfloat16 = 9;
constexpr int kNcclSum = 0;
constexpr int kNcclSuccess = 0;
constexpr int kMinVersion = 21000;  // 2.10: the first with bfloat16
}  // namespace

Nccl::Nccl() {
  // KVBENCH_NCCL_LIBRARY names the one library to load (a path, or a name the loader searches for).
  const char* chosen = std::getenv("KVBENCH_NCCL_LIBRARY");
  if (chosen && *chosen) {
    lib_ = dlopen(chosen, RTLD_NOW | RTLD_LOCAL);
    if (!lib_) { source_ = std::string("KVBENCH_NCCL_LIBRARY=") + chosen + " could not be loaded: " + dlerror(); return; }
    source_ = chosen;
  } else {
    for (const char* n : {"libnccl.so.2", "libnccl.so"}) {
      lib_ = dlopen(n, RTLD_NOW | RTLD_LOCAL);
      if (lib_) { source_ = n; break; }
    }
  }
  if (!lib_) { source_ = "libnccl.so.2 not found (install NCCL, put the directory of torch's libnccl.so.2 on LD_LIBRARY_PATH, or name it in KVBENCH_NCCL_LIBRARY)"; return; }
  auto sym = [this](const char* name) { return dlsym(lib_, name); };
  getVersion_ = reinterpret_cast<decltype(getVersion_)>(sym("ncclGetVersion"));
  getUniqueId_ = reinterpret_cast<decltype(getUniqueId_)>(sym("ncclGetUniqueId"));
  commInitRank_ = reinterpret_cast<decltype(commInitRank_)>(sym("ncclCommInitRank"));
  commDestroy_ = reinterpret_cast<decltype(commDestroy_)>(sym("ncclCommDestroy"));
  commAbort_ = reinterpret_cast<decltype(commAbort_)>(sym("ncclCommAbort"));
  groupStart_ = reinterpret_cast<decltype(groupStart_)>(sym("ncclGroupStart"));
  groupEnd_ = reinterpret_cast<decltype(groupEnd_)>(sym("ncclGroupEnd"));
  errorString_ = reinterpret_cast<decltype(errorString_)>(sym("ncclGetErrorString"));
  auto* allReduce = reinterpret_cast<decltype(allReduce_)>(sym("ncclAllReduce"));
  if (!getVersion_ || !getUniqueId_ || !commInitRank_ || !commDestroy_ || !commAbort_ || !groupStart_ || !groupEnd_ || !errorString_ || !allReduce) {
    source_ += " lacks the NCCL 2 calls kvbench uses";
    return;
  }
  if (getVersion_(&version_) != kNcclSuccess) { source_ += ": ncclGetVersion failed"; version_ = 0; return; }
  if (version_ < kMinVersion) { source_ += " is NCCL " + versionText() + "; bfloat16 all-reduce needs 2.10 or later"; return; }
  allReduce_ = allReduce;
}

// Never dlclose: NCCL's own threads outlive the calls that start them (ncclGetUniqueId leaves the
// bootstrap root's thread waiting for the ranks), and unmapping the library under them crashes the
// process (seen on an H200: rank 0 segfaulted after handing out its id).
Nccl::~Nccl() = default;

std::string Nccl::versionText() const {
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch.
  return std::to_string(version_ / 10000) + "." + std::to_string(version_ / 100 % 100) + "." + std::to_string(version_ % 100);
}

void Nccl::check(int result, const char* call) const {
  if (result == kNcclSuccess) return;
  throw Error(codes::kCuda, std::string(call) + " failed: " + errorString_(result) + " (ncclResult " + std::to_string(result) + ")");
}

std::string NcclUniqueId::hex() const {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const unsigned char b = static_cast<unsigned char>(c);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

NcclUniqueId Nccl::uniqueId() const {
  NcclUniqueId id{};
  check(getUniqueId_(&id), "ncclGetUniqueId");
  return id;
}

void* Nccl::initRank(int world, int rank, const NcclUniqueId& id) const {
  void* comm = nullptr;
  check(commInitRank_(&comm, world, id, rank), "ncclCommInitRank");
  return comm;
}

void Nccl::destroy(void* comm) const {
  if (comm && commDestroy_) commDestroy_(comm);
}

void Nccl::abort(void* comm) const {
  if (comm && commAbort_) commAbort_(comm);
}

void Nccl::groupStart() const { check(groupStart_(), "ncclGroupStart"); }
void Nccl::groupEnd() const { check(groupEnd_(), "ncclGroupEnd"); }

void Nccl::allReduceSumBf16(const void* send, void* recv, size_t count, void* comm, CUstream_st* s) const {
  check(allReduce_(send, recv, count, kNcclBfloat16, kNcclSum, comm, s), "ncclAllReduce (bf16)");
}

void Nccl::allReduceSumU64(const void* send, void* recv, size_t count, void* comm, CUstream_st* s) const {
  check(allReduce_(send, recv, count, kNcclUint64, kNcclSum, comm, s), "ncclAllReduce (u64)");
}

}  // namespace kv
