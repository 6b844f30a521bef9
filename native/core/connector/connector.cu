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
        TracedCopy* traced = trace_ && trace_->wants(job.step) ? trace_->next() : nullptr;
        if (traced) {
          traced->enqueueUs = nowUs();
          KV_CUDA(cudaEventRecord(traced->start, main.get()));  // where the stream may start it: after its event
        }
        for (int i = 0; i < job.parts; ++i) {
          const CopyPart& c = job.part[i];
          copier.enqueue(c.layer, c.blockIds, c.count, c.host);
        }
        cudaEvent_t ev = events[nextEvent++ % events.size()].get();
        copier.recordDone(ev, traced ? traced->end : nullptr);
        if (traced) {
          traced->enqueuedUs = nowUs();
          traced->job = job.id, traced->step = job.step, traced->layer = job.layer, traced->bytes = job.bytes;
        }
        queuedBytes += job.bytes;
        inflight.push_back({job, ev});
        waiting.pop_front();
      }
      while (!inflight.empty()) {
        cudaError_t q = cudaEventQuery(inflight.front().done);
        if (q == cudaErrorNotReady) break;
        if (q != cudaSuccess) throwCuda(q, "cudaEventQuery(connector job)");
        const ConnectorJob& j = inflight.front().job;
        if (j.reports) {
          const ConnectorDone d{j.id, nowUs()};
          while (!done_.push(d)) std::this_thread::yield();  // main loop drains every step
        }
        queuedBytes -= j.bytes;
        inflight.pop_front();
        completed_.fetch_add(1);
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
