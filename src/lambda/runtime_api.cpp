#include "lambda/runtime_api.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "http/acceptor_pool.h"

namespace gantry::sandbox {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxBody = 6291556;  // Lambda's largest synchronous response
constexpr std::string_view kPrefix = "/2018-06-01/runtime/";

// One connection from the runtime. Requests are answered in turn; GET /next may wait for an event.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<RuntimeApi::Handlers> handlers)
      : stream_(std::move(socket)), handlers_(std::move(handlers)) {}

  void start() { read(); }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void reply(unsigned status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(status);
    res->keep_alive(keep_alive_);
    res->set(bhttp::field::content_type, "application/json");
    for (auto& [k, v] : headers) res->set(k, v);
    res->body() = std::move(body);
    res->prepare_payload();
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read();
    });
  }

  static std::string error_body(std::string_view type, std::string_view message) {
    return boost::json::serialize(boost::json::object{{"errorType", type}, {"errorMessage", message}});
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      // An answer too large for Lambda fails its invocation, as on Lambda (the headers name which).
      keep_alive_ = false;
      std::string target(parser_->get().target());
      constexpr std::string_view kResponse = "/response";
      if (target.starts_with(std::string(kPrefix) + "invocation/") && target.ends_with(kResponse)) {
        auto id = target.substr(kPrefix.size() + 11, target.size() - kPrefix.size() - 11 - kResponse.size());
        handlers_->error(id, "Function.ResponseSizeTooLarge",
                         error_body("Function.ResponseSizeTooLarge",
                                    "Response payload size exceeded maximum allowed payload size (6291556 bytes)."));
      }
      return reply(413, error_body("RequestEntityTooLarge", "the body is larger than 6 MB"));
    }
    if (ec) return close();
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    std::string target(req.target());
    if (!target.starts_with(kPrefix)) return reply(404, error_body("InvalidRequest", "no such runtime API path"));
    std::string_view path = std::string_view(target).substr(kPrefix.size());
    if (req.method() == bhttp::verb::get && path == "invocation/next") return next();
    if (req.method() != bhttp::verb::post) return reply(405, error_body("InvalidRequest", "method not allowed"));
    std::string error_type(req["Lambda-Runtime-Function-Error-Type"]);
    if (error_type.empty()) error_type = "Unhandled";
    if (path == "init/error") {
      handlers_->init_error(error_type, std::move(req.body()));
      return reply(202, R"({"status":"OK"})");
    }
    constexpr std::string_view kInvocation = "invocation/";
    if (path.starts_with(kInvocation)) {
      auto rest = path.substr(kInvocation.size());
      auto slash = rest.find('/');
      if (slash != std::string_view::npos) {
        std::string id(rest.substr(0, slash));
        auto what = rest.substr(slash + 1);
        bool known = false;
        if (what == "response") known = handlers_->response(id, std::move(req.body()));
        else if (what == "error") known = handlers_->error(id, error_type, std::move(req.body()));
        else return reply(404, error_body("InvalidRequest", "no such runtime API path"));
        if (!known) return reply(400, error_body("InvalidRequestID", "Invalid request ID"));
        return reply(202, R"({"status":"OK"})");
      }
    }
    reply(404, error_body("InvalidRequest", "no such runtime API path"));
  }

  void next() {
    auto self = shared_from_this();
    auto executor = stream_.get_executor();
    handlers_->next([self, executor](NextEvent e) {
      asio::post(executor, [self, e = std::move(e)]() mutable {
        std::vector<std::pair<std::string, std::string>> headers{
            {"Lambda-Runtime-Aws-Request-Id", e.request_id},
            {"Lambda-Runtime-Deadline-Ms", std::to_string(e.deadline_ms)},
            {"Lambda-Runtime-Invoked-Function-Arn", e.invoked_arn},
            {"Lambda-Runtime-Trace-Id", e.trace_id}};
        if (!e.client_context.empty()) headers.emplace_back("Lambda-Runtime-Client-Context", e.client_context);
        self->reply(200, std::move(e.payload), std::move(headers));
      });
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<RuntimeApi::Handlers> handlers_;
  bool keep_alive_ = true;
};

}  // namespace

struct RuntimeApi::Impl {
  http::AcceptorPool pool;
};

RuntimeApi::RuntimeApi() : impl_(std::make_unique<Impl>()) {}

RuntimeApi::~RuntimeApi() = default;

Status RuntimeApi::add(const std::string& id, int listen_fd, Handlers handlers) {
  auto shared = std::make_shared<Handlers>(std::move(handlers));
  // The sandbox's connections, closed with it (a runtime waiting for its next event holds one open).
  auto connections = std::make_shared<std::vector<std::weak_ptr<Connection>>>();
  return impl_->pool.add(
      id, listen_fd,
      [shared, connections](tcp::socket socket) {
        auto c = std::make_shared<Connection>(std::move(socket), shared);
        std::erase_if(*connections, [](const auto& w) { return w.expired(); });
        connections->push_back(c);
        c->start();
      },
      [connections] {
        for (auto& w : *connections)
          if (auto c = w.lock()) c->close();
        connections->clear();
      });
}

void RuntimeApi::remove(const std::string& id) { impl_->pool.remove(id); }

}  // namespace gantry::sandbox
