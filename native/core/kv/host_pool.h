// The embedded default backend: a pinned (and mapped) host-memory pool split into
// equal extents, one per (job, layer), with an index from request key to extent.
// The interface is what later backends (file, network store, plugin) implement.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "../cuda/device.h"
#include "flat_index.h"

namespace kv {

struct Extent {
  char* host = nullptr;  // pinned, device-mapped
  size_t bytes = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual size_t capacityBytes() const = 0;
  // Where the save of (job, layer) lands; the copy path writes straight into it.
  virtual Extent extentFor(uint64_t job, int layer) = 0;
  // Marks (key) complete and findable; only whole saves are ever visible to lookup.
  virtual void commit(uint64_t key, uint64_t job) = 0;
  // The scheduler's get_num_new_matched_tokens analogue: which job holds `key`.
  virtual std::optional<uint64_t> lookup(uint64_t key) const = 0;
};

class HostPoolBackend final : public Backend {
 public:
  HostPoolBackend(size_t jobs, int layers, size_t extentBytes);
  std::string name() const override { return "host"; }
  size_t capacityBytes() const override { return pool_.bytes(); }
  Extent extentFor(uint64_t job, int layer) override;
  void commit(uint64_t key, uint64_t job) override { index_.put(key, job); }
  std::optional<uint64_t> lookup(uint64_t key) const override;
  char* base() const { return pool_.get<char>(); }
  // The pool's layout, one extent per (job, layer) slot; a store keys its records by slot.
  size_t slots() const { return jobs_ * layers_; }
  // Laid out layer by layer: the extents of consecutive jobs at one layer are adjacent, so a save
  // task (several jobs of one layer) is one run of host bytes the staged copier moves as one piece.
  size_t slotOf(uint64_t job, int layer) const { return static_cast<size_t>(layer) * jobs_ + job % jobs_; }
  int jobOfSlot(size_t slot) const { return static_cast<int>(slot % jobs_); }
  int layerOfSlot(size_t slot) const { return static_cast<int>(slot / jobs_); }
  size_t extentBytes() const { return extentBytes_; }
  char* extentAt(size_t slot) const { return base() + slot * extentBytes_; }

 private:
  size_t jobs_;
  int layers_;
  size_t extentBytes_;
  PinnedBuffer pool_;
  FlatIndex index_;
};

}  // namespace kv
