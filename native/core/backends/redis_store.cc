#include "redis_store.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tls.h"

namespace kv {

namespace {
constexpr uint64_t kMagic = 0x3153444552564b56ull;  // "VKVREDS1"
}  // namespace

// One blocking RESP connection. Any I/O failure marks it broken: later calls fail fast.
class RedisConnection {
 public:
  RedisConnection(const RedisTarget& t) : where_(t.host + ":" + std::to_string(t.port)) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &res);
    if (rc != 0) throw Error(codes::kStoreConfig, "redis " + where_ + ": cannot resolve: " + gai_strerror(rc));
    int err = 0;
    for (addrinfo* a = res; a; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ < 0) { err = errno; continue; }
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
      err = errno;
      ::close(fd_);
      fd_ = -1;
    }
    freeaddrinfo(res);
    if (fd_ < 0) throw Error(codes::kStoreConfig, "redis " + where_ + ": cannot connect: " + std::strerror(err));
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{5, 0};  // a dead server fails the op instead of hanging the run
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (t.tls) {
      try {
        tls_ = std::make_unique<TlsSession>(fd_, t.host, t.caFile, "redis " + where_);
      } catch (...) {
        ::close(fd_);
        fd_ = -1;
        throw;
      }
    }
    // The handshake (AUTH, SELECT, PING) answers now: a server that does not speak this
    // protocol is a setup error (exit 2) found at open, not failed records later.
    try {
      if (!t.password.empty()) {
        std::vector<std::string> auth = {"AUTH"};
        if (!t.user.empty()) auth.push_back(t.user);
        auth.push_back(t.password);
        std::string reply = simple(auth);
        if (reply[0] == '-') throw Error(codes::kStoreConfig, "redis " + where_ + ": authentication failed (" + firstWord(reply.substr(1)) + ")");
      }
      if (t.db != 0) {
        std::string reply = simple({"SELECT", std::to_string(t.db)});
        if (reply[0] == '-') throw Error(codes::kStoreConfig, "redis " + where_ + ": SELECT " + std::to_string(t.db) + " failed: " + reply.substr(1));
      }
      std::string pong = simple({"PING"});
      if (pong[0] == '-') throw Error(codes::kStoreConfig, "redis " + where_ + ": PING refused: " + pong.substr(1));
    } catch (const Error& e) {
      tls_.reset();
      ::close(fd_);
      fd_ = -1;
      if (e.code != codes::kStoreIo) throw;
      throw Error(codes::kStoreConfig, std::string(e.what()) + (t.tls ? "" : " (if the server speaks TLS, use rediss://)"));
    }
  }
  ~RedisConnection() {
    tls_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string tlsVersion() const { return tls_ ? tls_->version() : std::string(); }

  // Sends one command (binary-safe arguments; the last may be `prefix` + `value`, sent
  // from where they lie, not copied), returns a status/error/integer line.
  std::string simple(const std::vector<std::string>& args, const void* value = nullptr, size_t valueBytes = 0,
                     const void* prefix = nullptr, size_t prefixBytes = 0) {
    send(args, value, valueBytes, prefix, prefixBytes);
    return readSimple();
  }
  // GET: fills `out` (up to cap bytes); returns the value length, or -1 when the key is missing.
  long long bulk(const std::vector<std::string>& args, void* out, size_t cap) {
    send(args, nullptr, 0, nullptr, 0);
    return readBulk(out, cap);
  }
  // Pipelining: send() many commands, then read their replies in order.
  void send(const std::vector<std::string>& args, const void* value, size_t valueBytes, const void* prefix, size_t prefixBytes) {
    if (broken_) fail("connection lost earlier");
    std::string head = "*" + std::to_string(args.size() + (value ? 1 : 0)) + "\r\n";
    for (const std::string& a : args) head += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    if (value) head += "$" + std::to_string(prefixBytes + valueBytes) + "\r\n";
    if (prefix) head.append(static_cast<const char*>(prefix), prefixBytes);
    writeAll(head.data(), head.size());
    if (value) {
      writeAll(static_cast<const char*>(value), valueBytes);
      writeAll("\r\n", 2);
    }
  }
  std::string readSimple() {
    std::string line = readLine();
    if (line.empty() || (line[0] != '+' && line[0] != '-' && line[0] != ':')) fail("unexpected reply");
    return line;
  }
  long long readBulk(void* out, size_t cap) {
    std::string line = readLine();
    if (line.empty() || line[0] != '$') fail(line.size() > 1 && line[0] == '-' ? line.substr(1) : "unexpected reply");
    long long n = std::stoll(line.substr(1));
    if (n < 0) return -1;
    std::vector<char> drop;
    char* dst = static_cast<char*>(out);
    if (static_cast<size_t>(n) > cap) {
      drop.resize(static_cast<size_t>(n));
      dst = drop.data();
    }
    readExact(dst, static_cast<size_t>(n));
    char crlf[2];
    readExact(crlf, 2);
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    broken_ = true;
    throw Error(codes::kStoreIo, "redis " + where_ + ": " + what);
  }
  static std::string firstWord(const std::string& s) { return s.substr(0, s.find(' ')); }
  void writeAll(const char* p, size_t n) {
    while (n > 0) {
      if (tls_) {
        const long w = tls_->write(p, n);
        if (w <= 0) fail("send (TLS): " + (w < 0 ? tls_->error() : std::string("closed")));
        p += w;
        n -= static_cast<size_t>(w);
        continue;
      }
      ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail(std::string("send: ") + (w < 0 ? std::strerror(errno) : "closed"));
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  void fill() {
    if (tls_) {
      const long r = tls_->read(buf_, sizeof buf_);
      if (r < 0) fail("recv (TLS): " + tls_->error());
      if (r == 0) fail("connection closed by the server");
      begin_ = 0;
      end_ = static_cast<size_t>(r);
      return;
    }
    ssize_t r;
    do r = ::recv(fd_, buf_, sizeof buf_, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) fail(std::string("recv: ") + std::strerror(errno));
    if (r == 0) fail("connection closed by the server");
    begin_ = 0;
    end_ = static_cast<size_t>(r);
  }
  std::string readLine() {
    std::string line;
    for (;;) {
      if (begin_ == end_) fill();
      char c = buf_[begin_++];
      if (c == '\n' && !line.empty() && line.back() == '\r') {
        line.pop_back();
        return line;
      }
      line += c;
    }
  }
  void readExact(char* dst, size_t n) {
    while (n > 0) {
      if (begin_ == end_) fill();
      size_t k = std::min(n, end_ - begin_);
      std::memcpy(dst, buf_ + begin_, k);
      begin_ += k;
      dst += k;
      n -= k;
    }
  }
  std::string where_;
  int fd_ = -1;
  std::unique_ptr<TlsSession> tls_;
  bool broken_ = false;
  char buf_[1 << 16];
  size_t begin_ = 0, end_ = 0;
};

RedisStore::RedisStore(const RedisTarget& target, const std::string& run, int connections)
    : target_(target), prefix_("kvbench:" + run + ":") {
  for (int i = 0; i < std::max(1, connections); ++i) {
    pool_.push_back(std::make_unique<RedisConnection>(target_));
    free_.push_back(pool_.back().get());
  }
}

RedisStore::~RedisStore() = default;

std::string RedisStore::describe() const {
  const std::string tls = target_.tls ? ", " + pool_.front()->tlsVersion() : std::string();
  return "redis " + target_.host + ":" + std::to_string(target_.port) + "/" + std::to_string(target_.db) + " (" +
         std::to_string(pool_.size()) + " connections" + tls + ", keys " + prefix_ + "*)";
}

std::string RedisStore::keyName(uint64_t key) const { return prefix_ + std::to_string(key); }

// A connection borrowed from the pool for one command, returned on every path.
class RedisStore::Lease {
 public:
  explicit Lease(RedisStore* s) : s_(s), c_(s->acquire()) {}
  ~Lease() { s_->release(c_); }
  RedisConnection* operator->() const { return c_; }

 private:
  RedisStore* s_;
  RedisConnection* c_;
};

RedisConnection* RedisStore::acquire() {
  std::unique_lock<std::mutex> g(mutex_);
  available_.wait(g, [&] { return !free_.empty(); });
  RedisConnection* c = free_.back();
  free_.pop_back();
  return c;
}

void RedisStore::release(RedisConnection* c) {
  {
    std::lock_guard<std::mutex> g(mutex_);
    free_.push_back(c);
  }
  available_.notify_one();
}

void RedisStore::put(uint64_t key, const void* data, size_t bytes) {
  const ValueHeader h = valueHeader(kMagic, key, data, bytes);
  Lease c(this);
  std::string reply = c->simple({"SET", keyName(key)}, data, bytes, &h, sizeof h);
  if (reply[0] == '-') throw Error(codes::kStoreIo, "redis SET failed: " + reply.substr(1));
  const PutItem item{key, data, bytes};
  remember(&item, 1);
}

void RedisStore::remember(const PutItem* items, size_t n) {
  std::lock_guard<std::mutex> g(keysMutex_);
  for (size_t i = 0; i < n; ++i) written_.push_back(items[i].key);
}

void RedisStore::putMany(const PutItem* items, size_t n) {
  std::vector<ValueHeader> heads(n);
  for (size_t i = 0; i < n; ++i) heads[i] = valueHeader(kMagic, items[i].key, items[i].data, items[i].bytes);
  Lease c(this);
  // Keys are remembered before the replies: a SET the server applied but whose reply was lost still gets cleaned up.
  remember(items, n);
  for (size_t i = 0; i < n; ++i) c->send({"SET", keyName(items[i].key)}, items[i].data, items[i].bytes, &heads[i], sizeof(ValueHeader));
  std::string error;
  for (size_t i = 0; i < n; ++i) {
    std::string reply = c->readSimple();
    if (reply[0] == '-' && error.empty()) error = reply.substr(1);
  }
  if (!error.empty()) throw Error(codes::kStoreIo, "redis SET failed: " + error);
}

void RedisStore::getMany(GetItem* items, size_t n) {
  thread_local std::vector<char> value;
  Lease c(this);
  for (size_t i = 0; i < n; ++i) c->send({"GET", keyName(items[i].key)}, nullptr, 0, nullptr, 0);
  for (size_t i = 0; i < n; ++i) {
    value.resize(sizeof(ValueHeader) + items[i].bytes);
    long long got = c->readBulk(value.data(), value.size());
    items[i].status = got < 0 ? GetStatus::Missing
                              : openValue(kMagic, items[i].key, value.data(), static_cast<size_t>(got), items[i].bytes, items[i].out);
  }
}

GetStatus RedisStore::get(uint64_t key, void* out, size_t bytes) {
  thread_local std::vector<char> value;  // reused: a fresh multi-MiB buffer per get costs page faults
  value.resize(sizeof(ValueHeader) + bytes);
  Lease c(this);
  long long n = c->bulk({"GET", keyName(key)}, value.data(), value.size());
  if (n < 0) return GetStatus::Missing;
  return openValue(kMagic, key, value.data(), static_cast<size_t>(n), bytes, out);
}

void RedisStore::corrupt(uint64_t key, size_t) {
  Lease c(this);
  const char flip = 0x5a;
  c->simple({"SETRANGE", keyName(key), std::to_string(sizeof(ValueHeader) + 17)}, &flip, 1);
}

void RedisStore::cleanup() {
  std::vector<uint64_t> keys;
  {
    std::lock_guard<std::mutex> g(keysMutex_);
    keys.swap(written_);
  }
  if (keys.empty()) return;
  // Best effort: with the server gone there is nothing left to delete.
  try {
    Lease c(this);
    for (size_t at = 0; at < keys.size(); at += 256) {
      std::vector<std::string> del = {"UNLINK"};
      for (size_t i = at; i < std::min(keys.size(), at + 256); ++i) del.push_back(keyName(keys[i]));
      c->simple(del);
    }
  } catch (const Error&) {
  }
}

bool RedisStore::contains(uint64_t key) {
  Lease c(this);
  std::string reply = c->simple({"EXISTS", keyName(key)});
  if (reply[0] != ':') throw Error(codes::kStoreIo, "redis EXISTS failed: " + reply.substr(1));
  return reply != ":0";
}

}  // namespace kv
