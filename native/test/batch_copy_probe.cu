// Host cost of the copy-engine batch APIs for a paged KV cache's 32 KiB chunks, outside kvbench:
// how many chunks a second one thread can enqueue with cudaMemcpyBatchAsync (flags, chunks per
// call, 1-4 threads on their own streams) and with cudaMemcpy3DBatchAsync moving a block's K and V
// as one two-row copy, and what the link then moves. docs/benchmarks.md ("Third pass") cites it.
// Build: make -C native batch-probe (nvcc here); run the binary on the GPU machine.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#define CHECK(x)                                                                    \
  do {                                                                              \
    cudaError_t e = (x);                                                            \
    if (e != cudaSuccess) {                                                         \
      std::fprintf(stderr, "%s: %s (%s:%d)\n", #x, cudaGetErrorString(e), __FILE__, __LINE__); \
      std::exit(1);                                                                 \
    }                                                                               \
  } while (0)

namespace {

double nowUs() { return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// A vLLM-style cache [layer][K|V][block][chunk] of 4 layers x 8192 blocks, and 64K chunks
// (2 GiB) moved from shuffled blocks into pinned host memory.
constexpr size_t kChunk = 32768, kBlocks = 8192, kLayers = 4, kMoves = 65536;

struct Config {
  const char* name;
  unsigned flags;
  cudaMemcpySrcAccessOrder order;
  size_t perCall;
  int threads;
};

void report(const char* name, double enqueueUs, size_t ops, float gpuMs) {
  std::printf("%-44s enqueue %7.1f ms (%.3f us/op, %5.1f GB/s of copies) | link %.1f GB/s\n", name, enqueueUs / 1000, enqueueUs / ops,
              kMoves * kChunk / (enqueueUs * 1e3), kMoves * kChunk / (gpuMs * 1e6));
}

}  // namespace

int main() {
  char* cache = nullptr;
  char* host = nullptr;
  CHECK(cudaMalloc(&cache, kLayers * 2 * kBlocks * kChunk));
  CHECK(cudaHostAlloc(&host, kMoves * kChunk, cudaHostAllocPortable));
  std::vector<int> ids(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) ids[i] = static_cast<int>(i);
  std::mt19937 rng(1);
  std::shuffle(ids.begin(), ids.end(), rng);
  // Move k: layer (k / 2 / kBlocks) % kLayers, part k % 2, block ids[(k / 2) % kBlocks].
  std::vector<void*> dst(kMoves), src(kMoves);
  std::vector<size_t> sizes(kMoves, kChunk);
  for (size_t k = 0; k < kMoves; ++k) {
    const size_t l = (k / (2 * kBlocks)) % kLayers, part = k % 2, b = ids[(k / 2) % kBlocks];
    src[k] = cache + ((l * 2 + part) * kBlocks + b) * kChunk;
    dst[k] = host + k * kChunk;
  }
  const Config configs[] = {
      {"batch, overlap flag, stream order, 256/call", cudaMemcpyFlagPreferOverlapWithCompute, cudaMemcpySrcAccessOrderStream, 256, 1},
      {"batch, no flag, stream order, 256/call", cudaMemcpyFlagDefault, cudaMemcpySrcAccessOrderStream, 256, 1},
      {"batch, overlap flag, any order, 256/call", cudaMemcpyFlagPreferOverlapWithCompute, cudaMemcpySrcAccessOrderAny, 256, 1},
      {"batch, 2048/call", cudaMemcpyFlagPreferOverlapWithCompute, cudaMemcpySrcAccessOrderStream, 2048, 1},
      {"batch, 32/call", cudaMemcpyFlagPreferOverlapWithCompute, cudaMemcpySrcAccessOrderStream, 32, 1},
      {"batch, 256/call, 2 threads", cudaMemcpyFlagPreferOverlapWithCompute, cudaMemcpySrcAccessOrderStream, 256, 2},
      {"batch, 256/call, 4 threads", cudaMemcpyFlagPreferOverlapWithCompute, cudaMemcpySrcAccessOrderStream, 256, 4},
  };
  for (int rep = 0; rep < 2; ++rep) {  // the first round also warms the driver
    std::printf("round %d\n", rep + 1);
    for (const Config& c : configs) {
      std::vector<cudaStream_t> streams(c.threads);
      for (auto& s : streams) CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
      cudaEvent_t start, end;
      CHECK(cudaEventCreate(&start));
      CHECK(cudaEventCreate(&end));
      CHECK(cudaDeviceSynchronize());
      CHECK(cudaEventRecord(start, streams[0]));
      for (int t = 1; t < c.threads; ++t) CHECK(cudaStreamWaitEvent(streams[t], start, 0));
      auto enqueue = [&](int t) {
        CHECK(cudaSetDevice(0));
        cudaMemcpyAttributes attr{};
        attr.srcAccessOrder = c.order;
        attr.flags = c.flags;
        size_t attrIdx = 0;
        for (size_t k = t * c.perCall; k < kMoves; k += c.perCall * c.threads) {
          const size_t n = std::min(c.perCall, kMoves - k);
          CHECK(cudaMemcpyBatchAsync(dst.data() + k, const_cast<const void* const*>(src.data()) + k, sizes.data() + k, n, &attr, &attrIdx, 1, streams[t]));
        }
      };
      const double t0 = nowUs();
      std::vector<std::thread> others;
      for (int t = 1; t < c.threads; ++t) others.emplace_back(enqueue, t);
      enqueue(0);
      for (auto& th : others) th.join();
      const double enqueueUs = nowUs() - t0;
      std::vector<cudaEvent_t> joins(c.threads);
      for (int t = 1; t < c.threads; ++t) {
        CHECK(cudaEventCreateWithFlags(&joins[t], cudaEventDisableTiming));
        CHECK(cudaEventRecord(joins[t], streams[t]));
        CHECK(cudaStreamWaitEvent(streams[0], joins[t], 0));
      }
      CHECK(cudaEventRecord(end, streams[0]));
      CHECK(cudaEventSynchronize(end));
      float ms = 0;
      CHECK(cudaEventElapsedTime(&ms, start, end));
      report(c.name, enqueueUs, kMoves, ms);
      for (int t = 1; t < c.threads; ++t) CHECK(cudaEventDestroy(joins[t]));
      CHECK(cudaEventDestroy(start));
      CHECK(cudaEventDestroy(end));
      for (auto& s : streams) CHECK(cudaStreamDestroy(s));
    }
  }
  // One 3-D op per (block, layer): K and V as two rows whose pitch is the K-to-V distance.
  const size_t pairs = kMoves / 2;
  std::vector<cudaMemcpy3DBatchOp> ops(pairs);
  for (size_t k = 0; k < pairs; ++k) {
    const size_t l = (k / kBlocks) % kLayers, b = ids[k % kBlocks];
    cudaMemcpy3DBatchOp o{};
    o.src.type = cudaMemcpyOperandTypePointer;
    o.src.op.ptr.ptr = cache + (l * 2 * kBlocks + b) * kChunk;
    o.src.op.ptr.rowLength = kBlocks * kChunk;
    o.dst.type = cudaMemcpyOperandTypePointer;
    o.dst.op.ptr.ptr = host + k * 2 * kChunk;
    o.extent = make_cudaExtent(kChunk, 2, 1);
    o.srcAccessOrder = cudaMemcpySrcAccessOrderStream;
    o.flags = cudaMemcpyFlagPreferOverlapWithCompute;
    ops[k] = o;
  }
  for (size_t perCall : {128, 1024}) {
    cudaStream_t s;
    cudaEvent_t start, end;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    CHECK(cudaEventCreate(&start));
    CHECK(cudaEventCreate(&end));
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaEventRecord(start, s));
    const double t0 = nowUs();
    for (size_t k = 0; k < pairs; k += perCall) CHECK(cudaMemcpy3DBatchAsync(std::min(perCall, pairs - k), ops.data() + k, 0, s));
    const double enqueueUs = nowUs() - t0;
    CHECK(cudaEventRecord(end, s));
    CHECK(cudaEventSynchronize(end));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, start, end));
    char name[64];
    std::snprintf(name, sizeof name, "3-D batch, K+V per op, %zu/call", perCall);
    report(name, enqueueUs, pairs, ms);
    CHECK(cudaEventDestroy(start));
    CHECK(cudaEventDestroy(end));
    CHECK(cudaStreamDestroy(s));
  }
  CHECK(cudaFreeHost(host));
  CHECK(cudaFree(cache));
  return 0;
}
