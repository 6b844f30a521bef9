#include "device_info.h"

#include <cstdio>
#include <string>

#include "cuda_check.h"

#ifndef KVBENCH_GENCODES
#define KVBENCH_GENCODES ""
#endif

namespace kv {
namespace {

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string formatUuid(const cudaUUID_t& u) {
  const unsigned char* b = reinterpret_cast<const unsigned char*>(u.bytes);
  char buf[64];
  std::snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
}

int deviceCountOrThrow() {
  int n = 0;
  KV_CUDA(cudaGetDeviceCount(&n));
  return n;
}

}  // namespace

CudaInfo queryCudaInfo() {
  CudaInfo info;
  info.builtWithCuda = true;
  info.gencodes = splitCommas(KVBENCH_GENCODES);
  cudaRuntimeGetVersion(&info.runtimeVersion);
  cudaDriverGetVersion(&info.driverVersion);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    info.errorName = cudaGetErrorName(e);
    info.errorMessage = cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    KV_CUDA(cudaGetDeviceProperties(&p, i));
    GpuInfo g;
    g.index = i;
    g.name = p.name;
    g.uuid = formatUuid(p.uuid);
    char bus[32] = {0};
    KV_CUDA(cudaDeviceGetPCIBusId(bus, sizeof bus, i));
    g.busId = bus;
    g.ccMajor = p.major;
    g.ccMinor = p.minor;
    g.smCount = p.multiProcessorCount;
    g.totalMemBytes = p.totalGlobalMem;
    g.l2Bytes = p.l2CacheSize;
    g.memoryBusWidthBits = p.memoryBusWidth;
    g.copyEngines = p.asyncEngineCount;
    g.canMapHostMemory = p.canMapHostMemory != 0;
    info.gpus.push_back(std::move(g));
  }
  return info;
}

DeviceMemory queryMemory(int device) {
  requireDevice(device);
  KV_CUDA(cudaSetDevice(device));
  DeviceMemory m;
  KV_CUDA(cudaMemGetInfo(&m.freeBytes, &m.totalBytes));
  return m;
}

void requireDevice(int device) {
  int n = deviceCountOrThrow();
  if (device >= 0 && device < n) return;
  std::string list;
  for (int i = 0; i < n; ++i) list += (i ? ", " : "") + std::to_string(i);
  std::string msg = "no GPU " + std::to_string(device) + ": this host has " + std::to_string(n) +
                    (n == 1 ? " GPU" : " GPUs") + (n > 0 ? " (" + list + ")" : "");
  throw Error(codes::kNoDevice, msg);
}

}  // namespace kv
