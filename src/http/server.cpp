#include "http/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace gantry::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The edge's own answers carry texts of Beast's error messages; escaped so the body stays JSON
// whatever they say (the HTTP layer does not link a JSON library).
std::string json_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServerOptions& options, const Handler& handler)
      : stream_(std::move(socket)), options_(options), handler_(handler) {}

  void start() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    head_request_ = false;  // until this request's method is known: an error answer has its body
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  // An answer the edge gives itself, in the JSON error shape, with a request id like every answer.
  Response edge_error(int status, std::string_view type, std::string message) const {
    Response r;
    r.status = status;
    r.set_header("Content-Type", "application/json");
    if (options_.new_request_id) r.set_header("x-amzn-RequestId", options_.new_request_id());
    r.body = std::string(R"({"__type":")") + std::string(type) + R"(","message":")" + json_escape(message) + "\"}";
    return r;
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == bhttp::error::body_limit) {
      Response r = edge_error(413, "RequestEntityTooLargeException", "");
      r.body = options_.too_large_body;
      write(std::move(r), /*keep_alive=*/false, /*linger=*/true);
      return;
    }
    if (ec) {
      // end_of_stream, timeouts, a reset: the client is gone or silent, nothing to answer.
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
          ec == asio::error::connection_reset) {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      // Malformed HTTP: say so; the rest of what the client sends is not a request we can find.
      write(edge_error(400, "BadRequest", "Malformed HTTP request: " + ec.message()), false, /*linger=*/true);
      return;
    }
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.headers.reserve(16);
    for (const auto& field : msg) req.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    req.body = std::move(msg.body());
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    if (!ep_ec) req.remote_address = ep.address().to_string();
    bool keep_alive = msg.keep_alive();
    head_request_ = msg.method() == bhttp::verb::head;
    Response res;
    try {
      res = handler_(req);
    } catch (const std::exception& e) {
      spdlog::error("unhandled exception serving {} {}: {}", req.method, req.target, e.what());
      res = Response{500, {{"Content-Type", "application/json"}},
                     R"({"__type":"InternalFailure","message":"The server encountered an internal error"})"};
    }
    write(std::move(res), keep_alive);
  }

  void write(Response res, bool keep_alive, bool linger = false) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(11);
    out->result(static_cast<unsigned>(res.status));
    for (auto& [k, v] : res.headers) out->set(k, v);
    out->set(bhttp::field::server, "Gantry");
    out->body() = std::move(res.body);
    out->keep_alive(keep_alive);
    out->prepare_payload();
    if (head_request_) {
      // A response to HEAD has the headers of the GET answer and no body: a body here would be read
      // as the start of the next response on a keep-alive connection.
      size_t length = out->body().size();
      out->body().clear();
      out->content_length(length);
    }
    bhttp::async_write(stream_, *out,
                       [self = shared_from_this(), out, keep_alive, linger](beast::error_code ec, size_t) {
                         if (!ec && linger) return self->linger();
                         if (ec || !keep_alive) {
                           beast::error_code ignored;
                           self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                           return;
                         }
                         self->do_read();
                       });
  }

  // After answering a request whose body was not read (413, malformed HTTP), closing at once would
  // make the kernel reset the connection while the client is still sending, and most clients then
  // report the reset instead of our answer. So: send FIN, read and discard what still arrives
  // (bounded in bytes and time), then close.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    linger_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(options_.linger_seconds);
    drain_ = std::make_unique<std::array<char, 64 * 1024>>();
    drain_more();
  }

  void drain_more() {
    stream_.expires_at(linger_deadline_);
    stream_.async_read_some(asio::buffer(*drain_), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > self->options_.linger_bytes) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->stream_.socket().close(ignored);
        return;
      }
      self->drain_more();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool head_request_ = false;
  std::chrono::steady_clock::time_point linger_deadline_;
  std::unique_ptr<std::array<char, 64 * 1024>> drain_;  // only while lingering
  size_t drained_ = 0;
  const ServerOptions& options_;
  const Handler& handler_;
};

}  // namespace

// One io_context per I/O thread, each run by exactly one thread: a connection lives on one
// context for its whole life, so its handlers never contend for a lock or hop between threads
// (one shared io_context run by several threads spent a quarter of its time in futex calls).
struct Server::Impl {
  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::unique_ptr<tcp::acceptor> acceptor;  // on contexts[0]
  std::unique_ptr<asio::signal_set> signals;
  size_t next_context = 0;

  Impl(ServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)) {
    size_t n = static_cast<size_t>(std::max(1, options.threads));
    for (size_t i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      keep_running.push_back(asio::make_work_guard(*contexts.back()));
    }
    acceptor = std::make_unique<tcp::acceptor>(*contexts[0]);
    signals = std::make_unique<asio::signal_set>(*contexts[0], SIGINT, SIGTERM);
  }

  void do_accept() {
    auto& target = *contexts[next_context++ % contexts.size()];
    acceptor->async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        spdlog::warn("accept failed: {}", ec.message());
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), options, handler)->start();
      }
      do_accept();
    });
  }
};

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

Status Server::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return make_error(ErrorKind::kInternal, "invalid listen address '" + impl_->options.address + "': " + ec.message());
  tcp::endpoint endpoint{address, impl_->options.port};
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorKind::kInternal, "cannot listen on " + impl_->options.address + ":" +
                                                std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->do_accept();
  return {};
}

uint16_t Server::port() const {
  beast::error_code ec;
  return impl_->acceptor->local_endpoint(ec).port();
}

void Server::stop() {
  asio::post(*impl_->contexts[0], [this] {
    beast::error_code ec;
    impl_->acceptor->close(ec);
    impl_->signals->cancel(ec);
    // Each context stops after the handler it is running, if any, returns: a request being served
    // completes its store transaction before the thread exits.
    for (auto& ctx : impl_->contexts) ctx->stop();
  });
}

void Server::run_until_signal() {
  impl_->signals->async_wait([this](beast::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", sig);
    stop();
  });
  std::vector<std::thread> threads;
  threads.reserve(impl_->contexts.size() - 1);
  for (size_t i = 1; i < impl_->contexts.size(); ++i)
    threads.emplace_back([ctx = impl_->contexts[i].get()] { ctx->run(); });
  impl_->contexts[0]->run();
  for (auto& t : threads) t.join();
}

}  // namespace gantry::http
