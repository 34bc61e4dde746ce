#include "http/server.h"

#include <fmt/format.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
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

class Session;

// A deferred answer's hold on its connection (Response::later): the connection lives as long as the
// `respond` callback does, or until the server goes away, whichever comes first.
struct Pending {
  std::mutex mutex;
  std::shared_ptr<Session> session;  // null once answered, or once the server released it
};

// The holds of every answer still awaited. The server releases them before its I/O contexts are
// destroyed: a `respond` kept or called after that finds nothing to answer, never a dead connection.
class Deferrals {
 public:
  void add(const std::shared_ptr<Pending>& pending) {
    std::lock_guard lock(mutex_);
    std::erase_if(pending_, [](const std::weak_ptr<Pending>& p) { return p.expired(); });
    pending_.push_back(pending);
  }

  void release_all() {
    std::lock_guard lock(mutex_);
    for (auto& weak : pending_) {
      if (auto p = weak.lock()) {
        std::lock_guard hold(p->mutex);
        p->session.reset();
      }
    }
    pending_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<Pending>> pending_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServerOptions& options, const Handler& handler, const HeadHandler& head_handler,
          Deferrals& deferrals)
      : stream_(std::move(socket)),
        options_(options),
        handler_(handler),
        head_handler_(head_handler),
        deferrals_(deferrals) {}

  void start() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  // Streamed bodies and file responses move through one buffer of this size per connection (only
  // while such a request is in flight).
  static constexpr size_t kChunk = 256 * 1024;

  void do_read() {
    head_request_ = false;  // until this request's method is known: an error answer has its body
    header_parser_.emplace();
    // The size limit is applied once the head handler has said how the body is to be read.
    header_parser_->body_limit(boost::none);
    header_parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *header_parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
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

  Response too_large() const {
    Response r = edge_error(413, "RequestEntityTooLargeException", "");
    r.body = options_.too_large_body;
    return r;
  }

  static Response internal_error() {
    Response r;
    r.status = 500;
    r.set_header("Content-Type", "application/json");
    r.body = R"({"__type":"InternalFailure","message":"The server encountered an internal error"})";
    return r;
  }

  // A read that failed: the client is gone or silent (nothing to answer), or sent malformed HTTP.
  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      write(too_large(), /*keep_alive=*/false, /*linger=*/true);
      return;
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    // Malformed HTTP: say so; the rest of what the client sends is not a request we can find.
    write(edge_error(400, "BadRequest", "Malformed HTTP request: " + ec.message()), false, /*linger=*/true);
  }

  void on_header(beast::error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    auto& msg = header_parser_->get();
    request_ = Request{};
    request_.method = std::string(msg.method_string());
    request_.target = std::string(msg.target());
    request_.headers.reserve(16);
    for (const auto& field : msg) request_.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    if (!ep_ec) request_.remote_address = ep.address().to_string();
    keep_alive_ = msg.keep_alive();
    head_request_ = msg.method() == bhttp::verb::head;
    const bool body_pending = !header_parser_->is_done();

    HeadDecision decision;
    if (head_handler_) {
      try {
        decision = head_handler_(request_);
      } catch (const std::exception& e) {
        spdlog::error("unhandled exception routing {} {}: {}", request_.method, request_.target, e.what());
        decision = internal_error();
      }
    }
    if (auto* answer = std::get_if<Response>(&decision)) {
      write(std::move(*answer), keep_alive_ && !body_pending, /*linger=*/body_pending);
      return;
    }
    if (auto* sink = std::get_if<std::unique_ptr<BodySink>>(&decision)) {
      sink_ = std::move(*sink);
      if (!sink_) return write(internal_error(), false, body_pending);
      stream_parser_.emplace(std::move(*header_parser_));
      header_parser_.reset();
      chunk_ = std::make_unique<std::array<char, kChunk>>();
      // Beast sizes each socket read by the buffer's spare capacity (at least 512 bytes): without
      // room reserved, a streamed upload arrives 512 bytes per read and per epoll wakeup.
      buffer_.reserve(kChunk);
      return continue_then(&Session::read_chunk);
    }
    auto length = header_parser_->content_length();
    const size_t limit = std::holds_alternative<BodyLimit>(decision) ? std::get<BodyLimit>(decision).bytes
                                                                      : options_.body_limit;
    if (length && *length > limit) return write(too_large(), false, /*linger=*/true);
    if (!body_pending) return serve(std::string{});
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(limit);
    read_body();
  }

