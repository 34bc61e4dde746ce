#include "lambda/tls_proxy.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <map>
#include <mutex>
#include <thread>

namespace gantry::sandbox {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

// One client connection: TLS from the sandbox, plain TCP to Gantry, bytes relayed both ways until either
// side closes.
class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(tcp::socket socket, std::shared_ptr<ssl::context> ctx, tcp::endpoint upstream)
      : ctx_(std::move(ctx)), tls_(std::move(socket), *ctx_), plain_(tls_.get_executor()),
        timer_(tls_.get_executor()), upstream_(upstream) {}

  void start() {
    timer_.expires_after(kHandshakeTimeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && !self->connected_) self->close();
    });
    tls_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      if (ec) return self->close();
      self->plain_.async_connect(self->upstream_, [self](error_code cec) {
        if (cec) {
          spdlog::warn("lambda: TLS relay cannot reach Gantry at {}: {}", self->upstream_.port(), cec.message());
          return self->close();
        }
        self->connected_ = true;
        self->timer_.cancel();
        self->from_sandbox();
        self->to_sandbox();
      });
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    plain_.shutdown(tcp::socket::shutdown_both, ignored);
    plain_.close(ignored);
    tls_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    tls_.lowest_layer().close(ignored);
  }

 private:
  void from_sandbox() {
    tls_.async_read_some(asio::buffer(up_), [self = shared_from_this()](error_code ec, size_t n) {
      if (ec) return self->close();
      asio::async_write(self->plain_, asio::buffer(self->up_.data(), n), [self](error_code wec, size_t) {
        if (wec) return self->close();
        self->from_sandbox();
      });
    });
  }

  void to_sandbox() {
    plain_.async_read_some(asio::buffer(down_), [self = shared_from_this()](error_code ec, size_t n) {
      if (ec) return self->close();
      asio::async_write(self->tls_, asio::buffer(self->down_.data(), n), [self](error_code wec, size_t) {
        if (wec) return self->close();
        self->to_sandbox();
      });
    });
  }

  std::shared_ptr<ssl::context> ctx_;
  ssl::stream<tcp::socket> tls_;
  tcp::socket plain_;
  asio::steady_timer timer_;
  tcp::endpoint upstream_;
  std::array<char, 16384> up_{};
  std::array<char, 16384> down_{};
  bool connected_ = false;
  bool closed_ = false;
};

struct Listener : std::enable_shared_from_this<Listener> {
  Listener(asio::io_context& ioc, std::shared_ptr<ssl::context> c, std::function<tcp::endpoint()> up)
      : acceptor(ioc), ctx(std::move(c)), upstream(std::move(up)) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        auto relay = std::make_shared<Relay>(std::move(socket), self->ctx, self->upstream());
        std::erase_if(self->relays, [](const auto& w) { return w.expired(); });
        self->relays.push_back(relay);
        relay->start();
        return self->accept();
      }
      self->retry.expires_after(std::chrono::milliseconds(100));
      self->retry.async_wait([self](error_code wec) {
        if (!wec && self->acceptor.is_open()) self->accept();
      });
    });
  }

  void close() {
    error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    for (auto& w : relays)
      if (auto r = w.lock()) r->close();
    relays.clear();
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry{acceptor.get_executor()};
  std::shared_ptr<ssl::context> ctx;
  std::function<tcp::endpoint()> upstream;
  std::vector<std::weak_ptr<Relay>> relays;
};

}  // namespace

struct TlsProxy::Impl {
  std::string host;
  std::function<uint16_t()> port;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Listener>> listeners;
  std::thread thread;
};

TlsProxy::TlsProxy(std::string upstream_host, std::function<uint16_t()> upstream_port)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(upstream_host);
  impl_->port = std::move(upstream_port);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TlsProxy::~TlsProxy() {
  impl_->work.reset();
  asio::post(impl_->ioc, [this] {
    for (auto& [id, l] : impl_->listeners) l->close();
  });
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status TlsProxy::add(const std::string& id, int listen_fd, const ServerCertificate& certificate) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) ctx->use_certificate_chain(asio::buffer(certificate.cert_pem), ec);
  if (!ec) ctx->use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem, ec);
  if (ec) {
    ::close(listen_fd);
    return make_error(ErrorKind::kRuntimeSystem, "TLS relay: " + ec.message());
  }
  auto address = asio::ip::make_address(impl_->host, ec);
  if (ec) address = asio::ip::make_address("127.0.0.1");
  auto port = impl_->port;
  auto listener = std::make_shared<Listener>(impl_->ioc, ctx, [address, port] { return tcp::endpoint(address, port()); });
  listener->acceptor.assign(tcp::v4(), listen_fd, ec);
  if (ec) {
    ::close(listen_fd);
    return make_error(ErrorKind::kRuntimeSystem, "TLS relay: " + ec.message());
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->listeners[id] = listener;
  }
  asio::post(impl_->ioc, [listener] { listener->accept(); });
  return {};
}

void TlsProxy::remove(const std::string& id) {
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

}  // namespace gantry::sandbox
