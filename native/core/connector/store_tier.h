// The store behind the pinned pool, as the connector sees it (`save/load --backend`):
// each (job slot, layer) extent of the pool is also one store record, so the pinned
// buffers the copy path fills are the ones the store's I/O threads write from and read
// into. This tracks which extent a store request still uses, which generation each
// record holds, and what backpressure cost: records dropped because the store's queue
// was full, saves skipped because the extent's previous record was still being written.
// Plain C++: no CUDA, and the main loop never waits here unless the design blocks.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../backends/open_store.h"
#include "../backends/store_io.h"

namespace kv {

struct StoreTierConfig {
  StoreSpec spec;
  int ioThreads = 4;
  size_t queueDepth = 32;  // requests queued or running; more are refused
  int batch = 4;           // requests per pipelined store call
};

struct StoreCounters {
  long long putsDone = 0, putsFailed = 0, putsDropped = 0, savesSkippedBusy = 0;
  long long getsDone = 0, getsFailed = 0, lookupsFailed = 0;
  double bytesPut = 0, bytesGot = 0;
  std::vector<double> putMs, getMs;  // queued -> done, per request
  std::string firstError;
};

class StoreTier {
 public:
  // Opens the store (throws STORE_CONFIG naming it) and checks it can hold `slots` records.
  StoreTier(const StoreTierConfig& cfg, size_t slots, size_t recordBytes);
  ~StoreTier();  // stops the I/O threads, then removes the run's records
  StoreTier(const StoreTier&) = delete;
  StoreTier& operator=(const StoreTier&) = delete;

  std::string describe() const { return describe_; }
  const std::string& note() const { return note_; }
  bool direct() const { return direct_; }

  // A put or get of this extent is queued or running: the copy path must not touch it.
  bool busy(size_t slot) const { return busy_[slot] != 0; }
  // Record `slot` := `extent` (generation `gen` once it lands), and extent := record `slot`
  // (`tag` comes back in onGet). Both only fill the outbox; flush() hands it over.
  void put(size_t slot, char* extent, long long gen);
  void get(size_t slot, char* extent, uint64_t tag);
  // Hands the outbox to the I/O threads with one lock and one wake-up. wait=false: puts the
  // full queue refuses are dropped (counted; the extent is free again); gets must have had
  // room (see room()). wait=true: blocks until every request is queued.
  void flush(bool wait);
  // Non-blocking lookup of record `slot`; the answer comes back through onLookup.
  bool lookup(size_t slot, uint64_t tag);
  // The synchronous lookup (a blocking scheduler's), on the caller's thread.
  bool containsNow(size_t slot);
  size_t room() const {
    const size_t used = io_->outstanding() + outbox_.size();
    return used >= io_->depth() ? 0 : io_->depth() - used;
  }
  size_t outstanding() const { return io_->outstanding(); }

  // Handles every finished request: puts update generations and counters; gets and
  // lookups are handed to the callbacks (ok: the record came back whole / was found).
  void drain(const std::function<void(uint64_t tag, bool ok)>& onGet, const std::function<void(uint64_t tag, bool found)>& onLookup);
  void waitIdle() { io_->waitIdle(); }
  // --trace: every request drain() handles is also appended to `into` (null: none).
  void traceInto(std::vector<StoreDone>* into) { traced_ = into; }

  // -1: never stored; -2: unknown (a put of it failed); else the generation it holds.
  long long generation(size_t slot) const { return gen_[slot]; }
  // Reads record `slot` back on the caller's thread (verification after the run).
  GetStatus readBack(size_t slot, void* out);
  // Test hook: damages record `slot` in the store, so reading it must report Corrupt.
  void corrupt(size_t slot) { store_->corrupt(slot, recordBytes_); }

  StoreCounters counters;
  // Zeroes the counters, with room for `requests` latency samples already touched (no
  // page fault inside a timed poll).
  void resetCounters(size_t requests);

 private:
  std::vector<StoreDone>* traced_ = nullptr;
  void fail(const std::string& error);
  void enqueue(StoreOp op, size_t slot, char* extent, uint64_t tag);
  std::unique_ptr<Store> store_;
  std::unique_ptr<StoreIo> io_;
  std::string describe_, note_;
  bool direct_ = false;
  size_t recordBytes_;
  std::vector<char> busy_;
  std::vector<long long> gen_, pendingGen_;
  std::vector<StoreRequest> outbox_;
  std::vector<StoreDone> finished_;  // drain()'s buffer, reused
};

}  // namespace kv
