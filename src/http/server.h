// HTTP/1.1 listener: one Beast session per connection, keep-alive, a deadline on every read,
// a body size limit. Requests are handed to a Handler; the server never throws into Asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "http/message.h"

namespace gantry::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 4566;  // 0 picks a free port; see Server::port()
  int threads = 2;
  size_t body_limit = 16 * 1024 * 1024;
  int read_timeout_seconds = 60;
  // Answered with 413 and a JSON error when a body exceeds body_limit.
  std::string too_large_body = R"({"__type":"RequestEntityTooLargeException","message":"Request body is too large"})";
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; fails with the address and the system's reason.
  Status start();
  uint16_t port() const;
  // Serves on `threads` threads until stop() or SIGINT/SIGTERM; returns after all threads joined.
  void run_until_signal();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::http
