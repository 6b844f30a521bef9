#include "pick.h"

#include <algorithm>

#include "samples.h"

namespace kv {

int pickStrategy(const std::vector<Strategy>& strategies, const std::vector<StrategyAloneResult>& passes, Direction dir) {
  const bool load = dir == Direction::Load;
  const size_t n = std::min(strategies.size(), passes.size());
  bool copyEngineMeasured = false;
  for (size_t i = 0; i < n; ++i) copyEngineMeasured |= !movesOverPcieOnSms(strategies[i]);
  auto rate = [&](size_t i) {
    const StrategyAloneResult& t = passes[i];
    const long long bad = load ? t.loadMismatches : t.saveMismatches;
    if (bad != 0 || (copyEngineMeasured && movesOverPcieOnSms(strategies[i]))) return -1.0;
    return medianRate(load ? t.loadSampleMs : t.saveSampleMs, t.sampleBytes);
  };
  double best = -1;
  for (size_t i = 0; i < n; ++i) best = std::max(best, rate(i));
  int picked = -1;
  double cheapest = -1;
  for (size_t i = 0; i < n && best > 0; ++i) {
    const double enqueueMs = load ? passes[i].loadEnqueueMs : passes[i].saveEnqueueMs;
    if (rate(i) >= 0.99 * best && (cheapest < 0 || enqueueMs < cheapest)) {
      cheapest = enqueueMs;
      picked = static_cast<int>(i);
    }
  }
  return picked;
}

}  // namespace kv
