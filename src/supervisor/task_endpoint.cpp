#include "supervisor/task_endpoint.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <thread>

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

struct Listener : std::enable_shared_from_this<Listener> {
  Listener(asio::io_context& ioc, std::shared_ptr<TaskEndpoint::Responder> r)
      : acceptor(ioc), responder(std::move(r)) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        std::make_shared<Connection>(std::move(socket), self->responder)->start();
        return self->accept();
      }
      // A persistent failure (out of descriptors): wait before accepting again, so this one thread keeps
      // serving every other task's endpoint.
      self->retry.expires_after(std::chrono::milliseconds(100));
      self->retry.async_wait([self](beast::error_code wec) {
        if (!wec && self->acceptor.is_open()) self->accept();
      });
    });
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry{acceptor.get_executor()};
  std::shared_ptr<TaskEndpoint::Responder> responder;
};

}  // namespace

struct TaskEndpoint::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Listener>> listeners;  // by task id
  std::thread thread;
};

TaskEndpoint::TaskEndpoint() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TaskEndpoint::~TaskEndpoint() {
  impl_->work.reset();
  asio::post(impl_->ioc, [this] {
    for (auto& [id, l] : impl_->listeners) {
      beast::error_code ignored;
      l->acceptor.close(ignored);
    }
  });
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status TaskEndpoint::add(const std::string& task_id, int listen_fd, Responder responder) {
  auto listener = std::make_shared<Listener>(impl_->ioc, std::make_shared<Responder>(std::move(responder)));
  beast::error_code ec;
  listener->acceptor.assign(tcp::v4(), listen_fd, ec);
  if (ec) {
    ::close(listen_fd);
    return make_error(ErrorKind::kRuntimeSystem, "task endpoint: " + ec.message());
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->listeners[task_id] = listener;
  }
  asio::post(impl_->ioc, [listener] { listener->accept(); });
  return {};
}

void TaskEndpoint::remove(const std::string& task_id) {
  std::shared_ptr<Listener> listener;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->listeners.find(task_id);
    if (it == impl_->listeners.end()) return;
    listener = std::move(it->second);
    impl_->listeners.erase(it);
  }
  asio::post(impl_->ioc, [listener] {
    beast::error_code ignored;
    listener->acceptor.close(ignored);
  });
}

}  // namespace gantry::supervisor
