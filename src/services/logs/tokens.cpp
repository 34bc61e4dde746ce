#include "services/logs/tokens.h"

#include <fmt/format.h>

#include <charconv>

namespace gantry::logs {

namespace {
constexpr size_t kPart = 20;  // digits for each of timestamp and seq

std::optional<int64_t> parse_digits(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}
}  // namespace

std::string encode_event_token(const EventToken& token) {
  return fmt::format("{}/{:0{}}{:0{}}", token.forward ? 'f' : 'b', token.key.timestamp, kPart, token.key.seq, kPart);
}

std::optional<EventToken> decode_event_token(std::string_view text) {
  if (text.size() != 2 + 2 * kPart || text[1] != '/' || (text[0] != 'f' && text[0] != 'b')) return std::nullopt;
  for (char c : text.substr(2))
    if (c < '0' || c > '9') return std::nullopt;
  auto ts = parse_digits(text.substr(2, kPart));
  auto seq = parse_digits(text.substr(2 + kPart));
  if (!ts || !seq) return std::nullopt;
  return EventToken{text[0] == 'f', EventKey{*ts, *seq}};
}

std::string sequence_token(int64_t upload_sequence) { return fmt::format("{:056}", upload_sequence); }

std::string event_id(int64_t seq) { return fmt::format("{:056}", seq); }

}  // namespace gantry::logs
