// A Redis / Valkey store over RESP: one TCP connection per I/O thread (a small pool),
// pipelined batches (putMany/getMany),
// AUTH and SELECT, binary-safe values carrying a checksummed header, keys namespaced
// as kvbench:<run>:<key> and deleted at the end. The password never appears in errors.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store.h"

namespace kv {

struct RedisTarget {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;
  bool tls = false;      // rediss://: the server's certificate is verified, always
  std::string caFile;    // rediss://...?cacert=PATH; empty: the system's trust store
};

class RedisConnection;

class RedisStore final : public Store {
 public:
  RedisStore(const RedisTarget& target, const std::string& run, int connections);
  ~RedisStore() override;
  std::string describe() const override;
  void put(uint64_t key, const void* data, size_t bytes) override;
  GetStatus get(uint64_t key, void* out, size_t bytes) override;
  // Every command is written before the first reply is read (RESP pipelining).
  void putMany(const PutItem* items, size_t n) override;
  void getMany(GetItem* items, size_t n) override;
  bool contains(uint64_t key) override;
  void cleanup() override;
  void corrupt(uint64_t key, size_t bytes) override;

 private:
  class Lease;
  std::string keyName(uint64_t key) const;
  RedisConnection* acquire();
  void release(RedisConnection* c);
  void remember(const PutItem* items, size_t n);
  RedisTarget target_;
  std::string prefix_;
  std::vector<std::unique_ptr<RedisConnection>> pool_;
  std::vector<RedisConnection*> free_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::mutex keysMutex_;
  std::vector<uint64_t> written_;
};

}  // namespace kv
