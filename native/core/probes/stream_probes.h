// Native stream probes for `kvbench audit-streams`: what CUDA itself does with the
// current device and streams across threads. Plain structs; results, not verdict text.
#pragma once
#include <string>
#include <vector>

namespace kv {

struct ProbeResult {
  std::string id;        // fresh-thread-device, default-stream-mode, cross-device-stream, race-canary
  std::string outcome;   // "pass", "leak", "hazard", "skip", "error"
  std::string evidence;  // one line: what was observed
};

std::vector<ProbeResult> runStreamProbes(int device);

}  // namespace kv
