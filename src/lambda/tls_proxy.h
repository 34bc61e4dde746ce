// Answers TLS on 127.0.0.1:443 inside sandboxes (for the AWS host names their /etc/hosts maps there) and
// relays the plain HTTP inside to Gantry's own listener, so an SDK that ignores AWS_ENDPOINT_URL reaches
// Gantry exactly as it would reach AWS. One I/O thread serves every sandbox.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "lambda/local_ca.h"

namespace gantry::sandbox {

class TlsProxy {
 public:
  // `upstream_host`:`upstream_port()` is Gantry's API listener (the port is known once the server listens).
  TlsProxy(std::string upstream_host, std::function<uint16_t()> upstream_port);
  ~TlsProxy();
  TlsProxy(const TlsProxy&) = delete;
  TlsProxy& operator=(const TlsProxy&) = delete;

  // Serves `listen_fd` (which this takes over) for sandbox `id` with `certificate`.
  Status add(const std::string& id, int listen_fd, const ServerCertificate& certificate);
  void remove(const std::string& id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::sandbox
