#include "tls.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <type_traits>

#include "../common/error.h"
#include "store.h"

namespace kv {
namespace {

// The OpenSSL 3 entry points kvbench uses, resolved once. Declared here (opaque pointers)
// so building kvbench needs no OpenSSL headers.
struct Ssl {
  int (*initSsl)(uint64_t, const void*);
  const void* (*clientMethod)();
  void* (*ctxNew)(const void*);
  void (*ctxFree)(void*);
  void (*ctxSetVerify)(void*, int, void*);
  int (*ctxLoadVerifyLocations)(void*, const char*, const char*);
  int (*ctxSetDefaultVerifyPaths)(void*);
  void* (*sslNew)(void*);
  void (*sslFree)(void*);
  int (*setFd)(void*, int);
  int (*set1Host)(void*, const char*);
  long (*ctrl)(void*, int, long, void*);
  int (*connect)(void*);
  int (*read)(void*, void*, int);
  int (*write)(void*, const void*, int);
  int (*getError)(const void*, int);
  long (*getVerifyResult)(const void*);
  int (*shutdown)(void*);
  const char* (*getVersion)(const void*);
  unsigned long (*errGet)();
  void (*errString)(unsigned long, char*, size_t);
  void (*errClear)();
  const char* (*verifyString)(long);
  std::string loadError;
};

constexpr int kVerifyPeer = 1;             // SSL_VERIFY_PEER
constexpr int kCtrlSetTlsextHostname = 55; // SSL_CTRL_SET_TLSEXT_HOSTNAME
constexpr int kErrorWantRead = 2, kErrorWantWrite = 3, kErrorSyscall = 5, kErrorZeroReturn = 6;

const Ssl& ssl() {
  static Ssl s;
  static std::once_flag once;
  std::call_once(once, [] {
    void* crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    void* lib = crypto ? dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL) : nullptr;
    if (!lib) {
      s.loadError = std::string("rediss:// needs OpenSSL 3 (libssl.so.3): ") + dlerror();
      return;
    }
    std::string missing;
    auto sym = [&](void* from, const char* name, auto& fn) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(from, name));
      if (!fn) missing += std::string(missing.empty() ? "" : ", ") + name;
    };
    sym(lib, "OPENSSL_init_ssl", s.initSsl);
    sym(lib, "TLS_client_method", s.clientMethod);
    sym(lib, "SSL_CTX_new", s.ctxNew);
    sym(lib, "SSL_CTX_free", s.ctxFree);
    sym(lib, "SSL_CTX_set_verify", s.ctxSetVerify);
    sym(lib, "SSL_CTX_load_verify_locations", s.ctxLoadVerifyLocations);
    sym(lib, "SSL_CTX_set_default_verify_paths", s.ctxSetDefaultVerifyPaths);
    sym(lib, "SSL_new", s.sslNew);
    sym(lib, "SSL_free", s.sslFree);
    sym(lib, "SSL_set_fd", s.setFd);
    sym(lib, "SSL_set1_host", s.set1Host);
    sym(lib, "SSL_ctrl", s.ctrl);
    sym(lib, "SSL_connect", s.connect);
    sym(lib, "SSL_read", s.read);
    sym(lib, "SSL_write", s.write);
    sym(lib, "SSL_get_error", s.getError);
    sym(lib, "SSL_get_verify_result", s.getVerifyResult);
    sym(lib, "SSL_shutdown", s.shutdown);
    sym(lib, "SSL_get_version", s.getVersion);
    sym(crypto, "ERR_get_error", s.errGet);
    sym(crypto, "ERR_error_string_n", s.errString);
    sym(crypto, "ERR_clear_error", s.errClear);
    sym(crypto, "X509_verify_cert_error_string", s.verifyString);
    if (!missing.empty()) s.loadError = "rediss://: libssl.so.3 lacks " + missing;
    else s.initSsl(0, nullptr);
  });
  return s;
}

// The reason OpenSSL queued for the last failure, cleared afterwards.
std::string opensslError(const Ssl& s) {
  unsigned long e = s.errGet();
  if (e == 0) return errno ? std::strerror(errno) : "unknown error";
  char buf[256];
  s.errString(e, buf, sizeof buf);
  s.errClear();
  // "error:0A000086:SSL routines::certificate verify failed" -> the reason after the last ':'.
  const char* reason = std::strrchr(buf, ':');
  return reason ? reason + 1 : buf;
}

bool isIpAddress(const std::string& host) { return host.find_first_not_of("0123456789.") == std::string::npos || host.find(':') != std::string::npos; }

}  // namespace

TlsSession::TlsSession(int fd, const std::string& host, const std::string& caFile, const std::string& where) {
  const Ssl& s = ssl();
  if (!s.loadError.empty()) throw Error(codes::kStoreConfig, s.loadError);
  auto fail = [&](const std::string& what) {
    if (ssl_) s.sslFree(ssl_);
    if (ctx_) s.ctxFree(ctx_);
    ssl_ = ctx_ = nullptr;
    throw Error(codes::kStoreConfig, where + ": " + what);
  };
  ctx_ = s.ctxNew(s.clientMethod());
  if (!ctx_) fail("TLS setup failed: " + opensslError(s));
  s.ctxSetVerify(ctx_, kVerifyPeer, nullptr);
  if (caFile.empty() ? s.ctxSetDefaultVerifyPaths(ctx_) != 1 : s.ctxLoadVerifyLocations(ctx_, caFile.c_str(), nullptr) != 1)
    fail("cannot load the CA certificates" + (caFile.empty() ? std::string() : " from " + caFile) + ": " + opensslError(s));
  ssl_ = s.sslNew(ctx_);
  if (!ssl_ || s.setFd(ssl_, fd) != 1 || s.set1Host(ssl_, host.c_str()) != 1) fail("TLS setup failed: " + opensslError(s));
  if (!isIpAddress(host)) s.ctrl(ssl_, kCtrlSetTlsextHostname, 0, const_cast<char*>(host.c_str()));  // SNI
  if (s.connect(ssl_) != 1) {
    const long verify = s.getVerifyResult(ssl_);
    if (verify != 0) fail(std::string("TLS handshake failed: certificate not trusted (") + s.verifyString(verify) + ")");
    // No certificate came back at all: most often a plain Redis port, which never answers a ClientHello.
    fail("TLS handshake failed: " + opensslError(s) + " (the server may not speak TLS on this port; plain Redis is redis://)");
  }
}

TlsSession::~TlsSession() {
  if (!ssl_) return;
  const Ssl& s = ssl();
  s.shutdown(ssl_);
  s.sslFree(ssl_);
  s.ctxFree(ctx_);
}

std::string TlsSession::version() const { return ssl().getVersion(ssl_); }

long TlsSession::write(const char* p, size_t n) {
  const Ssl& s = ssl();
  const int w = s.write(ssl_, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  if (w > 0) return w;
  const int e = s.getError(ssl_, w);
  error_ = e == kErrorSyscall ? std::strerror(errno) : e == kErrorWantWrite ? "timed out" : opensslError(s);
  return -1;
}

long TlsSession::read(char* p, size_t n) {
  const Ssl& s = ssl();
  const int r = s.read(ssl_, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  if (r > 0) return r;
  const int e = s.getError(ssl_, r);
  if (e == kErrorZeroReturn) return 0;
  if (e == kErrorSyscall && errno == 0) return 0;  // the peer closed without a TLS close_notify
  error_ = e == kErrorSyscall ? std::strerror(errno) : e == kErrorWantRead ? "timed out" : opensslError(s);
  return -1;
}

}  // namespace kv
