#include "worker_group.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "../common/error.h"

namespace kv {
namespace {
// How often a waiting worker looks at the run's cancel flag (Ctrl-C sets it without a notify).
constexpr auto kPoll = std::chrono::milliseconds(20);
}  // namespace

WorkerGroup::WorkerGroup(int workers, const std::atomic<bool>* cancel) : workers_(workers), cancel_(cancel), begun_(workers, 0) {}

bool WorkerGroup::together() {
  std::unique_lock<std::mutex> lk(m_);
  if (stopping()) return false;
  const long long gen = generation_;
  if (++arrived_ == workers_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return true;
  }
  while (generation_ == gen) {
    if (stopping()) {
      --arrived_;
      cv_.notify_all();
      return false;
    }
    cv_.wait_for(lk, kPoll);
  }
  return true;
}

bool WorkerGroup::mayStep(int worker) {
  std::lock_guard<std::mutex> lk(m_);
  if (stopAt_ < 0 && stopping()) stopAt_ = *std::max_element(begun_.begin(), begun_.end());
  if (stopAt_ >= 0 && begun_[worker] >= stopAt_) return false;
  ++begun_[worker];
  return true;
}

void WorkerGroup::stop() {
  std::lock_guard<std::mutex> lk(m_);
  stopping_.store(true);
  cv_.notify_all();
}

std::vector<WorkerEnd> runWorkers(int workers, const std::atomic<bool>* cancel, const std::function<void(int, WorkerGroup&)>& work,
                                  const std::function<void()>& unstick, double stuckAfterS) {
  WorkerGroup group(workers, cancel);
  std::vector<WorkerEnd> ends(workers);
  std::mutex m;
  std::condition_variable cv;
  int running = workers;
  std::vector<bool> done(workers, false);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      std::string code, error;
      try {
        work(w, group);
      } catch (const Error& e) {
        code = e.code, error = e.what();
      } catch (const std::exception& e) {
        code = "INTERNAL", error = e.what();
      }
      if (!error.empty()) group.stop();
      std::lock_guard<std::mutex> lk(m);
      ends[w].code = code, ends[w].error = error;
      done[w] = true;
      --running;
      cv.notify_all();
    });
  {
    std::unique_lock<std::mutex> lk(m);
    auto failed = [&] { return std::any_of(ends.begin(), ends.end(), [](const WorkerEnd& e) { return !e.error.empty(); }); };
    cv.wait(lk, [&] { return running == 0 || failed(); });
    if (running > 0 && !cv.wait_for(lk, std::chrono::duration<double>(stuckAfterS), [&] { return running == 0; })) {
      for (int w = 0; w < workers; ++w) ends[w].stuck = !done[w];
      lk.unlock();
      if (unstick) unstick();
    }
  }
  for (std::thread& t : threads) t.join();
  return ends;
}

}  // namespace kv
