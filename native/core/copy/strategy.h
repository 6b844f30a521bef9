// Copy strategies and directions: plain enums shared by the addon boundary and the core.
#pragma once

namespace kv {

enum class Strategy : int {
  PerChunk = 0,      // one cudaMemcpyAsync per chunk: what many connectors do
  Batch = 1,         // cudaMemcpyBatchAsync, many chunks per call (CUDA 12.8+)
  MappedKernel = 2,  // a copy kernel reading/writing mapped (zero-copy) host memory over PCIe
  StagedGather = 3,  // gather/scatter kernel into a device staging ring + copy-engine copies, pipelined
};
enum class Direction : int { Save = 0, Load = 1 };  // Save: GPU -> host; Load: host -> GPU

inline const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::PerChunk: return "per-chunk";
    case Strategy::Batch: return "batch";
    case Strategy::MappedKernel: return "mapped-kernel";
    case Strategy::StagedGather: return "staged";
  }
  return "?";
}
// Every strategy, for mapping a name from the boundary back to its enum.
inline constexpr Strategy kStrategies[] = {Strategy::PerChunk, Strategy::Batch, Strategy::MappedKernel, Strategy::StagedGather};

// A kernel whose loads or stores cross PCIe holds its SMs for the whole transfer (each access
// waits out the link's latency), so beside a forward it takes SMs the forward needs.
inline bool movesOverPcieOnSms(Strategy s) { return s == Strategy::MappedKernel; }

}  // namespace kv
