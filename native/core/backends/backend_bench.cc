#include "backend_bench.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>

#include "../common/clock.h"
#include "../kv/pattern_word.h"

namespace kv {
namespace {

// A record's data: 8 words derived from its key (a misplaced record fails), the rest
// from one of kBodies bodies, so a payload returned for the wrong key fails past its stamp too.
constexpr int kBodies = 4;
constexpr size_t kKeyWords = 8;

int bodyOf(uint64_t key) { return static_cast<int>(key % kBodies); }

void fillBody(std::vector<uint64_t>& buf, int body) {
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = patternWord(0xB0D1 + body, i);
}

void stampKey(std::vector<uint64_t>& buf, uint64_t key) {
  for (size_t i = 0; i < kKeyWords && i < buf.size(); ++i) buf[i] = patternWord(key, i);
}

long long mismatching(const std::vector<uint64_t>& buf, uint64_t key) {
  long long bad = 0;
  const uint64_t body = 0xB0D1 + bodyOf(key);
  for (size_t i = 0; i < buf.size(); ++i) bad += buf[i] != (i < kKeyWords ? patternWord(key, i) : patternWord(body, i));
  return bad;
}

}  // namespace

void recordData(uint64_t key, uint64_t* out, size_t words) {
  for (size_t i = 0; i < words; ++i) out[i] = patternWord(key, i);
}

namespace {

// Runs `op(t, indices)` on `threads` I/O threads over [0, n): thread t takes the
// indices t, t + threads, ... `pipeline` at a time, until `cancel` is set. Returns the wall time in ms.
template <typename Op>
double onThreads(int threads, int n, int pipeline, const std::atomic<bool>* cancel, Op op) {
  double t0 = nowUs();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([=, &op] {
      std::vector<int> idx;
      for (int i = t; i < n;) {
        if (cancel && cancel->load(std::memory_order_relaxed)) return;
        idx.clear();
        for (; i < n && static_cast<int>(idx.size()) < pipeline; i += threads) idx.push_back(i);
        op(t, idx);
      }
    });
  for (auto& th : pool) th.join();
  return (nowUs() - t0) / 1000;
}

bool cancelled(const BackendBenchPlan& p) { return p.cancel && p.cancel->load(); }

// The pass's store time: its busiest I/O thread's time inside store calls, in ms.
double storeMs(const std::vector<double>& inStoreUs) { return *std::max_element(inStoreUs.begin(), inStoreUs.end()) / 1000; }

}  // namespace

BackendBenchResult runBackendBench(const BackendBenchPlan& p) {
  const int threads = p.store.connections;
  if (threads < 1 || p.pipeline < 1 || p.sizes.empty() || p.sizes.size() != p.ops.size())
    throw Error(codes::kBadInput, "backend bench plan: threads, pipeline, sizes and ops are inconsistent");
  BackendBenchResult out;
  OpenedStore opened = openStore(p.store);
  Store* store = opened.store.get();
  out.note = opened.note;
  out.direct = opened.direct;
  out.store = store->describe();
  struct Cleanup {  // the run's records go whatever happens
    Store* s;
    ~Cleanup() { s->cleanup(); }
  } cleanup{store};
  double need = 0;  // every record, plus one being rewritten per thread
  for (size_t si = 0; si < p.sizes.size(); ++si) need += (static_cast<double>(p.ops[si]) + threads) * (p.sizes[si] + 4096);
  store->checkRoom(need);

  const size_t depth = static_cast<size_t>(p.pipeline);
  uint64_t keyBase = 0;
  for (size_t si = 0; si < p.sizes.size(); ++si) {
    SizeResult r;
    r.bytes = p.sizes[si];
    r.ops = p.ops[si];
    if (r.bytes == 0 || r.bytes % 8) throw Error(codes::kBadInput, "record sizes must be positive multiples of 8 bytes");
    r.putUs.assign(r.ops, 0);
    r.getUs.assign(r.ops, 0);
    std::vector<char> failed(r.ops, 0);
    std::vector<std::string> errors(threads);
    std::vector<long long> missing(threads, 0), corrupt(threads, 0), bad(threads, 0), putFails(threads, 0);
    // Per thread: one buffer per pipelined record (its body refilled only when the key's
    // body differs, so generating data stays out of the timed calls).
    const size_t words = r.bytes / 8;
    std::vector<std::vector<uint64_t>> bufs(static_cast<size_t>(threads) * depth, std::vector<uint64_t>(words));
    std::vector<int> bodyIn(bufs.size(), -1);
    const uint64_t base = keyBase;
    keyBase += r.ops;

    // Time inside the store's calls, per I/O thread: kvbench's own record generation and
    // verification run between the calls, outside it. The pass takes as long as its busiest thread.
    std::vector<double> inStore(threads, 0.0);
    std::vector<std::vector<StoreCall>> traced(p.trace ? threads : 0);  // per thread: no lock in the calls' way
    onThreads(threads, r.ops, p.pipeline, p.cancel, [&](int t, const std::vector<int>& idx) {
      std::vector<PutItem> items;
      for (size_t j = 0; j < idx.size(); ++j) {
        const size_t b = static_cast<size_t>(t) * depth + j;
        const uint64_t key = base + idx[j];
        if (bodyIn[b] != bodyOf(key)) fillBody(bufs[b], bodyIn[b] = bodyOf(key));
        stampKey(bufs[b], key);
        items.push_back({key, bufs[b].data(), r.bytes});
      }
      double t0 = nowUs();
      try {
        store->putMany(items.data(), items.size());
      } catch (const Error& e) {
        for (int i : idx) failed[i] = 1;
        putFails[t] += static_cast<long long>(idx.size());
        if (errors[t].empty()) errors[t] = e.what();
      }
      // Pipelined: every record of the call waited for the call.
      const double us = nowUs() - t0;
      inStore[t] += us;
      if (p.trace) traced[t].push_back({t, true, static_cast<int>(idx.size()), t0, us});
      if (p.progress) p.progress->fetch_add(static_cast<long long>(idx.size()), std::memory_order_relaxed);
      for (int i : idx) r.putUs[i] = us;
    });
    r.putWallMs = storeMs(inStore);
    if (cancelled(p)) break;  // a size half done is not a figure
    if (p.corruptOne) store->corrupt(base + r.ops / 2, r.bytes);
    std::fill(inStore.begin(), inStore.end(), 0.0);
    onThreads(threads, r.ops, p.pipeline, p.cancel, [&](int t, const std::vector<int>& idx) {
      std::vector<GetItem> items;
      std::vector<int> which;
      for (size_t j = 0; j < idx.size(); ++j) {
        if (failed[idx[j]]) continue;
        const size_t b = static_cast<size_t>(t) * depth + items.size();
        std::fill(bufs[b].begin(), bufs[b].end(), 0);
        bodyIn[b] = -1;
        items.push_back({base + idx[j], bufs[b].data(), r.bytes, GetStatus::Missing});
        which.push_back(idx[j]);
      }
      if (items.empty()) return;
      double t0 = nowUs();
      try {
        store->getMany(items.data(), items.size());
      } catch (const Error& e) {
        for (GetItem& it : items) it.status = GetStatus::Missing;
        if (errors[t].empty()) errors[t] = e.what();
      }
      const double us = nowUs() - t0;
      inStore[t] += us;
      if (p.trace) traced[t].push_back({t, false, static_cast<int>(items.size()), t0, us});
      if (p.progress) p.progress->fetch_add(static_cast<long long>(items.size()), std::memory_order_relaxed);
      for (size_t j = 0; j < items.size(); ++j) {
        r.getUs[which[j]] = us;
        if (items[j].status == GetStatus::Missing) ++missing[t];
        else if (items[j].status == GetStatus::Corrupt) ++corrupt[t];
        else if (p.verify) bad[t] += mismatching(bufs[static_cast<size_t>(t) * depth + j], items[j].key);
      }
    });
    r.getWallMs = storeMs(inStore);
    if (cancelled(p)) break;
    std::vector<double> attempted;  // gets of records whose put failed never ran
    for (int i = 0; i < r.ops; ++i)
      if (!failed[i]) attempted.push_back(r.getUs[i]);
    r.getUs.swap(attempted);
    for (const std::vector<StoreCall>& calls : traced) r.calls.insert(r.calls.end(), calls.begin(), calls.end());
    for (int t = 0; t < threads; ++t) {
      r.putFailed += putFails[t];
      r.getMissing += missing[t];
      r.getCorrupt += corrupt[t];
      r.mismatches += bad[t];
      if (r.firstError.empty()) r.firstError = errors[t];
    }
    out.sizes.push_back(std::move(r));
  }
  out.cancelled = cancelled(p);
  return out;
}

}  // namespace kv
