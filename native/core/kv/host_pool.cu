#include "host_pool.h"

namespace kv {

HostPoolBackend::HostPoolBackend(size_t jobs, int layers, size_t extentBytes)
    : jobs_(jobs), layers_(layers), extentBytes_(extentBytes),
      pool_(allocPinned(jobs * layers * extentBytes, cudaHostAllocPortable | cudaHostAllocMapped)),
      index_(jobs) {}

Extent HostPoolBackend::extentFor(uint64_t job, int layer) {
  return Extent{extentAt(slotOf(job, layer)), extentBytes_};
}

std::optional<uint64_t> HostPoolBackend::lookup(uint64_t key) const {
  return index_.find(key);
}

}  // namespace kv
