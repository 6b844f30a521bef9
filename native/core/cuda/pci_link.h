// PCIe link state and the driver's version string, read through NVML when the
// library is present. NVML is loaded with dlopen: the build machines have no
// NVML header or library, and a GPU host without it still works (fields stay -1).
#pragma once
#include <string>

namespace kv {

struct PciLink {
  int currentGen = -1, maxGen = -1, currentWidth = -1, maxWidth = -1;
  std::string source;  // "nvml" or "" when unavailable
};

struct NvmlInfo {
  bool available = false;
  std::string driverVersion;  // e.g. "580.159.04"
  std::string reason;         // why it is unavailable
};

NvmlInfo queryNvml();
PciLink queryPciLink(const std::string& busId);

}  // namespace kv
