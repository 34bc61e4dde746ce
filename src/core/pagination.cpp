#include "core/pagination.h"

#include <array>
#include <cstdint>

namespace gantry {

namespace {
constexpr std::string_view kStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kVersion = '1';
}  // namespace

std::string base64_encode(std::string_view in, bool url_safe) {
  std::string_view alphabet = url_safe ? kUrl : kStd;
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    if (i + 1 < in.size()) {
      out.push_back(alphabet[(n >> 6) & 63]);
    } else if (!url_safe) {
      out.push_back('=');
    }
    if (!url_safe) out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (size_t i = 0; i < 64; ++i) {
    value[static_cast<uint8_t>(kStd[i])] = static_cast<int>(i);
    value[static_cast<uint8_t>(kUrl[i])] = static_cast<int>(i);
  }
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value[static_cast<uint8_t>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string encode_page_token(std::string_view listing, std::string_view last_key) {
  std::string raw;
  raw.push_back(kVersion);
  raw += listing;
  raw.push_back('\n');
  raw += last_key;
  return base64_encode(raw, true);
}

std::optional<std::string> decode_page_token(std::string_view listing, std::string_view token) {
  if (token.empty() || token.size() > 4096) return std::nullopt;
  auto raw = base64_decode(token);
  if (!raw || raw->size() < listing.size() + 2 || (*raw)[0] != kVersion) return std::nullopt;
  if (std::string_view(*raw).substr(1, listing.size()) != listing || (*raw)[listing.size() + 1] != '\n')
    return std::nullopt;
  return raw->substr(listing.size() + 2);
}

}  // namespace gantry