  // A client that sent "Expect: 100-continue" waits for this (or a timeout) before sending the body.
  // Only streamed bodies get it: they are the large ones, and an interim answer confuses clients of
  // the AWS APIs that send the header with the body already attached.
  void continue_then(void (Session::*next)()) {
    if (!beast::iequals(request_.header("expect"), "100-continue")) return (this->*next)();
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this(), next](beast::error_code ec, size_t) {
                        if (ec) return self->on_read_error(ec);
                        ((*self).*next)();
                      });
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *body_parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      std::string body = std::move(self->body_parser_->get().body());
      self->body_parser_.reset();
      self->serve(std::move(body));
    });
  }

  void serve(std::string body) {
    request_.body = std::move(body);
    Response res;
    try {
      res = handler_(request_);
    } catch (const std::exception& e) {
      spdlog::error("unhandled exception serving {} {}: {}", request_.method, request_.target, e.what());
      res = internal_error();
    }
    if (res.later) return defer(std::move(res.later));
    write(std::move(res), keep_alive_);
  }

  // The handler answers later, from any thread: nothing is read meanwhile and no deadline runs (the
  // wait is the handler's to bound); the answer is written on this connection's executor.
  void defer(decltype(Response::later) later) {
    stream_.expires_never();
    auto pending = std::make_shared<Pending>();
    pending->session = shared_from_this();
    deferrals_.add(pending);
    auto respond = [pending](Response res) {
      // Posting under the lock: once the server has released the hold, no post can still be under way.
      std::lock_guard lock(pending->mutex);
      std::shared_ptr<Session> self = std::move(pending->session);
      if (!self) return;  // answered already, or the server is gone
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        // The deadline of the read before the wait may be long past.
        self->stream_.expires_after(std::chrono::seconds(self->options_.read_timeout_seconds));
        self->write(std::move(res), self->keep_alive_);
      });
    };
    try {
      later(respond);
    } catch (const std::exception& e) {
      spdlog::error("unhandled exception deferring {} {}: {}", request_.method, request_.target, e.what());
      respond(internal_error());
    }
  }

  void read_chunk() {
    if (stream_parser_->is_done()) return on_chunk({}, 0);
    auto& body = stream_parser_->get().body();
    body.data = chunk_->data();
    body.size = chunk_->size();
    stream_.expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *stream_parser_, beast::bind_front_handler(&Session::on_chunk, shared_from_this()));
  }

  void on_chunk(beast::error_code ec, size_t) {
    if (ec == bhttp::error::need_buffer) ec = {};
    // Bytes of the body in the chunk buffer (the parser advances body().data as it fills it).
    size_t n = stream_parser_->get().body().data == nullptr ? 0 : chunk_->size() - stream_parser_->get().body().size;
    if (ec) {
      // The client went away (or sent garbage) mid-body. What did arrive is handed over first, so a
      // resumable upload continues from the last byte received; then the sink's destructor undoes
      // whatever must not survive an incomplete body.
      try {
        if (n > 0) (void)sink_->write(std::string_view(chunk_->data(), n));
      } catch (const std::exception& e) {
        spdlog::error("unhandled exception streaming {} {}: {}", request_.method, request_.target, e.what());
      }
      sink_.reset();
      chunk_.reset();
      return on_read_error(ec);
    }
    const bool done = stream_parser_->is_done();
    Response res;
    bool answered = false;
    try {
      if (n > 0) {
        Status st = sink_->write(std::string_view(chunk_->data(), n));
        if (!st) {
          res = sink_->fail(st.error());
          answered = true;
        }
      }
      if (!answered && done) {
        res = sink_->finish();
        answered = true;
      }
    } catch (const std::exception& e) {
      spdlog::error("unhandled exception streaming {} {}: {}", request_.method, request_.target, e.what());
      res = internal_error();
      answered = true;
    }
    if (!answered) return read_chunk();
    sink_.reset();
    chunk_.reset();
    stream_parser_.reset();
    write(std::move(res), keep_alive_ && done, /*linger=*/!done);
  }

  void write(Response res, bool keep_alive, bool linger = false) {
    if (res.file && !head_request_) return write_file(std::move(res), keep_alive, linger);
    // These statuses have no body (Beast throws rather than send one).
    if (res.status < 200 || res.status == 204 || res.status == 304) res.body.clear();
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
      uint64_t length = res.file ? res.file->length() : out->body().size();
      out->body().clear();
      out->content_length(length);
    }
    bhttp::async_write(stream_, *out, [self = shared_from_this(), out, keep_alive, linger](beast::error_code ec, size_t) {
      self->after_write(ec, keep_alive, linger);
    });
  }

  void after_write(beast::error_code ec, bool keep_alive, bool linger) {
    if (!ec && linger) return this->linger();
    if (ec || !keep_alive) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    do_read();
  }

  // Sends the file range through the chunk buffer, one pread per write.
  void write_file(Response res, bool keep_alive, bool linger) {
    file_res_ = std::make_unique<bhttp::response<bhttp::buffer_body>>();
    file_res_->version(11);
    file_res_->result(static_cast<unsigned>(res.status));
    for (auto& [k, v] : res.headers) file_res_->set(k, v);
    file_res_->set(bhttp::field::server, "Gantry");
    file_res_->keep_alive(keep_alive);
    file_res_->content_length(res.file->length());
    file_res_->body().data = nullptr;
    file_res_->body().more = true;
    file_sr_ = std::make_unique<bhttp::response_serializer<bhttp::buffer_body>>(*file_res_);
    file_ = std::move(res.file);
    file_pos_ = file_->offset();
    file_left_ = file_->length();
    if (!chunk_) chunk_ = std::make_unique<std::array<char, kChunk>>();
    send_file_chunk(keep_alive, linger);
  }

  void send_file_chunk(bool keep_alive, bool linger) {
    auto& body = file_res_->body();
    if (file_left_ > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(file_left_, chunk_->size()));
      ssize_t n;
      do {
        n = ::pread(file_->fd(), chunk_->data(), want, static_cast<off_t>(file_pos_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        // The headers may already be out: the only honest signal left is to cut the connection.
        spdlog::error("reading the body of {} {} failed at offset {}: {}", request_.method, request_.target, file_pos_,
                      n == 0 ? "unexpected end of file" : std::strerror(errno));
        end_file();
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        return;
      }
      file_pos_ += static_cast<uint64_t>(n);
      file_left_ -= static_cast<uint64_t>(n);
      body.data = chunk_->data();
      body.size = static_cast<size_t>(n);
      body.more = file_left_ > 0;
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    stream_.expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    bhttp::async_write(stream_, *file_sr_,
                       [self = shared_from_this(), keep_alive, linger](beast::error_code ec, size_t) {
                         if (ec == bhttp::error::need_buffer) ec = {};
                         if (!ec && !self->file_sr_->is_done()) return self->send_file_chunk(keep_alive, linger);
                         self->end_file();
                         self->after_write(ec, keep_alive, linger);
                       });
  }

  void end_file() {
    file_sr_.reset();
    file_res_.reset();
    file_.reset();
    chunk_.reset();
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
  // One of these parsers is live at a time: the head, then the body read whole or streamed.
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> stream_parser_;
  Request request_;
  bool keep_alive_ = false;
  bool head_request_ = false;
  std::unique_ptr<BodySink> sink_;
  std::unique_ptr<std::array<char, kChunk>> chunk_;
  // A file response in flight.
  std::unique_ptr<bhttp::response<bhttp::buffer_body>> file_res_;
  std::unique_ptr<bhttp::response_serializer<bhttp::buffer_body>> file_sr_;
  std::shared_ptr<FileBody> file_;
  uint64_t file_pos_ = 0;
  uint64_t file_left_ = 0;
  std::chrono::steady_clock::time_point linger_deadline_;
  std::unique_ptr<std::array<char, 64 * 1024>> drain_;  // only while lingering
  size_t drained_ = 0;
  const ServerOptions& options_;
  const Handler& handler_;
  const HeadHandler& head_handler_;
  Deferrals& deferrals_;
};

// An acceptor and its accept loop, shared by the loop's handlers: closing it (stop, remove_listener)
// ends the loop whenever its last handler runs.
struct Listener {
  explicit Listener(asio::io_context& ctx) : acceptor(ctx), retry(ctx) {}
  tcp::acceptor acceptor;
  // After an accept error (out of descriptors): accepting again at once would spin on the same error.
  asio::steady_timer retry;
  bool failing = false;  // the error was logged; nothing accepted since
};

void close_listener(Listener& listener) {
  beast::error_code ignored;
  listener.acceptor.close(ignored);
  listener.retry.cancel();
}

// The address family of `fd`, or why it is not a listening TCP socket.
Result<int> listening_family(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return make_error(ErrorKind::kInternal, fmt::format("getsockname on descriptor {}: {}", fd, std::strerror(errno)));
  int listening = 0;
  socklen_t flag_length = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &flag_length) != 0)
    return make_error(ErrorKind::kInternal, fmt::format("getsockopt on descriptor {}: {}", fd, std::strerror(errno)));
  if ((address.ss_family != AF_INET && address.ss_family != AF_INET6) || !listening)
    return make_error(ErrorKind::kInternal, fmt::format("descriptor {} is not a listening TCP socket", fd));
  return static_cast<int>(address.ss_family);
}

}  // namespace

