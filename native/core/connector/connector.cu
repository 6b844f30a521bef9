#include "connector.h"

#include "../cuda/cuda_check.h"
#include "../cuda/device.h"

namespace kv {

AsyncConnector::AsyncConnector(int device, const CopyConfig& cfg, TaskExpander expand, bool dropEventWait, size_t depth, CopyTrace* trace)
    : device_(device), cfg_(cfg), expand_(std::move(expand)), dropEventWait_(dropEventWait), trace_(trace), batches_(depth), done_(depth) {
  thread_ = std::thread([this] { loop(); });
  while (!ready_.load()) std::this_thread::yield();
  rethrow();
}

AsyncConnector::~AsyncConnector() { join(); }

void AsyncConnector::join() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void AsyncConnector::rethrow() {
  std::lock_guard<std::mutex> g(errorMutex_);
  if (!error_.empty()) throw Error(errorCode_, "connector thread: " + error_);
}

void AsyncConnector::drain() {
  // Once every batch is taken, expanded_ is final.
  while (batchesTaken_.load(std::memory_order_acquire) < pushed_ || completed_.load() < expanded_.load()) {
    rethrow();
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  rethrow();
}

void AsyncConnector::loop() {
  struct InFlight {
    ConnectorJob job;
    cudaEvent_t done;
    int alsoJobs = 0;        // jobs before it that recorded no event of their own (deferred)
    double alsoBytes = 0;    // and their bytes
  };
  try {
    useDevice(device_);  // a new thread starts on device 0, whatever the caller uses
    Stream main(Priority::Low), aux(Priority::Low);
    Copier copier(cfg_, main.get(), aux.get());
    std::vector<Event> events;
    for (int i = 0; i < 512; ++i) events.emplace_back(cudaEventDisableTiming);
    size_t nextEvent = 0;
    std::deque<InFlight> inflight;
    std::deque<ConnectorJob> waiting;  // taken from the main loop's batches, not yet on the GPU
    double queuedBytes = 0;            // on the GPU and not complete
    int deferredJobs = 0;              // enqueued, completing with the next job that records an event
    double deferredBytes = 0;
    ready_.store(true);
    const double born = nowUs();
    double busy = 0;
    for (;;) {
      bool idle = true;
      const double turn = nowUs();
      // Every published batch is expanded at once, so the main loop never waits for its memory.
      while (auto b = batches_.pop()) {
        const size_t before = waiting.size();
        for (int i = 0; i < b->count; ++i) expand_(b->tasks[i], waiting);
        expanded_.fetch_add(static_cast<long long>(waiting.size() - before));
        batchesTaken_.fetch_add(1, std::memory_order_release);
        idle = false;
      }
      // Jobs go to the GPU only while it holds less than kQueuedBytes: a deep queue fills the
      // driver's command buffer, and every CUDA call of this thread then blocks until the GPU
      // catches up (seen as single steps whose hooks waited tens of microseconds for it).
      while (!waiting.empty() && inflight.size() < events.size() && (inflight.empty() || queuedBytes < kQueuedBytes)) {
        const ConnectorJob& job = waiting.front();
        idle = false;
        if (job.after && !dropEventWait_) KV_CUDA(cudaStreamWaitEvent(main.get(), job.after, 0));
        // A job nobody waits for (a load request's jobs but its last) whose successor is already
        // here records no event: its blocks stay in the copier's held piece and share the next
        // job's ring slots instead of ending a piece at every job (deepseek-v3's 9.2 MiB load
        // jobs were an 8 MiB piece and a 1.2 MiB one). It completes with the next job that
        // records one: jobs complete in order.
        const bool traceable = trace_ && trace_->wants(job.step);
        const bool defer = !job.reports && !traceable && waiting.size() > 1 && !waiting[1].after;
        TracedCopy* traced = traceable ? trace_->next() : nullptr;
        if (traced) {
          traced->enqueueUs = nowUs();
          KV_CUDA(cudaEventRecord(traced->start, main.get()));  // where the stream may start it: after its event
        }
        for (int i = 0; i < job.parts; ++i) {
          const CopyPart& c = job.part[i];
          copier.enqueue(c.layer, c.blockIds, c.count, c.host);
        }
        queuedBytes += job.bytes;
        if (defer) {
          ++deferredJobs, deferredBytes += job.bytes;
        } else {
          cudaEvent_t ev = events[nextEvent++ % events.size()].get();
          copier.recordDone(ev, traced ? traced->end : nullptr);
          if (traced) {
            traced->enqueuedUs = nowUs();
            traced->job = job.id, traced->step = job.step, traced->layer = job.layer, traced->bytes = job.bytes;
          }
          inflight.push_back({job, ev, deferredJobs, deferredBytes});
          deferredJobs = 0, deferredBytes = 0;
        }
        waiting.pop_front();
      }
      while (!inflight.empty()) {
        cudaError_t q = cudaEventQuery(inflight.front().done);
        if (q == cudaErrorNotReady) break;
        if (q != cudaSuccess) throwCuda(q, "cudaEventQuery(connector job)");
        const InFlight& f = inflight.front();
        if (f.job.reports) {
          const ConnectorDone d{f.job.id, nowUs()};
          while (!done_.push(d)) std::this_thread::yield();  // main loop drains every step
        }
        queuedBytes -= f.job.bytes + f.alsoBytes;
        completed_.fetch_add(1 + f.alsoJobs);
        inflight.pop_front();
        idle = false;
      }
      if (!idle) busy += nowUs() - turn;
      if (stop_.load() && inflight.empty() && waiting.empty() && batches_.empty()) break;
      if (idle) std::this_thread::sleep_for(std::chrono::microseconds(5));
    }
    busyUs_ = busy, aliveUs_ = nowUs() - born;
    KV_CUDA(cudaStreamSynchronize(main.get()));
    KV_CUDA(cudaStreamSynchronize(aux.get()));
  } catch (const Error& e) {
    std::lock_guard<std::mutex> g(errorMutex_);
    error_ = e.what();
    errorCode_ = e.code;
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> g(errorMutex_);
    error_ = e.what();
    errorCode_ = "INTERNAL";
  }
  ready_.store(true);
}

}  // namespace kv
