// The request headers the registry reads, parsed strictly: anything malformed is nullopt, never a
// guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::registry {

struct HostScope {
  std::string account;
  std::string region;
};

// "ACCOUNT.dkr.ecr.REGION.localhost[:port]" (ACCOUNT: 12 digits; REGION: lowercase letters, digits
// and '-'; case-insensitive) → its account and region. Any other host → nullopt (the caller uses the
// server's defaults).
std::optional<HostScope> parse_registry_host(std::string_view host);

struct BasicCredentials {
  std::string user;
  std::string password;
};

// "Basic base64(user:password)" (scheme case-insensitive) → the pair; anything else → nullopt.
std::optional<BasicCredentials> parse_basic_auth(std::string_view authorization);

// A byte range [first, last] (inclusive, as HTTP writes them).
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

// The Content-Range of a chunked upload PATCH: "first-last", optionally with a "bytes " prefix and a
// "/total" or "/*" suffix (clients send all three forms). first <= last required.
std::optional<ByteRange> parse_content_range(std::string_view value);

// A Range request header: "bytes=first-last", "bytes=first-" or "bytes=-suffix" (one range only),
// resolved against a blob of `size` bytes. nullopt: malformed or not satisfiable (answer 416).
std::optional<ByteRange> parse_range(std::string_view value, uint64_t size);

// One parameter of a URL query string, percent-decoded; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace gantry::registry