// One io_context per I/O thread, each run by exactly one thread: a connection lives on one
// context for its whole life, so its handlers never contend for a lock or hop between threads
// (one shared io_context run by several threads spent a quarter of its time in futex calls).
// Every acceptor lives on contexts[0]: accept handlers run on its thread only.
struct Server::Impl {
  ServerOptions options;
  Handler handler;
  HeadHandler head_handler;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::shared_ptr<Listener> main;
  std::unique_ptr<asio::signal_set> signals;
  size_t next_context = 0;
  Deferrals deferrals;
  std::mutex listeners_mutex;
  std::map<uint64_t, std::shared_ptr<Listener>> listeners;  // add_listener's, by id
  uint64_t next_listener_id = 1;

  Impl(ServerOptions o, Handler h, HeadHandler hh)
      : options(std::move(o)), handler(std::move(h)), head_handler(std::move(hh)) {
    size_t n = static_cast<size_t>(std::max(1, options.threads));
    for (size_t i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      keep_running.push_back(asio::make_work_guard(*contexts.back()));
    }
    main = std::make_shared<Listener>(*contexts[0]);
    signals = std::make_unique<asio::signal_set>(*contexts[0], SIGINT, SIGTERM);
  }

  // Connections waiting for a deferred answer hold sockets of these contexts: they go first.
  ~Impl() { deferrals.release_all(); }

