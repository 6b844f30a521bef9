// TLS for `rediss://`: OpenSSL 3 (libssl.so.3) loaded at run time, only when a TLS store
// is opened, so kvbench loads on hosts without it. The peer's certificate is always
// verified against the system's trust store or a given CA file, and its name against the
// host connected to; there is no switch to turn that off.
#pragma once
#include <cstddef>
#include <string>

namespace kv {

class TlsSession {
 public:
  // Handshakes over the connected socket `fd` (which stays the caller's to close).
  // Throws STORE_CONFIG naming `where` and why (no libssl, certificate not trusted, ...).
  TlsSession(int fd, const std::string& host, const std::string& caFile, const std::string& where);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Like send()/recv(): bytes moved, 0 when the peer closed, -1 on error (`error()` says why).
  long write(const char* p, size_t n);
  long read(char* p, size_t n);
  const std::string& error() const { return error_; }
  std::string version() const;  // e.g. "TLSv1.3"

 private:
  void* ctx_ = nullptr;
  void* ssl_ = nullptr;
  std::string error_;
};

}  // namespace kv
