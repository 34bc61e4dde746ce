#include "http/acceptor_pool.h"

#include <unistd.h>

#include <map>
#include <mutex>
#include <thread>

namespace gantry::http {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Listener : std::enable_shared_from_this<Listener> {
  Listener(asio::io_context& ioc, AcceptorPool::OnAccept a, AcceptorPool::OnClose c)
      : acceptor(ioc), on_accept(std::move(a)), on_close(std::move(c)) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        self->on_accept(std::move(socket));
        return self->accept();
      }
      self->retry.expires_after(std::chrono::milliseconds(100));
      self->retry.async_wait([self](boost::system::error_code wec) {
        if (!wec && self->acceptor.is_open()) self->accept();
      });
    });
  }

  void close() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    if (on_close) on_close();
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry{acceptor.get_executor()};
  AcceptorPool::OnAccept on_accept;
  AcceptorPool::OnClose on_close;
};

}  // namespace

struct AcceptorPool::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Listener>> listeners;
  std::thread thread;
};

AcceptorPool::AcceptorPool() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

AcceptorPool::~AcceptorPool() {
  impl_->work.reset();
  asio::post(impl_->ioc, [this] {
    std::lock_guard lock(impl_->mu);
    for (auto& [id, l] : impl_->listeners) l->close();
  });
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

asio::io_context& AcceptorPool::context() { return impl_->ioc; }

Status AcceptorPool::add(const std::string& id, int listen_fd, OnAccept on_accept, OnClose on_close) {
  auto listener = std::make_shared<Listener>(impl_->ioc, std::move(on_accept), std::move(on_close));
  boost::system::error_code ec;
  listener->acceptor.assign(tcp::v4(), listen_fd, ec);
  if (ec) {
    ::close(listen_fd);
    return make_error(ErrorKind::kRuntimeSystem, "listener " + id + ": " + ec.message());
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->listeners[id] = listener;
  }
  asio::post(impl_->ioc, [listener] { listener->accept(); });
  return {};
}

void AcceptorPool::remove(const std::string& id) {
  std::shared_ptr<Listener> listener;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->listeners.find(id);
    if (it == impl_->listeners.end()) return;
    listener = std::move(it->second);
    impl_->listeners.erase(it);
  }
  asio::post(impl_->ioc, [listener] { listener->close(); });
}

}  // namespace gantry::http