  void do_accept(const std::shared_ptr<Listener>& listener) {
    auto& target = *contexts[next_context++ % contexts.size()];
    listener->acceptor.async_accept(target, [this, listener](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !listener->acceptor.is_open()) return;
      if (ec) return retry_accept(listener, ec);
      listener->failing = false;
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), options, handler, head_handler, deferrals)->start();
      do_accept(listener);
    });
  }

  void retry_accept(const std::shared_ptr<Listener>& listener, beast::error_code ec) {
    if (!listener->failing) spdlog::warn("accept failed: {}; retrying every 100 ms", ec.message());
    listener->failing = true;
    listener->retry.expires_after(std::chrono::milliseconds(100));
    listener->retry.async_wait([this, listener](beast::error_code wec) {
      if (!wec && listener->acceptor.is_open()) do_accept(listener);
    });
  }
};

Server::Server(ServerOptions options, Handler handler, HeadHandler head_handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(head_handler))) {}

Server::~Server() = default;

Status Server::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return make_error(ErrorKind::kInternal, "invalid listen address '" + impl_->options.address + "': " + ec.message());
  tcp::endpoint endpoint{address, impl_->options.port};
  auto& acc = impl_->main->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorKind::kInternal, "cannot listen on " + impl_->options.address + ":" +
                                                std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->do_accept(impl_->main);
  return {};
}

uint16_t Server::port() const {
  beast::error_code ec;
  return impl_->main->acceptor.local_endpoint(ec).port();
}

Result<uint64_t> Server::add_listener(int listen_fd) {
  auto family = listening_family(listen_fd);
  if (!family) {
    ::close(listen_fd);
    return family.error();
  }
  auto listener = std::make_shared<Listener>(*impl_->contexts[0]);
  beast::error_code ec;
  listener->acceptor.assign(*family == AF_INET ? tcp::v4() : tcp::v6(), listen_fd, ec);
  if (ec) {
    ::close(listen_fd);
    return make_error(ErrorKind::kInternal, fmt::format("cannot serve on descriptor {}: {}", listen_fd, ec.message()));
  }
  uint64_t id;
  {
    std::lock_guard lock(impl_->listeners_mutex);
    id = impl_->next_listener_id++;
    impl_->listeners.emplace(id, listener);
  }
  asio::post(*impl_->contexts[0], [this, listener] { impl_->do_accept(listener); });
  return id;
}

void Server::remove_listener(uint64_t id) {
  std::shared_ptr<Listener> listener;
  {
    std::lock_guard lock(impl_->listeners_mutex);
    auto it = impl_->listeners.find(id);
    if (it == impl_->listeners.end()) return;
    listener = std::move(it->second);
    impl_->listeners.erase(it);
  }
  asio::post(*impl_->contexts[0], [listener] { close_listener(*listener); });
}

void Server::stop() {
  asio::post(*impl_->contexts[0], [this] {
    beast::error_code ec;
    close_listener(*impl_->main);
    {
      std::lock_guard lock(impl_->listeners_mutex);
      for (auto& [id, listener] : impl_->listeners) close_listener(*listener);
    }
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
