// Compiled instead of the .cu files when the CUDA toolkit was not found at
// install time: the addon still loads and every GPU entry point says why it can't run.
#include "device_info.h"
#include "../common/error.h"
#include "../measure/measure.h"
#include "../run/save_load.h"
#include "../probes/stream_probes.h"

namespace kv {
namespace {
[[noreturn]] void noCuda() {
  throw Error(codes::kNoCuda, kNoCudaMessage);
}
}  // namespace

CudaInfo queryCudaInfo() {
  CudaInfo info;
  info.builtWithCuda = false;
  info.errorName = "NO_CUDA";
  info.errorMessage = kNoCudaMessage;
  return info;
}
void requireDevice(int) { noCuda(); }
DeviceMemory queryMemory(int) { noCuda(); }
MeasureResult measureCeilings(const MeasurePlan&) { noCuda(); }
std::vector<DeviceCeilings> measureCeilingsTogether(const MeasurePlan&, const std::vector<int>&) { noCuda(); }
SaveLoadResult runSaveLoad(const SaveLoadPlan&) { noCuda(); }
std::vector<WorkerOutcome> runSaveLoadTogether(const SaveLoadPlan&, const std::vector<int>&, const std::vector<HostPlacement>&) { noCuda(); }
std::vector<ProbeResult> runStreamProbes(int) { noCuda(); }

}  // namespace kv
