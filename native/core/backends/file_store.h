// Local file / NVMe store: one file per record under DIR/kvbench-<run>/, a checksummed
// header, written to a temporary name and renamed into place so a torn write never
// looks like a record. O_DIRECT where the filesystem allows it.
#pragma once
#include <atomic>
#include <string>

#include "store.h"

namespace kv {

enum class FsyncPolicy { Never, Always };

class FileStore final : public Store {
 public:
  FileStore(const std::string& dir, const std::string& run, FsyncPolicy fsync, bool tryDirect);
  ~FileStore() override;
  std::string describe() const override;
  void put(uint64_t key, const void* data, size_t bytes) override;
  GetStatus get(uint64_t key, void* out, size_t bytes) override;
  bool contains(uint64_t key) override;
  void checkRoom(double bytes) override;
  void cleanup() override;
  void corrupt(uint64_t key, size_t bytes) override;
  bool direct() const { return direct_; }
  const std::string& note() const { return note_; }

 private:
  std::string path(uint64_t key) const;
  std::string root_, dir_;
  FsyncPolicy fsync_;
  bool direct_ = false;
  std::string note_;
  std::atomic<uint64_t> tmpCounter_{0};
};

}  // namespace kv
