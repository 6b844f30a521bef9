// CPU-only tests of the --gpus worker group (core/run/worker_group.h): the workers start each
// phase together, one that fails stops the others, a cancel lets waiting workers go, ranks that
// all-reduce stop on the same step, and a worker left waiting for a failed one is unstuck.
// A worker thread placed on its GPU's NUMA node reads back its CPUs and memory policy.
// Built and run by test/worker-group.test.mjs with g++ (make worker-group-test).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "check.h"
#include "../core/common/error.h"
#include "../core/run/host_placement.h"
#include "../core/run/worker_group.h"

using kv::WorkerEnd;
using kv::WorkerGroup;

namespace {

void phases_start_together() {
  std::atomic<int> arrived[3] = {};
  std::atomic<int> early{0};
  const auto ends = kv::runWorkers(
      4, nullptr,
      [&](int w, WorkerGroup& g) {
        for (int phase = 0; phase < 3; ++phase) {
          std::this_thread::sleep_for(std::chrono::milliseconds(3 * w));  // the slowest arrives last
          ++arrived[phase];
          CHECK(g.together());
          if (arrived[phase].load() != 4) ++early;  // one left before every worker arrived
        }
      },
      {}, 1.0);
  CHECK(early.load() == 0);
  for (const WorkerEnd& e : ends) CHECK(e.error.empty() && !e.stuck);
  std::printf("ok each phase starts when every worker has arrived\n");
}

void a_failure_stops_the_others() {
  std::atomic<int> phasesAfter{0};
  const auto ends = kv::runWorkers(
      3, nullptr,
      [&](int w, WorkerGroup& g) {
        CHECK(g.together());
        if (w == 1) throw kv::Error(kv::codes::kBadInput, "worker 1 broke");
        while (g.together()) ++phasesAfter;  // the others would go on forever
      },
      {}, 1.0);
  CHECK(phasesAfter.load() == 0);
  CHECK(ends[1].code == kv::codes::kBadInput && ends[1].error == "worker 1 broke");
  CHECK(ends[0].error.empty() && ends[2].error.empty() && !ends[0].stuck && !ends[2].stuck);
  std::printf("ok a failed worker stops the others at their next phase\n");
}

void a_cancel_lets_waiting_workers_go() {
  std::atomic<bool> cancel{false};
  std::atomic<bool> passed{false};
  std::thread ctrlC([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancel = true;
  });
  const auto ends = kv::runWorkers(
      2, &cancel,
      [&](int w, WorkerGroup& g) {
        if (w == 1) return;  // never arrives: without the cancel, worker 0 would wait forever
        if (g.together()) passed = true;
      },
      {}, 1.0);
  ctrlC.join();
  CHECK(!passed.load());
  for (const WorkerEnd& e : ends) CHECK(e.error.empty());
  std::printf("ok a cancel lets a waiting worker go\n");
}

void ranks_stop_on_the_same_step() {
  std::atomic<bool> cancel{false};
  long long steps[3] = {};
  std::thread ctrlC([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    cancel = true;
  });
  kv::runWorkers(
      3, &cancel,
      [&](int w, WorkerGroup& g) {
        while (g.mayStep(w)) {
          ++steps[w];
          std::this_thread::sleep_for(std::chrono::milliseconds(1 + 4 * w));  // worker 2 lags worker 0 by many steps
        }
      },
      {}, 1.0);
  ctrlC.join();
  CHECK(steps[0] > 0 && steps[0] == steps[1] && steps[1] == steps[2]);
  std::printf("ok ranks that stop run the same steps (%lld each)\n", steps[0]);
}

void a_worker_waiting_for_a_failed_one_is_unstuck() {
  std::atomic<bool> released{false};
  std::atomic<int> unsticks{0};
  const auto ends = kv::runWorkers(
      2, nullptr,
      [&](int w, WorkerGroup&) {
        if (w == 0) throw kv::Error("CUDA_ERROR", "rank 0 died");
        while (!released) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // an all-reduce rank 0 never joins
      },
      [&] {
        ++unsticks;
        released = true;
      },
      0.2);
  CHECK(unsticks.load() == 1);
  CHECK(!ends[0].error.empty() && !ends[0].stuck);
  CHECK(ends[1].error.empty() && ends[1].stuck);
  std::printf("ok a worker still waiting for a failed one is unstuck once, and said so\n");
}

void a_worker_is_placed_on_its_node() {
  kv::PlacementApplied one, unknown, none;
  std::thread([&] { one = kv::placeThisThread({0, {0}}); }).join();  // a thread of its own: main keeps its CPUs
  CHECK(one.asked && one.cpusAllowed == 1);
  // A container's seccomp filter may refuse set_mempolicy: then the note names the call.
  CHECK(one.memoryBound ? one.note.empty() : one.note.find("set_mempolicy") != std::string::npos);
  std::thread([&] { unknown = kv::placeThisThread({-1, {0}}); }).join();
  CHECK(unknown.cpusAllowed == 1 && !unknown.memoryBound && unknown.note.find("NUMA node is unknown") != std::string::npos);
  std::thread([&] { none = kv::placeThisThread({}); }).join();
  CHECK(!none.asked && none.cpusAllowed >= 1 && none.note.empty());
  std::printf("ok a worker thread is placed on its node's CPUs (memory %s)\n", one.memoryBound ? "bound" : one.note.c_str());
}

}  // namespace

int main() {
  phases_start_together();
  a_failure_stops_the_others();
  a_cancel_lets_waiting_workers_go();
  ranks_stop_on_the_same_step();
  a_worker_waiting_for_a_failed_one_is_unstuck();
  a_worker_is_placed_on_its_node();
  return checksResult();
}
