#include "file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace kv {
namespace {

constexpr uint64_t kMagic = 0x31565242564b4b56ull;  // "VKKVBRV1"
constexpr size_t kAlign = 4096;                       // O_DIRECT offset, length and buffer alignment

struct Header {
  uint64_t magic;
  uint64_t key;
  uint64_t payloadBytes;
  uint64_t payloadChecksum;
  uint64_t headerChecksum;  // of the four fields above
};

size_t roundUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string osError(const std::string& what, int err) { return what + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")"; }

struct AlignedBuffer {
  void* p = nullptr;
  explicit AlignedBuffer(size_t n) {
    if (posix_memalign(&p, kAlign, n) != 0) throw std::bad_alloc();
  }
  ~AlignedBuffer() { std::free(p); }
};

// One aligned I/O buffer per thread, reused: a fresh multi-MiB buffer per record
// costs a page fault per 4 KiB, more than the I/O on a fast disk.
char* threadBuffer(size_t n) {
  thread_local std::unique_ptr<AlignedBuffer> buf;
  thread_local size_t size = 0;
  if (size < n) {
    buf = std::make_unique<AlignedBuffer>(n);
    size = n;
  }
  return static_cast<char*>(buf->p);
}

struct Fd {
  int fd;
  ~Fd() { if (fd >= 0) ::close(fd); }
};

bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

ssize_t readAll(int fd, char* p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

FileStore::FileStore(const std::string& dir, const std::string& run, FsyncPolicy fsync, bool tryDirect)
    : root_(dir), fsync_(fsync) {
  const std::string flag = "--backend file:" + dir;
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    int err = errno;
    throw Error(codes::kStoreConfig, flag + (err == ENOENT ? ": directory does not exist" : osError(": cannot stat it", err)));
  }
  if (!S_ISDIR(st.st_mode)) throw Error(codes::kStoreConfig, flag + ": not a directory");
  if (::access(dir.c_str(), W_OK) != 0) throw Error(codes::kStoreConfig, osError(flag + ": not writable", errno));
  dir_ = dir + "/kvbench-" + run;
  if (::mkdir(dir_.c_str(), 0700) != 0) throw Error(codes::kStoreConfig, osError(flag + ": cannot create " + dir_, errno));
  if (tryDirect) {
    // Probe O_DIRECT with a real aligned write: some filesystems (tmpfs) refuse it.
    std::string probe = dir_ + "/.direct-probe";
    int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_DIRECT, 0600);
    if (fd >= 0) {
      AlignedBuffer buf(kAlign);
      std::memset(buf.p, 0, kAlign);
      direct_ = ::write(fd, buf.p, kAlign) == static_cast<ssize_t>(kAlign);
      ::close(fd);
    }
    if (!direct_) note_ = std::string("O_DIRECT not supported here (") + std::strerror(errno) + "): buffered I/O, page cache included";
    ::unlink(probe.c_str());
  } else {
    note_ = "buffered I/O (O_DIRECT off)";
  }
}

FileStore::~FileStore() = default;

std::string FileStore::describe() const {
  return "file " + dir_ + (direct_ ? " (O_DIRECT" : " (buffered") + (fsync_ == FsyncPolicy::Always ? ", fsync each record)" : ")");
}

std::string FileStore::path(uint64_t key) const { return dir_ + "/" + std::to_string(key) + ".kv"; }

void FileStore::put(uint64_t key, const void* data, size_t bytes) {
  const size_t total = roundUp(sizeof(Header) + bytes);
  char* buf = threadBuffer(total);
  auto* h = reinterpret_cast<Header*>(buf);
  h->magic = kMagic;
  h->key = key;
  h->payloadBytes = bytes;
  h->payloadChecksum = recordChecksum(data, bytes, key);
  h->headerChecksum = recordChecksum(h, 4 * sizeof(uint64_t), kMagic);
  std::memcpy(buf + sizeof(Header), data, bytes);
  std::memset(buf + sizeof(Header) + bytes, 0, total - sizeof(Header) - bytes);
  const std::string tmp = dir_ + "/.tmp-" + std::to_string(tmpCounter_.fetch_add(1));
  Fd f{::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | (direct_ ? O_DIRECT : 0), 0600)};
  if (f.fd < 0) throw Error(codes::kStoreIo, osError("open " + tmp, errno));
  if (!writeAll(f.fd, buf, total)) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(codes::kStoreIo, osError("write " + tmp, err));
  }
  if (fsync_ == FsyncPolicy::Always && ::fsync(f.fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(codes::kStoreIo, osError("fsync " + tmp, err));
  }
  // Only a complete record gets its real name.
  if (::rename(tmp.c_str(), path(key).c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(codes::kStoreIo, osError("rename " + tmp, err));
  }
}

GetStatus FileStore::get(uint64_t key, void* out, size_t bytes) {
  Fd f{::open(path(key).c_str(), O_RDONLY | (direct_ ? O_DIRECT : 0))};
  if (f.fd < 0) {
    if (errno == ENOENT) return GetStatus::Missing;
    throw Error(codes::kStoreIo, osError("open " + path(key), errno));
  }
  const size_t total = roundUp(sizeof(Header) + bytes);
  char* buf = threadBuffer(total);
  ssize_t got = readAll(f.fd, buf, total);
  if (got < 0) throw Error(codes::kStoreIo, osError("read " + path(key), errno));
  if (static_cast<size_t>(got) < sizeof(Header) + bytes) return GetStatus::Corrupt;  // torn
  const auto* h = reinterpret_cast<const Header*>(buf);
  if (h->magic != kMagic || h->headerChecksum != recordChecksum(h, 4 * sizeof(uint64_t), kMagic) || h->key != key ||
      h->payloadBytes != bytes)
    return GetStatus::Corrupt;
  const char* payload = buf + sizeof(Header);
  if (recordChecksum(payload, bytes, key) != h->payloadChecksum) return GetStatus::Corrupt;
  std::memcpy(out, payload, bytes);
  return GetStatus::Ok;
}

void FileStore::corrupt(uint64_t key, size_t) {
  int fd = ::open(path(key).c_str(), O_WRONLY);
  if (fd < 0) return;
  const char flip = 0x5a;
  if (::pwrite(fd, &flip, 1, sizeof(Header) + 17) != 1) { /* the get then finds the record intact: the test says so */ }
  ::close(fd);
}

void FileStore::cleanup() {
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      ::unlink((dir_ + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir_.c_str());
}

void FileStore::checkRoom(double bytes) {
  struct statvfs v{};
  if (::statvfs(dir_.c_str(), &v) != 0) return;  // cannot tell: the writes will say
  const double free = static_cast<double>(v.f_bavail) * v.f_frsize;
  auto mib = [](double b) { return std::to_string(static_cast<long long>(b / (1 << 20))) + " MiB"; };
  if (free < bytes) throw Error(codes::kStoreConfig, "--backend file:" + root_ + ": " + mib(free) + " free, this run needs " + mib(bytes));
}

bool FileStore::contains(uint64_t key) { return ::access(path(key).c_str(), F_OK) == 0; }

}  // namespace kv
