// CPU-only tests of --strategy auto's rule (core/run/pick.h), the one place it is decided:
// the median group beats the pass, a tie within 1% goes to the cheapest enqueue, a strategy
// that moves bytes over PCIe on SMs waits behind any copy-engine one, and nothing unverified
// is picked. Built and run by test/pick.test.mjs with g++ (make pick-test).
#include <cstdio>
#include <vector>

#include "check.h"
#include "../core/run/pick.h"

using kv::Direction;
using kv::Strategy;
using kv::StrategyAloneResult;

namespace {

// A pass of 8 groups of 1 GiB: `saveGBps` per group, `enqueueMs` to enqueue (both directions alike).
StrategyAloneResult pass(const char* name, std::vector<double> saveGBps, double enqueueMs) {
  StrategyAloneResult t;
  t.strategy = name;
  for (double gbps : saveGBps) {
    t.sampleBytes.push_back(1 << 30);
    t.saveSampleMs.push_back((1 << 30) / (gbps * 1e6));
    t.loadSampleMs.push_back((1 << 30) / (gbps * 1e6));
  }
  t.saveEnqueueMs = t.loadEnqueueMs = enqueueMs;
  return t;
}

void median_group_not_pass() {
  // staged: one slow group drags its pass below batch's; its median group is still faster.
  std::vector<double> staged(7, 53.9);
  staged.push_back(27);
  const std::vector<Strategy> s = {Strategy::StagedGather, Strategy::Batch};
  CHECK(kv::pickStrategy(s, {pass("staged", staged, 40), pass("batch", std::vector<double>(8, 52), 40)}, Direction::Save) == 0);
  std::printf("ok the median group decides, not the pass\n");
}

void tie_goes_to_cheapest_enqueue() {
  const std::vector<Strategy> s = {Strategy::Batch, Strategy::StagedGather};
  CHECK(kv::pickStrategy(s, {pass("batch", std::vector<double>(8, 54.5), 140), pass("staged", std::vector<double>(8, 54.2), 45)}, Direction::Save) == 1);
  // beyond 1% the faster one wins whatever its enqueue cost
  CHECK(kv::pickStrategy(s, {pass("batch", std::vector<double>(8, 54.5), 140), pass("staged", std::vector<double>(8, 50), 45)}, Direction::Save) == 0);
  std::printf("ok within 1%% the cheapest to enqueue\n");
}

void sm_copies_wait_behind_copy_engines() {
  const std::vector<Strategy> s = {Strategy::MappedKernel, Strategy::PerChunk};
  CHECK(kv::pickStrategy(s, {pass("mapped-kernel", std::vector<double>(8, 51), 1), pass("per-chunk", std::vector<double>(8, 11), 700)}, Direction::Save) == 1);
  CHECK(kv::pickStrategy({Strategy::MappedKernel}, {pass("mapped-kernel", std::vector<double>(8, 51), 1)}, Direction::Save) == 0);
  std::printf("ok a kernel over PCIe only when no copy-engine strategy ran\n");
}

void nothing_unverified() {
  const std::vector<Strategy> s = {Strategy::StagedGather, Strategy::Batch};
  StrategyAloneResult bad = pass("staged", std::vector<double>(8, 55), 40);
  bad.saveMismatches = 1;
  CHECK(kv::pickStrategy(s, {bad, pass("batch", std::vector<double>(8, 50), 140)}, Direction::Save) == 1);
  CHECK(kv::pickStrategy(s, {bad, pass("batch", std::vector<double>(8, 50), 140)}, Direction::Load) == 0);  // its load verified
  StrategyAloneResult bad2 = pass("batch", std::vector<double>(8, 50), 140);
  bad2.saveMismatches = 3;
  CHECK(kv::pickStrategy(s, {bad, bad2}, Direction::Save) == -1);
  CHECK(kv::pickStrategy({}, {}, Direction::Save) == -1);
  std::printf("ok nothing that did not verify, per direction\n");
}

}  // namespace

int main() {
  median_group_not_pass();
  tie_goes_to_cheapest_enqueue();
  sm_copies_wait_behind_copy_engines();
  nothing_unverified();
  return checksResult();
}
