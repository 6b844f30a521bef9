#include "store_io.h"

#include "../common/clock.h"

namespace kv {

StoreIo::StoreIo(Store& store, int threads, size_t depth, int batch)
    : store_(store), depth_(depth < 1 ? 1 : depth), batch_(batch < 1 ? 1 : static_cast<size_t>(batch)) {
  for (int t = 0; t < (threads < 1 ? 1 : threads); ++t) threads_.emplace_back([this, t] { serve(t); });
}

StoreIo::~StoreIo() {
  {
    std::lock_guard<std::mutex> g(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool StoreIo::trySubmit(const StoreRequest& r) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    if (queue_.size() + running_ >= depth_) return false;
    queue_.push_back({r, nowUs()});
  }
  work_.notify_one();
  return true;
}

size_t StoreIo::submitSome(const StoreRequest* rs, size_t n) {
  size_t taken = 0;
  {
    std::lock_guard<std::mutex> g(mutex_);
    const double t = nowUs();
    for (; taken < n && queue_.size() + running_ < depth_; ++taken) queue_.push_back({rs[taken], t});
  }
  if (taken == 1) work_.notify_one();
  else if (taken > 1) work_.notify_all();
  return taken;
}

size_t StoreIo::pollAll(std::vector<StoreDone>& out) {
  std::lock_guard<std::mutex> g(mutex_);
  const size_t n = done_.size();
  for (StoreDone& d : done_) out.push_back(std::move(d));
  done_.clear();
  return n;
}

size_t StoreIo::outstanding() const {
  std::lock_guard<std::mutex> g(mutex_);
  return queue_.size() + running_;
}

void StoreIo::waitIdle() {
  std::unique_lock<std::mutex> g(mutex_);
  idle_.wait(g, [&] { return queue_.empty() && running_ == 0; });
}

void StoreIo::serve(int thread) {
  std::vector<Queued> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> g(mutex_);
      work_.wait(g, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been taken
      // One kind per batch, in queue order.
      const StoreOp op = queue_.front().r.op;
      while (!queue_.empty() && batch.size() < batch_ && queue_.front().r.op == op) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      running_ += batch.size();
    }
    run(batch, thread);
    batch.clear();
  }
}

// Runs one batch and reports each request; a store error fails every request of the batch.
void StoreIo::run(std::vector<Queued>& batch, int thread) {
  std::vector<StoreDone> out(batch.size());
  const double start = nowUs();
  for (size_t i = 0; i < batch.size(); ++i) {
    out[i].request = batch[i].r;
    out[i].queuedUs = batch[i].queuedUs;
    out[i].startUs = start;
    out[i].thread = thread;
  }
  try {
    switch (batch.front().r.op) {
      case StoreOp::Put: {
        std::vector<PutItem> items;
        for (const Queued& q : batch) items.push_back({q.r.key, q.r.data, q.r.bytes});
        store_.putMany(items.data(), items.size());
        break;
      }
      case StoreOp::Get: {
        std::vector<GetItem> items;
        for (const Queued& q : batch) items.push_back({q.r.key, q.r.data, q.r.bytes, GetStatus::Missing});
        store_.getMany(items.data(), items.size());
        for (size_t i = 0; i < items.size(); ++i) out[i].status = items[i].status;
        break;
      }
      case StoreOp::Contains:
        for (size_t i = 0; i < batch.size(); ++i) out[i].found = store_.contains(batch[i].r.key);
        break;
    }
    for (StoreDone& d : out) d.ok = true;
  } catch (const std::exception& e) {
    for (StoreDone& d : out) d.error = e.what();
  }
  const double t = nowUs();
  {
    std::lock_guard<std::mutex> g(mutex_);
    for (StoreDone& d : out) {
      d.doneUs = t;
      done_.push_back(std::move(d));
    }
    running_ -= batch.size();
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace kv
