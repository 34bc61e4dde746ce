// Gantry's own HTTP request/response types: what the edge hands to routing. Beast stays inside
// server.cpp so the rest of the code base compiles without it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// Called once per request on an I/O thread. Must not block for long and must not throw.
using Handler = std::function<Response(Request&)>;

}  // namespace gantry::http
