// The addon's one piece of run state: a signal asks the running save/load (after its current
// step) or backend bench (at its next store call) to stop, and the running backend bench counts
// its store operations (save/load: its forward steps) for a progress bar; a launcher's rank left
// waiting for a dead peer has its communicator aborted. The core polls these and owns no global state.
#pragma once
#include <atomic>

#include "../core/cuda/nccl_loader.h"

namespace kvaddon {

std::atomic<bool>& cancelFlag();
std::atomic<long long>& progressCount();
// What progressCount() counts up to, when the native run knows it (save/load: its forward steps); 0 otherwise.
std::atomic<long long>& progressTotal();
// The running save/load's own communicator when it is a launcher's rank (abortAllReduce ends it).
kv::SharedComm& launcherComm();
// A new run starts neither cancelled nor counted, with no communicator aborted.
void startRun();

}  // namespace kvaddon
