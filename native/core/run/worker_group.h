// --gpus: one worker thread a GPU, each running the same phases of one run, held together at
// each phase's start so that every GPU measures and transfers at once (what a whole server can
// do, and what it costs each rank). Plain C++ (no CUDA), so its CPU test runs without a GPU.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace kv {

class WorkerGroup {
 public:
  // `cancel`: the run's own stop request (Ctrl-C), polled while a worker waits for the others.
  WorkerGroup(int workers, const std::atomic<bool>* cancel);

  int size() const { return workers_; }
  // Waits until every worker has arrived. False when the run is stopping (cancelled, or a worker
  // failed): the caller skips what is left, and every worker still waiting is let go.
  bool together();
  // Ranks that all-reduce with each other must run the same forward steps: true while `worker`
  // may begin its next step. Once the run is stopping, each worker runs on to the furthest step
  // any worker had begun, and no further (a rank that stopped sooner would leave the others
  // waiting in an all-reduce it never joins).
  bool mayStep(int worker);
  // A worker failed: the others stop at their next phase or step.
  void stop();
  bool stopping() const { return stopping_.load() || (cancel_ && cancel_->load()); }
  const std::atomic<bool>* stopFlag() const { return &stopping_; }

 private:
  const int workers_;
  const std::atomic<bool>* cancel_;
  std::atomic<bool> stopping_{false};
  std::mutex m_;
  std::condition_variable cv_;
  int arrived_ = 0;
  long long generation_ = 0;
  std::vector<long long> begun_;  // forward steps each worker has begun
  long long stopAt_ = -1;         // -1: not stopping yet
};

struct WorkerEnd {
  std::string code, error;  // empty: the worker ended on its own (its run complete or cancelled)
  bool stuck = false;  // still running `stuckAfterS` after the first failure: `unstick` was called
};

// Runs work(worker, group) on a thread each and waits for them all. A worker that throws fails the
// group (the others stop at their next phase or step). One that is still running `stuckAfterS`
// after the first failure is waiting for the failed one (an all-reduce it will never join):
// `unstick` is called once (it aborts the communicators), and the wait goes on.
std::vector<WorkerEnd> runWorkers(int workers, const std::atomic<bool>* cancel, const std::function<void(int, WorkerGroup&)>& work,
                                  const std::function<void()>& unstick, double stuckAfterS);

}  // namespace kv
