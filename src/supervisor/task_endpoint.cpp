#include "supervisor/task_endpoint.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/acceptor_pool.h"

namespace gantry::supervisor {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr size_t kMaxRequestBytes = 16 * 1024;

// One connection: requests answered in turn until the client closes, errs or idles.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<TaskEndpoint::Responder> responder)
      : stream_(std::move(socket)), responder_(std::move(responder)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    const auto& req = parser_->get();
    response_ = {};
    response_.version(req.version());
    response_.keep_alive(req.keep_alive());
    response_.set(bhttp::field::content_type, "application/json");
    response_.set(bhttp::field::server, "Gantry");
    if (req.method() != bhttp::verb::get) {
      response_.result(bhttp::status::method_not_allowed);
      response_.body() = R"({"code":"MethodNotAllowed","message":"Only GET is supported"})";
    } else {
      std::string_view target(req.target().data(), req.target().size());
      auto path = target.substr(0, target.find('?'));
      TaskEndpoint::Reply reply;
      try {
        reply = (*responder_)(path);
      } catch (const std::exception& e) {
        reply = {500, R"({"code":"InternalError","message":"the endpoint failed"})"};
        spdlog::error("task endpoint {}: {}", path, e.what());
      }
      response_.result(static_cast<unsigned>(reply.status));
      response_.body() = std::move(reply.body);
    }
    response_.prepare_payload();
    bhttp::async_write(stream_, response_, [self = shared_from_this()](beast::error_code wec, size_t) {
      if (wec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::shared_ptr<TaskEndpoint::Responder> responder_;
};

}  // namespace

struct TaskEndpoint::Impl {
  http::AcceptorPool pool;
};

TaskEndpoint::TaskEndpoint() : impl_(std::make_unique<Impl>()) {}

TaskEndpoint::~TaskEndpoint() = default;

Status TaskEndpoint::add(const std::string& task_id, int listen_fd, Responder responder) {
  auto shared = std::make_shared<Responder>(std::move(responder));
  return impl_->pool.add(task_id, listen_fd, [shared](tcp::socket socket) {
    std::make_shared<Connection>(std::move(socket), shared)->start();
  });
}

// Connections in flight finish or time out.
void TaskEndpoint::remove(const std::string& task_id) { impl_->pool.remove(task_id); }

}  // namespace gantry::supervisor
