#include "backend_bench.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "host_store.h"
#include "plugin_store.h"

namespace kv {
namespace {

uint64_t word(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;  // splitmix64, as the GPU pattern
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A record's data: 8 words derived from its key (a misplaced record fails), the rest
// from one of kBodies pre-filled bodies, so generating data stays out of the timed loop.
constexpr int kBodies = 4;
constexpr size_t kKeyWords = 8;

int bodyOf(uint64_t key) { return static_cast<int>(key % kBodies); }

void fillBody(std::vector<uint64_t>& buf, int body) {
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = word(0xB0D1 + body, i);
}

void stampKey(std::vector<uint64_t>& buf, uint64_t key) {
  for (size_t i = 0; i < kKeyWords && i < buf.size(); ++i) buf[i] = word(key, i);
}

long long mismatching(const std::vector<uint64_t>& buf, uint64_t key) {
  long long bad = 0;
  const uint64_t body = 0xB0D1 + bodyOf(key);
  for (size_t i = 0; i < buf.size(); ++i) bad += buf[i] != (i < kKeyWords ? word(key, i) : word(body, i));
  return bad;
}

double nowUs() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void recordData(uint64_t key, uint64_t* out, size_t words) {
  for (size_t i = 0; i < words; ++i) out[i] = word(key, i);
}

std::unique_ptr<Store> openStore(const BackendBenchPlan& p, std::string* note, bool* direct) {
  if (p.backend == "host") return std::make_unique<HostStore>();
  if (p.backend.rfind("file:", 0) == 0) {
    auto fs = std::make_unique<FileStore>(p.backend.substr(5), p.run, p.fsync, p.direct);
    *note = fs->note();
    *direct = fs->direct();
    return fs;
  }
  if (p.backend == "redis") return std::make_unique<RedisStore>(p.redis, p.run, p.threads);
  if (p.backend.rfind("plugin:", 0) == 0) return std::make_unique<PluginStore>(p.backend.substr(7), p.run);
  throw Error(codes::kStoreConfig, "--backend " + p.backend + ": unknown backend (host, file:DIR, redis://, plugin:PATH.so)");
}

namespace {

// Runs `op(i)` for i in [0, n) on `threads` I/O threads; returns the wall time in ms.
template <typename Op>
double onThreads(int threads, int n, Op op) {
  double t0 = nowUs();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([=, &op] {
      for (int i = t; i < n; i += threads) op(t, i);
    });
  for (auto& th : pool) th.join();
  return (nowUs() - t0) / 1000;
}

}  // namespace

BackendBenchResult runBackendBench(const BackendBenchPlan& p) {
  if (p.threads < 1 || p.sizes.empty() || p.sizes.size() != p.ops.size())
    throw Error(codes::kBadInput, "backend bench plan: threads, sizes and ops are inconsistent");
  BackendBenchResult out;
  std::unique_ptr<Store> store = openStore(p, &out.note, &out.direct);
  out.store = store->describe();
  struct Cleanup {  // the run's records go whatever happens
    Store* s;
    ~Cleanup() { s->cleanup(); }
  } cleanup{store.get()};

  uint64_t keyBase = 0;
  for (size_t si = 0; si < p.sizes.size(); ++si) {
    SizeResult r;
    r.bytes = p.sizes[si];
    r.ops = p.ops[si];
    if (r.bytes == 0 || r.bytes % 8) throw Error(codes::kBadInput, "record sizes must be positive multiples of 8 bytes");
    r.putUs.assign(r.ops, 0);
    r.getUs.assign(r.ops, 0);
    std::vector<char> failed(r.ops, 0);
    std::vector<std::string> errors(p.threads);
    std::vector<long long> missing(p.threads, 0), corrupt(p.threads, 0), bad(p.threads, 0), putFails(p.threads, 0);
    // Per thread: kBodies bodies to write from, one buffer to read into.
    std::vector<std::vector<uint64_t>> bodies(static_cast<size_t>(p.threads) * kBodies, std::vector<uint64_t>(r.bytes / 8));
    for (size_t b = 0; b < bodies.size(); ++b) fillBody(bodies[b], static_cast<int>(b % kBodies));
    std::vector<std::vector<uint64_t>> bufs(p.threads, std::vector<uint64_t>(r.bytes / 8));
    const uint64_t base = keyBase;
    keyBase += r.ops;

    r.putWallMs = onThreads(p.threads, r.ops, [&](int t, int i) {
      std::vector<uint64_t>& src = bodies[static_cast<size_t>(t) * kBodies + bodyOf(base + i)];
      stampKey(src, base + i);
      double t0 = nowUs();
      try {
        store->put(base + i, src.data(), r.bytes);
      } catch (const Error& e) {
        failed[i] = 1;
        ++putFails[t];
        if (errors[t].empty()) errors[t] = e.what();
      }
      r.putUs[i] = nowUs() - t0;
    });
    if (p.corruptOne) store->corrupt(base + r.ops / 2, r.bytes);
    r.getWallMs = onThreads(p.threads, r.ops, [&](int t, int i) {
      if (failed[i]) return;
      std::fill(bufs[t].begin(), bufs[t].end(), 0);
      double t0 = nowUs();
      GetStatus s = GetStatus::Missing;
      try {
        s = store->get(base + i, bufs[t].data(), r.bytes);
      } catch (const Error& e) {
        if (errors[t].empty()) errors[t] = e.what();
      }
      r.getUs[i] = nowUs() - t0;
      if (s == GetStatus::Missing) ++missing[t];
      else if (s == GetStatus::Corrupt) ++corrupt[t];
      else if (p.verify) bad[t] += mismatching(bufs[t], base + i);
    });
    std::vector<double> attempted;  // gets of records whose put failed never ran
    for (int i = 0; i < r.ops; ++i)
      if (!failed[i]) attempted.push_back(r.getUs[i]);
    r.getUs.swap(attempted);
    for (int t = 0; t < p.threads; ++t) {
      r.putFailed += putFails[t];
      r.getMissing += missing[t];
      r.getCorrupt += corrupt[t];
      r.mismatches += bad[t];
      if (r.firstError.empty()) r.firstError = errors[t];
    }
    out.sizes.push_back(std::move(r));
  }
  return out;
}

}  // namespace kv
