// --strategy auto, decided here and only here: the strategy the designs run with, and the one
// each direction's table marks (`best`). Plain C++ (native/test/pick_test.cc drives it on CI).
#pragma once
#include <vector>

#include "save_load.h"

namespace kv {

// The index into `passes` (one per `strategies[i]`, the strategies alone) of the strategy to
// use in direction `dir`, or -1 when none verified. The fastest verified strategy by the median
// of its pass's timed groups (one slow patch of the host does not decide); among those within
// 1% of it (a tie, given run-to-run noise), the one cheapest to enqueue: the connector thread's
// enqueue rate bounds what it can move beside the forward. A strategy that moves bytes over PCIe
// on SMs is not a candidate while a copy-engine one was measured: alone it can look fastest,
// beside the forward it takes the SMs the forward runs on (an H100 step took 2.3x as long).
int pickStrategy(const std::vector<Strategy>& strategies, const std::vector<StrategyAloneResult>& passes, Direction dir);

}  // namespace kv
