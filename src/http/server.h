// HTTP/1.1 listener: one Beast session per connection, keep-alive, a deadline on every read,
// a body size limit for bodies read whole; bodies streamed into a BodySink and file responses pass
// through a fixed buffer per connection. Requests are handed to a Handler; the server never throws into Asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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
  // Makes the x-amzn-RequestId of answers the edge gives itself (413, malformed HTTP), so every
  // error a client sees carries one. Unset: those answers go without.
  std::function<std::string()> new_request_id;
  // After such an answer the rest of the request is read and discarded (at most this many bytes,
  // for at most this long) before the connection closes; see Session::linger.
  size_t linger_bytes = 64 * 1024 * 1024;
  int linger_seconds = 5;
};

// A Response with `later` set keeps its connection open until `respond` is called or dropped, or until
// the Server is destroyed: a `respond` called after that does nothing.
class Server {
 public:
  // `head_handler`, when set, sees every request once its headers arrived and decides how its body is
  // read (whole, streamed into a BodySink, or not at all); unset, every body is read whole.
  Server(ServerOptions options, Handler handler, HeadHandler head_handler = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; fails with the address and the system's reason.
  Status start();
  uint16_t port() const;
  // Also serves connections accepted on `listen_fd` (a listening TCP socket made elsewhere, e.g. inside a
  // Lambda sandbox's network namespace, see runtime::Os::listen_in_namespace), which this takes over
  // (closed on error too). Callable from any thread after start(). Returns an id for remove_listener.
  Result<uint64_t> add_listener(int listen_fd);
  // Stops accepting on that listener and closes it; connections already accepted go on.
  void remove_listener(uint64_t id);

  // Serves on `threads` threads until stop() or SIGINT/SIGTERM; returns after all threads joined.
  void run_until_signal();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::http
