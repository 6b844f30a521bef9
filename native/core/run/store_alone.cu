#include "phases.h"

#include <cstring>
#include <vector>

#include "../kv/pattern.cuh"

namespace kv {

// The store alone: every pool extent (holding generation `gen`) put through the I/O
// threads, the pool poisoned, every record read back into it and checked.
StoreAloneResult storeAlone(Rig& rig, uint64_t gen) {
  StoreTier& st = *rig.store;
  StoreAloneResult r;
  r.ran = true;
  st.counters = StoreCounters{};
  auto ignore = [](uint64_t, bool) {};
  double t0 = nowUs();
  for (size_t slot = 0; slot < rig.slots(); ++slot) st.put(slot, rig.extent(slot), static_cast<long long>(gen));
  st.flush(true);
  st.waitIdle();
  r.putMs = (nowUs() - t0) / 1000;
  st.drain(ignore, ignore);
  std::memset(rig.pool->base(), 0xA5, rig.slots() * rig.extentBytes());  // only bytes read back can pass
  t0 = nowUs();
  for (size_t slot = 0; slot < rig.slots(); ++slot)
    if (st.generation(slot) == static_cast<long long>(gen)) st.get(slot, rig.extent(slot), slot);
  st.flush(true);
  st.waitIdle();
  r.getMs = (nowUs() - t0) / 1000;
  st.drain(ignore, ignore);
  r.records = static_cast<long long>(rig.slots());
  r.bytes = static_cast<double>(st.counters.putsDone) * rig.extentBytes();
  r.putFailed = st.counters.putsFailed;
  r.getFailed = st.counters.getsFailed;
  r.firstError = st.counters.firstError;
  if (rig.p.verify) {
    std::vector<ChunkRef> refs;
    for (size_t slot = 0; slot < rig.slots(); ++slot)
      if (st.generation(slot) == static_cast<long long>(gen)) rig.hostRefs(refs, rig.pool->jobOfSlot(slot), rig.pool->layerOfSlot(slot), gen);
    r.mismatches = checkChunksHost(refs.data(), static_cast<int>(refs.size()), rig.g.chunkBytes);
    r.chunksChecked = static_cast<long long>(refs.size());
  }
  return r;
}

// After a save beside the forward: every record the store is said to hold, read back on this
// thread and checked against its generation. A store that fails stops the check (said).
void verifyStoreRecords(Rig& rig, DesignStore& cs) {
  std::vector<uint64_t> scratch(rig.extentBytes() / 8 + 1);
  char* buf = reinterpret_cast<char*>(scratch.data());
  for (size_t slot = 0; slot < rig.slots(); ++slot) {
    const long long gen = rig.store->generation(slot);
    if (gen < 0) continue;
    GetStatus s = GetStatus::Missing;
    try {
      s = rig.store->readBack(slot, buf);
    } catch (const Error& e) {
      cs.verifyError = e.what();
      return;
    }
    ++cs.recordsChecked;
    if (s != GetStatus::Ok) {
      ++cs.recordsUnreadable;
      continue;
    }
    std::vector<ChunkRef> refs;
    rig.hostRefs(refs, rig.pool->jobOfSlot(slot), rig.pool->layerOfSlot(slot), static_cast<uint64_t>(gen), buf);
    cs.mismatches += checkChunksHost(refs.data(), static_cast<int>(refs.size()), rig.g.chunkBytes);
  }
}

}  // namespace kv
