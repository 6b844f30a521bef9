// The phases of one save/load run that move bytes, each a function of the rig; save_load.cu
// runs them, in order, as named phases.
#pragma once
#include <cstdint>

#include "rig.h"
#include "step_loop.h"

namespace kv {

// Each strategy alone: every transfer block saved, then loaded back over poison (strategy_alone.cu).
StrategyAloneResult strategyAlone(Rig& rig, Strategy s, uint64_t gen);

// The store alone: every pool extent put, the pool poisoned, every record read back (store_alone.cu).
StoreAloneResult storeAlone(Rig& rig, uint64_t gen);

// After a save beside the forward: every record the store holds, read back and checked (store_alone.cu).
void verifyStoreRecords(Rig& rig, DesignStore& cs);

// The forward with the connector beside it, saving every layer's new blocks (save_steps.cu).
DesignResult saveBesideForward(Rig& rig, Design design, Strategy s, int jobsPerStep, uint64_t genBase, int steps, const StepsWindow& around);

// What a mixed run's steps move each way: the saves (as saveBesideForward's) and the loads (as loadBesideForward's).
struct MixWork {
  Strategy saveWith, loadWith;
  int jobsPerStep = 0;
  uint64_t saveGen = 0;
  double requestsPerStep = 0;
  int loadBlocks = 0;
  uint64_t loadGen = 0;
};

// The forward with saves and loads beside it in the same steps, each direction in its half of the transfer set (mix_steps.cu).
DesignResult mixBesideForward(Rig& rig, Design design, const MixWork& work, int steps, const StepsWindow& around);

// The forward while requests with prefix hits arrive and load their blocks (load_steps.cu).
DesignResult loadBesideForward(Rig& rig, Design design, Strategy s, double requestsPerStep, int loadBlocks, uint64_t gen, int steps, const StepsWindow& around);

}  // namespace kv
