// Where a copy engine's H2D writes go, outside kvbench: the time of a kernel's read of a ring
// (32 MiB by default, --ring-mib N) after a flush (1 GiB of other reads), after a read, after a
// kernel's write, after an H2D copy, after an H2D copy plus 4-256 MiB of other reads, and after a
// copy then discard.global.L2; then the same with a persisting access-policy window on the stream.
// A read as slow as after the flush means the copy's lines are not in L2. --once runs one flush,
// copy and read for ncu. docs/benchmarks.md ("Why a staged load costs the forward more") cites it.
// Build: make -C native l2-probe (nvcc here); run the binary on the GPU machine.
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); exit(1); } } while (0)

__global__ void readKernel(const int4* p, size_t n, int* out) {
  int acc = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    int4 v = p[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x7f3a1b2c) *out = acc;  // keeps the loads
}
__global__ void writeKernel(int4* p, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    p[i] = make_int4((int)i, 1, 2, 3);
}
__global__ void discardKernel(char* p, size_t bytes) {
  for (size_t off = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) * 128; off < bytes; off += (size_t)gridDim.x * blockDim.x * 128)
    asm volatile("discard.global.L2 [%0], 128;" ::"l"(p + off) : "memory");
}

int main(int argc, char** argv) {
  size_t ringMiB = 32; bool once = false;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--ring-mib") && i + 1 < argc) ringMiB = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--once")) once = true;
  }
  cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0));
  int maxPersist = 0; CK(cudaDeviceGetAttribute(&maxPersist, cudaDevAttrMaxPersistingL2CacheSize, 0));
  const size_t ring = ringMiB << 20, junk = 1024ull << 20;
  char *dRing, *dJunk, *hRing; int* dOut;
  CK(cudaMalloc(&dRing, ring)); CK(cudaMalloc(&dJunk, junk)); CK(cudaMalloc(&dOut, 4));
  CK(cudaMallocHost(&hRing, ring)); memset(hRing, 7, ring);
  CK(cudaMemset(dJunk, 1, junk)); CK(cudaMemset(dRing, 2, ring));
  cudaStream_t s; CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  const int grid = prop.multiProcessorCount * 4, threads = 512;
  auto readBytes = [&](const char* p, size_t b) { readKernel<<<grid, threads, 0, s>>>((const int4*)p, b / 16, dOut); CK(cudaGetLastError()); };
  auto flush = [&]() { readBytes(dJunk, junk); };
  auto h2d = [&]() { CK(cudaMemcpyAsync(dRing, hRing, ring, cudaMemcpyHostToDevice, s)); };
  printf("%s L2 %d MiB, max persisting %d MiB, ring %zu MiB\n", prop.name, prop.l2CacheSize >> 20, maxPersist >> 20, ringMiB);
  if (once) { flush(); h2d(); readBytes(dRing, ring); CK(cudaStreamSynchronize(s)); return 0; }
  cudaEvent_t a, b; CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
  auto timed = [&](const char* name, auto&& before) {
    std::vector<float> t;
    for (int r = 0; r < 31; ++r) {
      before();
      CK(cudaEventRecord(a, s)); readBytes(dRing, ring); CK(cudaEventRecord(b, s));
      CK(cudaEventSynchronize(b)); float ms; CK(cudaEventElapsedTime(&ms, a, b)); t.push_back(ms * 1000);
    }
    std::sort(t.begin(), t.end());
    printf("  %-28s median %7.2f us  p10 %7.2f  p90 %7.2f  -> %6.0f GB/s\n", name, t[15], t[3], t[27], ring / (t[15] * 1e3));
  };
  auto pass = [&](const char* mode) {
    printf("%s\n", mode);
    timed("flush", [&] { flush(); });
    timed("read (warm)", [&] { flush(); readBytes(dRing, ring); });
    timed("kernel write", [&] { flush(); writeKernel<<<grid, threads, 0, s>>>((int4*)dRing, ring / 16); });
    timed("h2d", [&] { flush(); h2d(); });
    for (size_t mib : {4, 16, 32, 64, 128, 256}) {
      char name[64]; snprintf(name, sizeof name, "h2d + %zu MiB other reads", mib);
      timed(name, [&] { flush(); h2d(); readBytes(dJunk, mib << 20); });
    }
    timed("h2d + discard", [&] { flush(); h2d(); discardKernel<<<grid, threads, 0, s>>>(dRing, ring); });
    timed("kernel write + discard", [&] { flush(); writeKernel<<<grid, threads, 0, s>>>((int4*)dRing, ring / 16); discardKernel<<<grid, threads, 0, s>>>(dRing, ring); });
  };
  pass("normal");
  size_t setAside = std::min<size_t>(ring, maxPersist);
  CK(cudaDeviceSetLimit(cudaLimitPersistingL2CacheSize, setAside));
  cudaStreamAttrValue attr{};
  attr.accessPolicyWindow.base_ptr = dRing;
  attr.accessPolicyWindow.num_bytes = ring;
  attr.accessPolicyWindow.hitRatio = std::min(1.0f, (float)setAside / ring);
  attr.accessPolicyWindow.hitProp = cudaAccessPropertyPersisting;
  attr.accessPolicyWindow.missProp = cudaAccessPropertyStreaming;
  CK(cudaStreamSetAttribute(s, cudaStreamAttributeAccessPolicyWindow, &attr));
  char mode[96]; snprintf(mode, sizeof mode, "persisting window on the stream (set-aside %zu MiB, hitRatio %.2f)", setAside >> 20, attr.accessPolicyWindow.hitRatio);
  pass(mode);
  CK(cudaCtxResetPersistingL2Cache());
  return 0;
}
