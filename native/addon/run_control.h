// The addon's one piece of run state: a signal asks the running save/load (after its current
// step) or backend bench (at its next store call) to stop, and the running backend bench counts
// its store operations (save/load: its forward steps) for a progress bar. The core polls these and owns no global state.
#pragma once
#include <atomic>

namespace kvaddon {

std::atomic<bool>& cancelFlag();
std::atomic<long long>& progressCount();
// What progressCount() counts up to, when the native run knows it (save/load: its forward steps); 0 otherwise.
std::atomic<long long>& progressTotal();
// A new run starts neither cancelled nor counted.
void startRun();

}  // namespace kvaddon
