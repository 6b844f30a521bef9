#include "store_tier.h"

#include <thread>

namespace kv {

StoreTier::StoreTier(const StoreTierConfig& cfg, size_t slots, size_t recordBytes)
    : recordBytes_(recordBytes), busy_(slots, 0), gen_(slots, -1), pendingGen_(slots, -1) {
  if (cfg.ioThreads < 1 || cfg.queueDepth < 1 || cfg.batch < 1)
    throw Error(codes::kBadInput, "store I/O threads, queue depth and pipeline must be positive");
  OpenedStore o = openStore(cfg.spec);
  store_ = std::move(o.store);
  note_ = o.note;
  direct_ = o.direct;
  describe_ = store_->describe();
  // Every slot's record, plus one record being rewritten per I/O thread.
  try {
    store_->checkRoom(static_cast<double>(slots + cfg.ioThreads) * (recordBytes + 4096));
  } catch (...) {
    store_->cleanup();  // the store's run directory or namespace goes too
    throw;
  }
  io_ = std::make_unique<StoreIo>(*store_, cfg.ioThreads, cfg.queueDepth, cfg.batch);
  outbox_.resize(slots);  // touched now: no page fault when a timed hook fills it
  outbox_.clear();
  finished_.resize(cfg.queueDepth);
  finished_.clear();
}

StoreTier::~StoreTier() {
  io_.reset();  // finishes what is queued; nothing refers to the pool after this
  try {
    store_->cleanup();
  } catch (...) {
  }
}

void StoreTier::resetCounters(size_t requests) {
  counters = StoreCounters{};
  for (std::vector<double>* v : {&counters.putMs, &counters.getMs}) {
    v->resize(requests);
    v->clear();
  }
}

void StoreTier::fail(const std::string& error) {
  if (counters.firstError.empty()) counters.firstError = error;
}

void StoreTier::enqueue(StoreOp op, size_t slot, char* extent, uint64_t tag) {
  StoreRequest r;
  r.op = op;
  r.key = slot;
  r.data = extent;
  r.bytes = recordBytes_;
  r.tag = tag;
  outbox_.push_back(r);
  busy_[slot] = 1;
}

void StoreTier::put(size_t slot, char* extent, long long gen) {
  enqueue(StoreOp::Put, slot, extent, slot);
  pendingGen_[slot] = gen;
}

void StoreTier::get(size_t slot, char* extent, uint64_t tag) { enqueue(StoreOp::Get, slot, extent, tag); }

void StoreTier::flush(bool wait) {
  size_t at = io_->submitSome(outbox_.data(), outbox_.size());
  while (wait && at < outbox_.size()) {
    std::this_thread::yield();
    at += io_->submitSome(outbox_.data() + at, outbox_.size() - at);
  }
  for (size_t i = at; i < outbox_.size(); ++i) {
    if (outbox_[i].op != StoreOp::Put)
      throw Error("INTERNAL", "store queue refused a get its caller had room for");
    ++counters.putsDropped;
    busy_[outbox_[i].key] = 0;  // the extent keeps its data; the store keeps its older record
  }
  outbox_.clear();
}

bool StoreTier::lookup(size_t slot, uint64_t tag) {
  StoreRequest r;
  r.op = StoreOp::Contains;
  r.key = slot;
  r.tag = tag;
  return io_->trySubmit(r);
}

bool StoreTier::containsNow(size_t slot) { return store_->contains(slot); }

GetStatus StoreTier::readBack(size_t slot, void* out) { return store_->get(slot, out, recordBytes_); }

void StoreTier::drain(const std::function<void(uint64_t, bool)>& onGet, const std::function<void(uint64_t, bool)>& onLookup) {
  finished_.clear();
  io_->pollAll(finished_);
  for (const StoreDone& d : finished_) {
    if (traced_) traced_->push_back(d);
    const size_t slot = d.request.key;
    const double ms = (d.doneUs - d.queuedUs) / 1000;
    switch (d.request.op) {
      case StoreOp::Put:
        busy_[slot] = 0;
        if (d.ok) {
          ++counters.putsDone;
          counters.bytesPut += static_cast<double>(d.request.bytes);
          counters.putMs.push_back(ms);
          gen_[slot] = pendingGen_[slot];
        } else {
          ++counters.putsFailed;
          gen_[slot] = -2;  // the store may hold the old record, the new one, or nothing
          fail(d.error);
        }
        break;
      case StoreOp::Get: {
        busy_[slot] = 0;
        const bool whole = d.ok && d.status == GetStatus::Ok;
        if (whole) {
          ++counters.getsDone;
          counters.bytesGot += static_cast<double>(d.request.bytes);
          counters.getMs.push_back(ms);
        } else {
          ++counters.getsFailed;
          fail(d.ok ? std::string("store record ") + std::to_string(slot) + (d.status == GetStatus::Missing ? " missing" : " corrupt")
                    : d.error);
        }
        onGet(d.request.tag, whole);
        break;
      }
      case StoreOp::Contains:
        if (!d.ok) {
          ++counters.lookupsFailed;
          fail(d.error);
        }
        onLookup(d.request.tag, d.ok && d.found);
        break;
    }
  }
}

}  // namespace kv
