#include "host_placement.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kv {
namespace {
constexpr int kMpolPreferred = 1;  // linux/mempolicy.h MPOL_PREFERRED
constexpr int kMaxNodes = 1024;    // bits in the node mask handed to the kernel

std::string why(const char* call) { return std::string(call) + ": " + std::strerror(errno); }
}  // namespace

PlacementApplied placeThisThread(const HostPlacement& p) {
  PlacementApplied out;
  out.asked = p.numaNode >= 0 || !p.cpus.empty();
  std::vector<std::string> notes;
  if (!p.cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : p.cpus)
      if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) notes.push_back(why("sched_setaffinity"));
  }
  cpu_set_t now;
  if (sched_getaffinity(0, sizeof now, &now) == 0) out.cpusAllowed = CPU_COUNT(&now);
  if (p.numaNode >= 0 && p.numaNode < kMaxNodes) {
    unsigned long mask[kMaxNodes / (8 * sizeof(unsigned long))] = {};
    mask[p.numaNode / (8 * sizeof(unsigned long))] |= 1UL << (p.numaNode % (8 * sizeof(unsigned long)));
    if (syscall(SYS_set_mempolicy, kMpolPreferred, mask, kMaxNodes + 1) != 0) {
      notes.push_back(why("set_mempolicy"));
    } else {
      int mode = -1;
      unsigned long got[kMaxNodes / (8 * sizeof(unsigned long))] = {};
      out.memoryBound = syscall(SYS_get_mempolicy, &mode, got, kMaxNodes + 1, nullptr, 0) == 0 && mode == kMpolPreferred &&
                        (got[p.numaNode / (8 * sizeof(unsigned long))] >> (p.numaNode % (8 * sizeof(unsigned long))) & 1);
      if (!out.memoryBound) notes.push_back("get_mempolicy did not read back the preferred node");
    }
  } else if (out.asked) {
    notes.push_back("the GPU's NUMA node is unknown: host memory left to the kernel's default");
  }
  for (size_t i = 0; i < notes.size(); ++i) out.note += (i ? "; " : "") + notes[i];
  return out;
}

}  // namespace kv
