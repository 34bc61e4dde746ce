// Listening sockets made elsewhere — inside a task's or a sandbox's network namespace
// (runtime::Os::listen_in_namespace) — each with its own accept loop, all on one shared I/O thread: how
// Gantry serves the endpoints ECS tasks and Lambda sandboxes reach (task endpoints, the Runtime API, the
// TLS relay). An accept error other than a closed listener (out of descriptors) is retried after 100 ms, so
// one listener's trouble never stalls the others.
#pragma once

#include <boost/asio.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"

namespace gantry::http {

class AcceptorPool {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  // Both run on the pool's thread: a new connection, and (once) the listener's removal, the moment to
  // close what its connections still hold open.
  using OnAccept = std::function<void(Socket)>;
  using OnClose = std::function<void()>;

  AcceptorPool();
  ~AcceptorPool();
  AcceptorPool(const AcceptorPool&) = delete;
  AcceptorPool& operator=(const AcceptorPool&) = delete;

  // The I/O context the pool's thread runs: connections accepted on it live there.
  boost::asio::io_context& context();
  // Serves `listen_fd` (a listening TCP socket, which this takes over, closing it on error) as `id`.
  Status add(const std::string& id, int listen_fd, OnAccept on_accept, OnClose on_close = {});
  // Stops accepting for `id` and closes its listener; then calls its OnClose.
  void remove(const std::string& id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::http
