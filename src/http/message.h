// Gantry's own HTTP request/response types: what the edge hands to routing. Beast stays inside
// server.cpp so the rest of the code base compiles without it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"

namespace gantry::http {

struct Request {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // raw request-target: path[?query]
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in arrival order
  std::string body;
  std::string remote_address;

  std::string_view path() const;
  std::string_view query() const;  // without '?', empty when absent
  // First header with this (lower-case) name; empty when absent.
  std::string_view header(std::string_view lower_name) const;
  bool has_header(std::string_view lower_name) const;
};

// Bytes [offset, offset + length) of an open file, sent as a response body without holding them in
// memory. Owns `fd` and closes it when the last Response sharing it is gone.
class FileBody {
 public:
  FileBody(int fd, uint64_t offset, uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;

  int fd() const { return fd_; }
  uint64_t offset() const { return offset_; }
  uint64_t length() const { return length_; }

 private:
  int fd_;
  uint64_t offset_;
  uint64_t length_;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is these file bytes and `body` is ignored. Content-Length is the range's
  // length; for HEAD only the headers go out.
  std::shared_ptr<FileBody> file;

  // Set when the answer is not ready yet (Lambda's Invoke): the server calls it once, on the
  // connection's I/O thread, instead of sending anything, and the I/O thread moves on; `respond` must then
  // be called exactly once, from any thread, with the real answer. No read timeout runs meanwhile.
  std::function<void(std::function<void(Response)> respond)> later;

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// Receives a request body chunk by chunk as it arrives, so a body of any size passes through bounded
// memory. Called on the connection's I/O thread, one call at a time, never after finish() or fail().
// Destroyed without finish() or fail() when the client goes away mid-body: the destructor undoes
// whatever must not survive an incomplete body. Methods must not throw.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // The next bytes of the body, in order. An error stops reading: the server answers fail(error) and
  // closes the connection (the rest of the body is drained and dropped).
  virtual Status write(std::string_view chunk) = 0;
  // The whole body arrived; the answer to send.
  virtual Response finish() = 0;
  // The answer to a failed write().
  virtual Response fail(const Error& error) = 0;
};

// What the head handler decides once a request's headers have arrived and before its body is read:
//  - std::monostate: read the body whole (up to ServerOptions::body_limit) and call the Handler;
//  - a Response: answer now without reading the body (a pending body is drained and the connection
//    closed after the answer);
//  - a BodySink: stream the body into it (no size limit at this layer: the sink enforces its own);
//  - a BodyLimit: read the body whole, as for std::monostate, up to this limit instead.
struct BodyLimit {
  size_t bytes = 0;
};
using HeadDecision = std::variant<std::monostate, Response, std::unique_ptr<BodySink>, BodyLimit>;

// Called once per request on an I/O thread. Must not block for long and must not throw.
using Handler = std::function<Response(Request&)>;
// Called with the request line and headers only (`body` is empty). Same rules as Handler.
using HeadHandler = std::function<HeadDecision(Request&)>;

}  // namespace gantry::http
