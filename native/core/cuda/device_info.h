// What the CUDA runtime says about this host's GPUs. Plain structs: no CUDA types,
// so the addon and the no-CUDA build share this header.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace kv {

// What every GPU entry point of an addon built without the CUDA toolkit says (the addon exports it).
inline constexpr const char* kNoCudaMessage = "kvbench was built without CUDA: install the CUDA toolkit and run npm rebuild";

struct GpuInfo {
  int index = 0;
  std::string name;
  std::string uuid;      // "GPU-xxxxxxxx-xxxx-..."
  std::string busId;     // "0000:18:00.0"
  int ccMajor = 0, ccMinor = 0;
  int smCount = 0;
  size_t totalMemBytes = 0;
  int l2Bytes = 0;
  int memoryBusWidthBits = 0;
  int copyEngines = 0;   // asyncEngineCount: independent DMA engines
  bool canMapHostMemory = false;
};

struct CudaInfo {
  bool builtWithCuda = false;
  std::vector<std::string> gencodes;  // what the addon's kernels were compiled for
  int runtimeVersion = 0;             // the cudart linked into the addon (static)
  int driverVersion = 0;              // 0 when no driver is installed
  std::string errorName;              // set when the GPU list could not be read
  std::string errorMessage;
  std::vector<GpuInfo> gpus;
};

// Never throws for "no GPU / no driver": that is reported in errorName.
CudaInfo queryCudaInfo();

struct DeviceMemory {
  size_t freeBytes = 0, totalBytes = 0;
};
// Free and total memory of `device` (creates its context).
DeviceMemory queryMemory(int device);

// Throws kv::Error(NO_DEVICE) naming how many GPUs exist when `device` is out of range.
void requireDevice(int device);

}  // namespace kv
