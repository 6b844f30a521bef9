#include "stream_probes.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "../cuda/cuda_check.h"
#include "../cuda/device.h"
#include "../cuda/device_info.h"
#include "../common/format.h"

namespace kv {
namespace {

// Spins for about `cycles` clock cycles, then writes `value`: a slow producer.
__global__ void spinThenWrite(int* out, long long cycles, int value) {
  long long start = clock64();
  while (clock64() - start < cycles) {
  }
  *out = value;
}

__global__ void copyOne(const int* in, int* out) { *out = *in; }

long long cyclesFor(int device, double ms) {
  int khz = 0;
  KV_CUDA(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device));
  return static_cast<long long>(khz * ms);
}

// A thread started by the process begins on device 0, whatever its parent chose.
ProbeResult freshThreadDevice(int device, int count) {
  const int parent = count > 1 ? (device != 0 ? device : count - 1) : 0;
  useDevice(parent);
  int child = -1;
  cudaError_t err = cudaSuccess;
  std::thread t([&] { err = cudaGetDevice(&child); });
  t.join();
  if (err != cudaSuccess) return {"fresh-thread-device", "error", std::string("cudaGetDevice in a new thread: ") + cudaGetErrorName(err)};
  useDevice(device);
  char buf[256];
  std::snprintf(buf, sizeof buf, "main thread on device %d; a new thread reports device %d", parent, child);
  if (count < 2) return {"fresh-thread-device", "skip", std::string(buf) + "; with one GPU this cannot be told apart from inheriting the parent's device"};
  if (child != parent) return {"fresh-thread-device", "hazard", std::string(buf) + ": every connector thread must call cudaSetDevice itself"};
  return {"fresh-thread-device", "pass", buf};
}

// Work on the legacy default stream waits for work on ordinary (blocking) streams.
ProbeResult defaultStreamMode(int device) {
  DeviceBuffer buf = allocDevice(2 * sizeof(int));
  cudaStream_t blocking = nullptr;
  KV_CUDA(cudaStreamCreateWithFlags(&blocking, cudaStreamDefault));
  Event done(cudaEventDisableTiming);
  const double spinMs = 100;
  spinThenWrite<<<1, 1, 0, blocking>>>(buf.get<int>(), cyclesFor(device, spinMs), 1);
  KV_CUDA_LAUNCHED("spinThenWrite");
  auto t0 = std::chrono::steady_clock::now();
  copyOne<<<1, 1, 0, 0>>>(buf.get<int>() + 1, buf.get<int>() + 1);  // legacy default stream
  KV_CUDA_LAUNCHED("copyOne");
  done.record(0);
  done.sync();
  double waited = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  KV_CUDA(cudaStreamSynchronize(blocking));
  KV_CUDA(cudaStreamDestroy(blocking));
  if (waited > spinMs * 0.5)
    return {"default-stream-mode", "hazard",
            fmt("a 1-thread kernel on the legacy default stream finished after %.1f ms, behind a %.0f ms spin on another stream: it serializes", waited, spinMs)};
  return {"default-stream-mode", "pass", fmt("a kernel on the default stream finished after %.1f ms, not behind a %.0f ms spin elsewhere", waited, spinMs)};
}

// A stream made on one device, used from a thread whose current device is another:
// an event of device 1 recorded on a device-0 stream (what a collective on the
// leaked stream does with its own handles). No memory is touched, so nothing faults.
ProbeResult crossDeviceStream(int count) {
  if (count < 2) return {"cross-device-stream", "skip", "needs 2 GPUs; this host has 1"};
  useDevice(0);
  Stream s0;
  std::string evidence, outcome = "hazard";
  std::thread t([&] {
    cudaSetDevice(1);
    cudaEvent_t ev = nullptr;
    cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
    cudaError_t e = cudaEventRecord(ev, s0.get());
    cudaGetLastError();  // not sticky; leave the thread clean
    evidence = std::string("recording a device-1 event on a device-0 stream from a device-1 thread: ") + cudaGetErrorName(e) +
               " (" + std::to_string(static_cast<int>(e)) + ")";
    if (e == cudaSuccess) evidence += ": accepted silently, the work is ordered on the other device's stream";
    cudaEventDestroy(ev);
  });
  t.join();
  useDevice(0);
  return {"cross-device-stream", outcome, evidence};
}

// The harness can see a race: a consumer on another stream reads before a slow producer wrote.
ProbeResult raceCanary(int device) {
  DeviceBuffer buf = allocDevice(2 * sizeof(int));
  Stream producer, consumer;
  Event written(cudaEventDisableTiming);
  int seen[2] = {0, 0};
  for (int withEvent = 0; withEvent < 2; ++withEvent) {
    KV_CUDA(cudaMemset(buf.get(), 0, 2 * sizeof(int)));
    KV_CUDA(cudaDeviceSynchronize());
    spinThenWrite<<<1, 1, 0, producer.get()>>>(buf.get<int>(), cyclesFor(device, 20), 42);
    KV_CUDA_LAUNCHED("spinThenWrite");
    written.record(producer.get());
    if (withEvent) KV_CUDA(cudaStreamWaitEvent(consumer.get(), written.get(), 0));
    copyOne<<<1, 1, 0, consumer.get()>>>(buf.get<int>(), buf.get<int>() + 1);
    KV_CUDA_LAUNCHED("copyOne");
    KV_CUDA(cudaDeviceSynchronize());
    KV_CUDA(cudaMemcpy(&seen[withEvent], buf.get<int>() + 1, sizeof(int), cudaMemcpyDeviceToHost));
  }
  char ev[200];
  std::snprintf(ev, sizeof ev, "consumer read %d without an event (producer writes 42 after 20 ms), %d with one", seen[0], seen[1]);
  if (seen[0] != 42 && seen[1] == 42) return {"race-canary", "pass", std::string(ev) + ": the harness sees races"};
  return {"race-canary", "error", std::string(ev) + ": the harness could not show the race"};
}

}  // namespace

std::vector<ProbeResult> runStreamProbes(int device) {
  requireDevice(device);
  int count = 0;
  KV_CUDA(cudaGetDeviceCount(&count));
  useDevice(device);
  std::vector<ProbeResult> out;
  // One probe's failure is its own ERROR, not the others'.
  auto guarded = [&](const char* id, auto fn) {
    try {
      out.push_back(fn());
    } catch (const Error& e) {
      out.push_back({id, "error", e.what()});
    }
    useDevice(device);
  };
  guarded("fresh-thread-device", [&] { return freshThreadDevice(device, count); });
  guarded("default-stream-mode", [&] { return defaultStreamMode(device); });
  guarded("race-canary", [&] { return raceCanary(device); });
  guarded("cross-device-stream", [&] { return crossDeviceStream(count); });
  return out;
}

}  // namespace kv
