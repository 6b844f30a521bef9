// --gpus: each GPU's worker thread placed on the GPU's NUMA node before it allocates: its CPUs
// (the GPU's local_cpulist, which the connector, store and probe threads it starts inherit) and its
// memory policy (the pinned host pool's pages come from that node), so a copy to host memory does
// not cross the socket interconnect. Plain C++ on Linux calls (no libnuma), CPU-tested.
#pragma once
#include <string>
#include <vector>

namespace kv {

// What src/core decided for one GPU: its NUMA node (-1: unknown) and the CPUs local to it (empty: unknown).
struct HostPlacement {
  int numaNode = -1;
  std::vector<int> cpus;
};

// What the calling thread got, read back from the kernel.
struct PlacementApplied {
  bool asked = false;        // a placement was given
  int cpusAllowed = 0;       // CPUs this thread may run on afterwards
  bool memoryBound = false;  // its allocations prefer numaNode
  std::string note;          // what could not be done, and why (empty: all of it)
};

// Never throws: a placement the kernel refuses (a cpuset, a seccomp filter) is a note, not a failure.
PlacementApplied placeThisThread(const HostPlacement& p);

}  // namespace kv
