#include "pci_link.h"

#include <dlfcn.h>

namespace kv {
namespace {

// The subset of NVML's C ABI we call; signatures are stable since NVML 2.x.
using nvmlReturn = int;
using nvmlDevice = void*;
struct Nvml {
  void* lib = nullptr;
  nvmlReturn (*init)() = nullptr;
  nvmlReturn (*shutdown)() = nullptr;
  nvmlReturn (*driverVersion)(char*, unsigned) = nullptr;
  nvmlReturn (*byBusId)(const char*, nvmlDevice*) = nullptr;
  nvmlReturn (*curGen)(nvmlDevice, unsigned*) = nullptr;
  nvmlReturn (*maxGen)(nvmlDevice, unsigned*) = nullptr;
  nvmlReturn (*curWidth)(nvmlDevice, unsigned*) = nullptr;
  nvmlReturn (*maxWidth)(nvmlDevice, unsigned*) = nullptr;
  std::string reason;

  Nvml() {
    lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { reason = "libnvidia-ml.so.1 not found"; return; }
    init = reinterpret_cast<decltype(init)>(dlsym(lib, "nvmlInit_v2"));
    shutdown = reinterpret_cast<decltype(shutdown)>(dlsym(lib, "nvmlShutdown"));
    driverVersion = reinterpret_cast<decltype(driverVersion)>(dlsym(lib, "nvmlSystemGetDriverVersion"));
    byBusId = reinterpret_cast<decltype(byBusId)>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    curGen = reinterpret_cast<decltype(curGen)>(dlsym(lib, "nvmlDeviceGetCurrPcieLinkGeneration"));
    maxGen = reinterpret_cast<decltype(maxGen)>(dlsym(lib, "nvmlDeviceGetMaxPcieLinkGeneration"));
    curWidth = reinterpret_cast<decltype(curWidth)>(dlsym(lib, "nvmlDeviceGetCurrPcieLinkWidth"));
    maxWidth = reinterpret_cast<decltype(maxWidth)>(dlsym(lib, "nvmlDeviceGetMaxPcieLinkWidth"));
    if (!init || !shutdown || !driverVersion || !byBusId || !curGen || !maxGen || !curWidth || !maxWidth) {
      reason = "libnvidia-ml.so.1 lacks a needed symbol";
      close();
      return;
    }
    if (init() != 0) { reason = "nvmlInit failed"; close(); return; }
  }
  ~Nvml() {
    if (lib && shutdown) shutdown();
    close();
  }
  void close() {
    if (lib) dlclose(lib);
    lib = nullptr;
    shutdown = nullptr;
  }
  bool ok() const { return lib != nullptr; }
};

}  // namespace

NvmlInfo queryNvml() {
  NvmlInfo out;
  Nvml n;
  if (!n.ok()) { out.reason = n.reason; return out; }
  char buf[96] = {0};
  if (n.driverVersion(buf, sizeof buf) == 0) out.driverVersion = buf;
  out.available = true;
  return out;
}

PciLink queryPciLink(const std::string& busId) {
  PciLink link;
  Nvml n;
  if (!n.ok()) return link;
  nvmlDevice dev = nullptr;
  if (n.byBusId(busId.c_str(), &dev) != 0) return link;
  unsigned v = 0;
  if (n.curGen(dev, &v) == 0) link.currentGen = static_cast<int>(v);
  if (n.maxGen(dev, &v) == 0) link.maxGen = static_cast<int>(v);
  if (n.curWidth(dev, &v) == 0) link.currentWidth = static_cast<int>(v);
  if (n.maxWidth(dev, &v) == 0) link.maxWidth = static_cast<int>(v);
  link.source = "nvml";
  return link;
}

}  // namespace kv
