#include "lambda/tls_proxy.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "http/acceptor_pool.h"

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

}  // namespace

struct TlsProxy::Impl {
  std::string host;
  std::function<uint16_t()> port;
  http::AcceptorPool pool;
};

TlsProxy::TlsProxy(std::string upstream_host, std::function<uint16_t()> upstream_port)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(upstream_host);
  impl_->port = std::move(upstream_port);
}

TlsProxy::~TlsProxy() = default;

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
  // The sandbox's relays, closed with it.
  auto relays = std::make_shared<std::vector<std::weak_ptr<Relay>>>();
  return impl_->pool.add(
      id, listen_fd,
      [ctx, address, port, relays](tcp::socket socket) {
        auto relay = std::make_shared<Relay>(std::move(socket), ctx, tcp::endpoint(address, port()));
        std::erase_if(*relays, [](const auto& w) { return w.expired(); });
        relays->push_back(relay);
        relay->start();
      },
      [relays] {
        for (auto& w : *relays)
          if (auto r = w.lock()) r->close();
        relays->clear();
      });
}

void TlsProxy::remove(const std::string& id) { impl_->pool.remove(id); }

}  // namespace gantry::sandbox
