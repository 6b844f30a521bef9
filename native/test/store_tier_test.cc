// CPU-only tests of the store tier the connector uses with `--backend` (no CUDA, no Node):
// the bounded queue drops what it cannot take, extents stay busy while a request uses them,
// generations follow what landed, failures and corrupt records are reported, pipelined
// calls take what is queued. Built and run by test/store-tier.test.mjs with g++.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "check.h"
#include "../core/backends/host_store.h"
#include "../core/connector/store_tier.h"

namespace {

// A store whose puts wait at a gate (to hold the I/O thread busy) and can be told to fail.
class GatedStore final : public kv::Store {
 public:
  std::string describe() const override { return "gated"; }
  void put(uint64_t key, const void* data, size_t bytes) override {
    std::unique_lock<std::mutex> g(m_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(g, [&] { return open_; });
    if (fail_) throw kv::Error(kv::codes::kStoreIo, "disk full (test)");
    inner_.put(key, data, bytes);
  }
  void putMany(const kv::PutItem* items, size_t n) override {
    {
      std::lock_guard<std::mutex> g(m_);
      calls_.push_back(n);
    }
    kv::Store::putMany(items, n);
  }
  kv::GetStatus get(uint64_t key, void* out, size_t bytes) override { return inner_.get(key, out, bytes); }
  bool contains(uint64_t key) override { return inner_.contains(key); }
  void cleanup() override { inner_.cleanup(); }
  void corrupt(uint64_t key, size_t bytes) override { inner_.corrupt(key, bytes); }

  void setOpen(bool open) {
    std::lock_guard<std::mutex> g(m_);
    open_ = open;
    cv_.notify_all();
  }
  void setFail(bool fail) {
    std::lock_guard<std::mutex> g(m_);
    fail_ = fail;
  }
  void waitEntered(int n) {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] { return entered_ >= n; });
  }
  std::vector<size_t> calls() {
    std::lock_guard<std::mutex> g(m_);
    return calls_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = true, fail_ = false;
  int entered_ = 0;
  std::vector<size_t> calls_;
  kv::HostStore inner_;
};

void bounded_queue_drops_and_generations_follow() {
  GatedStore store;
  kv::StoreIo io(store, 1, 2, 1);
  // Through StoreIo directly: two requests fit (one running, one queued), the third is refused.
  store.setOpen(false);
  std::vector<char> buf(64, 7);
  kv::StoreRequest r{kv::StoreOp::Put, 1, buf.data(), buf.size(), 1};
  CHECK(io.trySubmit(r));
  store.waitEntered(1);
  r.key = 2;
  CHECK(io.trySubmit(r));
  r.key = 3;
  CHECK(!io.trySubmit(r));
  CHECK(io.outstanding() == 2);
  store.setOpen(true);
  io.waitIdle();
  std::vector<kv::StoreDone> done;
  CHECK(io.pollAll(done) == 2);
  CHECK(done.size() == 2 && done[0].ok && done[0].request.key == 1 && done[1].request.key == 2);
  std::printf("ok bounded StoreIo queue refuses what does not fit\n");
}

void tier_drops_skips_and_tracks() {
  kv::StoreTierConfig cfg;
  cfg.spec.backend = "host";
  cfg.ioThreads = 1;
  cfg.queueDepth = 2;
  cfg.batch = 1;
  kv::StoreTier tier(cfg, 8, 64);
  std::vector<std::vector<char>> extents(8, std::vector<char>(64));
  for (size_t s = 0; s < 8; ++s) std::memset(extents[s].data(), static_cast<int>(s), 64);
  // Five puts into a queue of two: what is refused is dropped and its extent is free again.
  for (size_t s = 0; s < 5; ++s) tier.put(s, extents[s].data(), 10 + static_cast<long long>(s));
  CHECK(tier.room() == 0);
  tier.flush(false);
  const long long dropped = tier.counters.putsDropped;
  CHECK(dropped >= 3 && dropped <= 5);
  tier.waitIdle();
  auto none = [](uint64_t, bool) {};
  tier.drain(none, none);
  CHECK(tier.counters.putsDone + dropped == 5);
  int stored = 0;
  for (size_t s = 0; s < 5; ++s) {
    CHECK(!tier.busy(s));
    if (tier.generation(s) == 10 + static_cast<long long>(s)) ++stored;
    else CHECK(tier.generation(s) == -1);
  }
  CHECK(stored == tier.counters.putsDone);
  // Gets come back through the callback with their tag; the bytes are the record's.
  size_t slot = 0;
  while (tier.generation(slot) < 0) ++slot;
  std::vector<char> back(64, 0);
  tier.get(slot, back.data(), 77);
  CHECK(tier.busy(slot));
  tier.flush(true);
  tier.waitIdle();
  uint64_t gotTag = 0;
  bool gotOk = false;
  tier.drain([&](uint64_t tag, bool ok) { gotTag = tag, gotOk = ok; }, none);
  CHECK(gotTag == 77 && gotOk && std::memcmp(back.data(), extents[slot].data(), 64) == 0);
  // A damaged record fails its get, counted, with the reason.
  tier.corrupt(slot);
  tier.get(slot, back.data(), 78);
  tier.flush(true);
  tier.waitIdle();
  tier.drain([&](uint64_t tag, bool ok) { gotTag = tag, gotOk = ok; }, none);
  CHECK(gotTag == 78 && !gotOk && tier.counters.getsFailed == 1);
  CHECK(tier.counters.firstError.find("corrupt") != std::string::npos);
  // Non-blocking lookups answer through the other callback.
  CHECK(tier.lookup(slot, 5));
  tier.waitIdle();
  bool found = false;
  uint64_t lookTag = 0;
  tier.drain(none, [&](uint64_t tag, bool f) { lookTag = tag, found = f; });
  CHECK(lookTag == 5 && found);
  std::printf("ok store tier: drops counted, extents freed, generations, gets, corrupt records, lookups\n");
}

void failing_store_reports_each_request() {
  GatedStore store;
  store.setFail(true);
  kv::StoreIo io(store, 1, 4, 1);
  std::vector<char> buf(64, 1);
  kv::StoreRequest r{kv::StoreOp::Put, 3, buf.data(), buf.size(), 3};
  CHECK(io.trySubmit(r));
  io.waitIdle();
  std::vector<kv::StoreDone> done;
  CHECK(io.pollAll(done) == 1 && !done[0].ok && done[0].error == "disk full (test)");
  std::printf("ok a failing store reports each request with its error\n");
}

void pipelined_calls_take_what_is_queued() {
  GatedStore store;
  kv::StoreIo io(store, 1, 16, 4);
  std::vector<char> buf(64, 2);
  store.setOpen(false);
  std::vector<kv::StoreRequest> rs;
  for (uint64_t k = 0; k < 6; ++k) rs.push_back({kv::StoreOp::Put, k, buf.data(), buf.size(), k});
  CHECK(io.submitSome(rs.data(), 1) == 1);
  store.waitEntered(1);  // the thread holds a one-record call at the gate
  CHECK(io.submitSome(rs.data() + 1, 5) == 5);
  store.setOpen(true);
  io.waitIdle();
  const std::vector<size_t> calls = store.calls();
  CHECK(calls.size() == 3 && calls[0] == 1 && calls[1] == 4 && calls[2] == 1);
  std::printf("ok pipelined calls take up to --pipeline queued records\n");
}

void file_store_without_room_is_refused_and_cleaned() {
  char dir[] = "/tmp/kvbench-tier-XXXXXX";
  if (!mkdtemp(dir)) return;
  kv::StoreTierConfig cfg;
  cfg.spec.backend = std::string("file:") + dir;
  cfg.spec.run = "t";
  bool refused = false;
  try {
    kv::StoreTier tier(cfg, 1u << 20, size_t(1) << 30);  // a PiB
  } catch (const kv::Error& e) {
    refused = e.code == kv::codes::kStoreConfig && std::string(e.what()).find("this run needs") != std::string::npos;
  }
  CHECK(refused);
  CHECK(rmdir(dir) == 0);  // empty: the run directory went with the refusal
  std::printf("ok a store without room for the run is refused before anything is written\n");
}

}  // namespace

int main() {
  bounded_queue_drops_and_generations_follow();
  tier_drops_skips_and_tracks();
  failing_store_reports_each_request();
  pipelined_calls_take_what_is_queued();
  file_store_without_room_is_refused_and_cleaned();
  return checksResult();
}
