#include "registry/parse.h"

#include <cctype>
#include <charconv>

#include "core/pagination.h"

namespace gantry::registry {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<HostScope> parse_registry_host(std::string_view host_header) {
  std::string host = lower(host_header);
  std::string_view h = host;
  if (auto colon = h.rfind(':'); colon != std::string_view::npos) {
    if (!number(h.substr(colon + 1))) return std::nullopt;
    h = h.substr(0, colon);
  }
  constexpr std::string_view kSuffix = ".localhost";
  constexpr std::string_view kMiddle = ".dkr.ecr.";
  if (!h.ends_with(kSuffix)) return std::nullopt;
  h.remove_suffix(kSuffix.size());
  auto mid = h.find(kMiddle);
  if (mid != 12) return std::nullopt;
  std::string_view account = h.substr(0, 12);
  std::string_view region = h.substr(12 + kMiddle.size());
  for (char c : account)
    if (c < '0' || c > '9') return std::nullopt;
  if (region.empty() || region.size() > 32 || region.front() == '-' || region.back() == '-') return std::nullopt;
  for (char c : region)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return std::nullopt;
  return HostScope{std::string(account), std::string(region)};
}

std::optional<BasicCredentials> parse_basic_auth(std::string_view value) {
  constexpr std::string_view kScheme = "basic ";
  if (value.size() <= kScheme.size() || lower(value.substr(0, kScheme.size())) != kScheme) return std::nullopt;
  std::string_view encoded = value.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  if (encoded.empty()) return std::nullopt;
  for (char c : encoded)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return std::nullopt;
  auto decoded = base64_decode(encoded);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::optional<ByteRange> parse_content_range(std::string_view v) {
  if (v.starts_with("bytes ")) v.remove_prefix(6);
  else if (v.starts_with("bytes=")) v.remove_prefix(6);
  if (auto slash = v.find('/'); slash != std::string_view::npos) {
    auto total = v.substr(slash + 1);
    if (total != "*" && !number(total)) return std::nullopt;
    v = v.substr(0, slash);
  }
  auto dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto first = number(v.substr(0, dash));
  auto last = number(v.substr(dash + 1));
  if (!first || !last || *first > *last) return std::nullopt;
  return ByteRange{*first, *last};
}

std::optional<ByteRange> parse_range(std::string_view v, uint64_t size) {
  if (!v.starts_with("bytes=")) return std::nullopt;
  v.remove_prefix(6);
  if (v.find(',') != std::string_view::npos) return std::nullopt;
  auto dash = v.find('-');
  if (dash == std::string_view::npos || size == 0) return std::nullopt;
  auto first_text = v.substr(0, dash);
  auto last_text = v.substr(dash + 1);
  if (first_text.empty()) {  // the last N bytes
    auto n = number(last_text);
    if (!n || *n == 0) return std::nullopt;
    uint64_t count = std::min(*n, size);
    return ByteRange{size - count, size - 1};
  }
  auto first = number(first_text);
  if (!first || *first >= size) return std::nullopt;
  if (last_text.empty()) return ByteRange{*first, size - 1};
  auto last = number(last_text);
  if (!last || *last < *first) return std::nullopt;
  return ByteRange{*first, std::min(*last, size - 1)};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view item = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    auto eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    if (key == name) {
      std::string_view raw = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      std::string out;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 && hex_value(raw[i + 2]) >= 0) {
          out.push_back(static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2])));
          i += 2;
        } else if (raw[i] == '+') {
          out.push_back(' ');
        } else {
          out.push_back(raw[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return std::nullopt;
}

}  // namespace gantry::registry
