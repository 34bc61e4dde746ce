#include "events/pattern.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>
#include <set>

namespace gantry::events {

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------------
// Scalars

constexpr double kNumericLimit = 5e9;  // event-ruler compares numbers only inside [-5e9, 5e9]
constexpr std::string_view kNumericRangeReason = "Value must be between -5.0E9 and 5.0E9, inclusive";

std::string_view sv(const json::string& s) { return std::string_view(s.data(), s.size()); }
std::string str(const json::string& s) { return std::string(s.data(), s.size()); }

bool is_number(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double to_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

// Integers compare exactly (account numbers do not round); anything else compares as a double.
bool numbers_equal(const json::value& a, const json::value& b) {
  const bool a_int = a.is_int64() || a.is_uint64();
  const bool b_int = b.is_int64() || b.is_uint64();
  if (a_int && b_int) {
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    const std::int64_t s = a.is_int64() ? a.get_int64() : b.get_int64();
    const std::uint64_t u = a.is_uint64() ? a.get_uint64() : b.get_uint64();
    return s >= 0 && static_cast<std::uint64_t>(s) == u;
  }
  return to_double(a) == to_double(b);
}

bool in_numeric_range(double d) { return d >= -kNumericLimit && d <= kNumericLimit; }

// How event-ruler names a JSON token in its messages (Jackson's getText()).
std::string token_text(const json::value* v) {
  if (v == nullptr) return "]";
  switch (v->kind()) {
    case json::kind::string: return str(v->get_string());
    case json::kind::int64: return std::to_string(v->get_int64());
    case json::kind::uint64: return std::to_string(v->get_uint64());
    case json::kind::double_: {
      std::array<char, 32> buf{};
      auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v->get_double());
      return std::string(buf.data(), r.ptr);
    }
    case json::kind::bool_: return v->get_bool() ? "true" : "false";
    case json::kind::null: return "null";
    case json::kind::array: return "[";
    case json::kind::object: return "{";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------------
// Case folding (equals-ignore-case). Byte length is preserved by every mapping below.

char32_t fold_code_point(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;  // Latin-1
  if (c >= 0x100 && c <= 0x17F) {                           // Latin Extended-A: case pairs
    if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
    if (c == 0x178) return 0xFF;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;  // Greek
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;  // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Decodes the UTF-8 sequence at in[i]; returns its length, or 0 when the byte does not start a valid
// sequence (it is then taken as itself).
std::size_t decode_utf8(std::string_view in, std::size_t i, char32_t& c) {
  const auto b = static_cast<unsigned char>(in[i]);
  std::size_t len = 0;
  if ((b & 0xE0) == 0xC0) {
    len = 2;
    c = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3;
    c = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4;
    c = b & 0x07;
  } else {
    return 0;
  }
  if (i + len > in.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cb = static_cast<unsigned char>(in[i + k]);
    if ((cb & 0xC0) != 0x80) return 0;
    c = (c << 6) | (cb & 0x3F);
  }
  return len;
}

char fold_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Folds `in` to lower case into `out` (cleared first). Bytes that are not valid UTF-8 pass through.
void fold(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      out += fold_ascii(in[i++]);
      continue;
    }
    char32_t c = 0;
    const std::size_t len = decode_utf8(in, i, c);
    if (len == 0) {
      out += in[i++];
      continue;
    }
    const char32_t f = fold_code_point(c);
    if (f == c) {
      out.append(in.substr(i, len));
    } else {
      append_utf8(out, f);
    }
    i += len;
  }
}

// Whether fold(s) == t, for `t` already folded, without building fold(s). Folding keeps every
// character's byte length, so a window of `s` that cuts a character can never compare equal.
bool folds_to(std::string_view s, std::string_view t) {
  if (s.size() != t.size()) return false;
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      if (fold_ascii(s[i]) != t[i]) return false;
      ++i;
      continue;
    }
    char32_t c = 0;
    const std::size_t len = decode_utf8(s, i, c);
    if (len == 0) {
      if (s[i] != t[i]) return false;
      ++i;
      continue;
    }
    const char32_t f = fold_code_point(c);
    if (f == c) {
      if (s.substr(i, len) != t.substr(i, len)) return false;
    } else {
      std::string buf;  // at most 4 bytes: stays in the small-string buffer
      append_utf8(buf, f);
      if (buf != t.substr(i, len)) return false;
    }
    i += len;
  }
  return true;
}

std::string folded(std::string_view in) {
  std::string out;
  fold(in, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// IP addresses (cidr, and exact strings that are address literals). event-ruler only treats as an
// address what looks like one: four dot-separated decimal runs, or hex digits and colons with a colon.

struct Ip {
  std::uint8_t size = 0;  // 4 or 16
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const Ip&) const = default;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool looks_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool looks_ipv6(std::string_view s) {
  bool colon = false;
  for (char c : s) {
    if (c == ':') {
      colon = true;
    } else if (!is_hex(c)) {
      return false;
    }
  }
  return colon;
}

bool looks_ip(std::string_view s) { return looks_ipv4(s) || looks_ipv6(s); }

std::optional<Ip> parse_ipv4(std::string_view s) {
  Ip ip;
  ip.size = 4;
  int part = 0;
  unsigned value = 0;
  bool digits = false;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (!digits || part >= 4) return std::nullopt;
      ip.bytes[static_cast<std::size_t>(part++)] = static_cast<std::uint8_t>(value);
      value = 0;
      digits = false;
    } else if (is_digit(s[i])) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      if (value > 255) return std::nullopt;
      digits = true;
    } else {
      return std::nullopt;
    }
  }
  if (part != 4) return std::nullopt;
  return ip;
}

// Colon-separated groups of 1-4 hex digits; at most 8 of them.
bool parse_groups(std::string_view s, std::array<std::uint16_t, 8>& groups, std::size_t& count) {
  count = 0;
  if (s.empty()) return true;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = s.find(':', start);
    const std::string_view g = s.substr(start, colon == std::string_view::npos ? colon : colon - start);
    if (g.empty() || g.size() > 4 || count == 8) return false;
    unsigned v = 0;
    for (char c : g) {
      if (!is_hex(c)) return false;
      v = v * 16 + static_cast<unsigned>(hex_value(c));
    }
    groups[count++] = static_cast<std::uint16_t>(v);
    if (colon == std::string_view::npos) return true;
    start = colon + 1;
  }
}

std::optional<Ip> parse_ipv6(std::string_view s) {
  std::array<std::uint16_t, 8> head{};
  std::array<std::uint16_t, 8> tail{};
  std::size_t nhead = 0;
  std::size_t ntail = 0;
  const std::size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(s, head, nhead) || nhead != 8) return std::nullopt;
  } else {
    if (s.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    if (!parse_groups(s.substr(0, gap), head, nhead)) return std::nullopt;
    if (!parse_groups(s.substr(gap + 2), tail, ntail)) return std::nullopt;
    if (nhead + ntail > 7) return std::nullopt;
  }
  Ip ip;
  ip.size = 16;
  for (std::size_t i = 0; i < nhead; ++i) {
    ip.bytes[2 * i] = static_cast<std::uint8_t>(head[i] >> 8);
    ip.bytes[2 * i + 1] = static_cast<std::uint8_t>(head[i] & 0xFF);
  }
  for (std::size_t i = 0; i < ntail; ++i) {
    const std::size_t at = 8 - ntail + i;
    ip.bytes[2 * at] = static_cast<std::uint8_t>(tail[i] >> 8);
    ip.bytes[2 * at + 1] = static_cast<std::uint8_t>(tail[i] & 0xFF);
  }
  return ip;
}

// An address literal, or nullopt (also for strings that do not look like one).
std::optional<Ip> parse_ip(std::string_view s) {
  if (looks_ipv4(s)) return parse_ipv4(s);
  if (looks_ipv6(s)) return parse_ipv6(s);
  return std::nullopt;
}

struct Cidr {
  Ip low;
  Ip high;
  bool contains(const Ip& ip) const {
    if (ip.size != low.size) return false;
    const auto n = static_cast<std::ptrdiff_t>(ip.size);
    return !std::lexicographical_compare(ip.bytes.begin(), ip.bytes.begin() + n, low.bytes.begin(),
                                         low.bytes.begin() + n) &&
           !std::lexicographical_compare(high.bytes.begin(), high.bytes.begin() + n, ip.bytes.begin(),
                                         ip.bytes.begin() + n);
  }
};

// event-ruler's CIDR reading, its messages and checks in its order. Java's split("/") drops trailing
// empty pieces, so "10.0.0.0/24/" reads as "10.0.0.0/24"; the mask is a Java int (an optional sign).
std::optional<std::string> parse_cidr(std::string_view text, Cidr& out) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    pieces.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  while (!pieces.empty() && pieces.back().empty()) pieces.pop_back();
  if (pieces.size() != 2) return std::string("Malformed CIDR, one '/' required");

  std::string_view mask_text = pieces[1];
  bool negative = false;
  if (!mask_text.empty() && (mask_text[0] == '+' || mask_text[0] == '-')) {
    negative = mask_text[0] == '-';
    mask_text.remove_prefix(1);
  }
  if (mask_text.empty()) return std::string("Malformed CIDR, mask bits must be an integer");
  long long mask = 0;
  for (char c : mask_text) {
    if (!is_digit(c)) return std::string("Malformed CIDR, mask bits must be an integer");
    mask = mask * 10 + (c - '0');
    if (mask > 2147483648LL) return std::string("Malformed CIDR, mask bits must be an integer");
  }
  if (negative) mask = -mask;
  if (mask > 2147483647LL) return std::string("Malformed CIDR, mask bits must be an integer");
  if (mask < 0) return std::string("Malformed CIDR, mask bits must not be negative");

  const std::string_view address = pieces[0];
  if (!looks_ip(address)) return "Nonstandard IP address: " + std::string(address);
  auto ip = parse_ip(address);
  if (!ip) return "Invalid IP address: " + std::string(address);
  if (ip->size == 4 && mask > 31) return std::string("IPv4 mask bits must be < 32");
  if (ip->size == 16 && mask > 127) return std::string("IPv6 mask bits must be < 128");

  out.low = *ip;
  out.high = *ip;
  const int bits = ip->size * 8;
  for (int bit = static_cast<int>(mask); bit < bits; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto flag = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    out.low.bytes[byte] = static_cast<std::uint8_t>(out.low.bytes[byte] & ~flag);
    out.high.bytes[byte] = static_cast<std::uint8_t>(out.high.bytes[byte] | flag);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------
// Wildcards: `*` matches any run of bytes (empty too); `\*` and `\\` are a literal star and backslash.

constexpr int kStar = 256;  // the wildcard in a token list (other tokens are bytes 0..255)

struct Wildcard {
  std::vector<std::string> parts;  // the literal runs between stars; one part = no star at all

  bool matches(std::string_view s) const {
    if (parts.size() == 1) return s == parts[0];
    const std::string& first = parts.front();
    const std::string& last = parts.back();
    if (s.size() < first.size() + last.size()) return false;
    if (s.substr(0, first.size()) != first || s.substr(s.size() - last.size()) != last) return false;
    std::size_t pos = first.size();
    const std::string_view middle = s.substr(0, s.size() - last.size());
    for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
      if (parts[i].empty()) continue;
      const std::size_t at = middle.find(parts[i], pos);
      if (at == std::string_view::npos) return false;
      pos = at + parts[i].size();
    }
    return true;
  }
};

// Positions in messages count from 1: event-ruler parses the value with its surrounding quote.
std::optional<std::string> parse_wildcard(std::string_view text, Wildcard& out, std::vector<int>* tokens) {
  out.parts.assign(1, std::string());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '*') {
      if (i + 1 < text.size() && text[i + 1] == '*') {
        return "Consecutive wildcard characters at pos " + std::to_string(i + 1);
      }
      out.parts.emplace_back();
      if (tokens != nullptr) tokens->push_back(kStar);
    } else if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '*' || text[i + 1] == '\\')) {
        out.parts.back() += text[i + 1];
        if (tokens != nullptr) tokens->push_back(static_cast<unsigned char>(text[i + 1]));
        ++i;
        continue;
      }
      return "Invalid escape character at pos " + std::to_string(i + 1);
    } else {
      out.parts.back() += c;
      if (tokens != nullptr) tokens->push_back(static_cast<unsigned char>(c));
    }
  }
  return std::nullopt;
}

// How many wildcard pattern prefixes one worst-case value can keep alive at once in a field, after
// event-ruler's MachineComplexityEvaluator: the patterns' byte automaton shares its states up to and
// including each pattern's first wildcard (a trie); after that every pattern has its own states. A state
// weighs the number of patterns still reachable from it; the complexity is the largest total weight of
// a set of states one input reaches. Returns as soon as `limit` is exceeded; explores a bounded number
// of state sets.
int wildcard_complexity(const std::vector<std::vector<int>>& patterns, int limit) {
  struct State {
    std::vector<std::pair<int, int>> next;  // byte → state
    std::vector<int> empty;                 // states entered without a byte (a star matching nothing)
    std::map<int, int> trie;                // shared children (trie states only)
    int star = -1;                          // the shared star state (trie states only)
    bool loop = false;                      // a star: stays on any byte
    int weight = 0;
  };
  std::vector<State> states(1);
  std::array<bool, 256> alphabet{};
  auto add_state = [&states]() {
    states.emplace_back();
    return static_cast<int>(states.size() - 1);
  };
  for (const auto& tokens : patterns) {
    int cur = 0;
    bool shared = true;
    std::vector<int> quoted;
    quoted.reserve(tokens.size() + 2);
    quoted.push_back('"');
    quoted.insert(quoted.end(), tokens.begin(), tokens.end());
    quoted.push_back('"');
    for (int t : quoted) {
      if (t == kStar) {
        if (shared) {
          if (states[static_cast<std::size_t>(cur)].star < 0) {
            const int s = add_state();
            states[static_cast<std::size_t>(s)].loop = true;
            states[static_cast<std::size_t>(cur)].empty.push_back(s);
            states[static_cast<std::size_t>(cur)].star = s;
          }
          cur = states[static_cast<std::size_t>(cur)].star;
          shared = false;
        } else {
          const int s = add_state();
          states[static_cast<std::size_t>(s)].loop = true;
          states[static_cast<std::size_t>(cur)].empty.push_back(s);
          cur = s;
        }
      } else {
        alphabet[static_cast<std::size_t>(t)] = true;
        if (shared) {
          auto& trie = states[static_cast<std::size_t>(cur)].trie;
          auto it = trie.find(t);
          if (it == trie.end()) {
            const int s = add_state();
            states[static_cast<std::size_t>(cur)].trie[t] = s;
            states[static_cast<std::size_t>(cur)].next.emplace_back(t, s);
            cur = s;
          } else {
            cur = it->second;
          }
        } else {
          const int s = add_state();
          states[static_cast<std::size_t>(cur)].next.emplace_back(t, s);
          cur = s;
        }
      }
      ++states[static_cast<std::size_t>(cur)].weight;
    }
  }

  auto close = [&states](std::vector<int>& set) {
    for (std::size_t i = 0; i < set.size(); ++i) {
      for (int e : states[static_cast<std::size_t>(set[i])].empty) {
        if (std::find(set.begin(), set.end(), e) == set.end()) set.push_back(e);
      }
    }
    std::sort(set.begin(), set.end());
  };
  std::vector<int> bytes;
  for (int b = 0; b < 256; ++b) {
    if (alphabet[static_cast<std::size_t>(b)]) bytes.push_back(b);
  }
  bytes.push_back(-1);  // stands for every byte no pattern names

  constexpr std::size_t kMaxSets = 4096;
  std::vector<int> start{0};
  close(start);
  std::set<std::vector<int>> seen{start};
  std::vector<std::vector<int>> pending{start};
  int worst = 0;
  while (!pending.empty() && seen.size() < kMaxSets) {
    const std::vector<int> cur = std::move(pending.back());
    pending.pop_back();
    for (int b : bytes) {
      std::vector<int> next;
      for (int s : cur) {
        const State& st = states[static_cast<std::size_t>(s)];
        if (st.loop) next.push_back(s);
        if (b < 0) continue;
        for (const auto& [byte, to] : st.next) {
          if (byte == b) next.push_back(to);
        }
      }
      if (next.empty()) continue;
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
      close(next);
      int weight = 0;
      for (int s : next) weight += states[static_cast<std::size_t>(s)].weight;
      if (weight > limit) return weight;
      worst = std::max(worst, weight);
      if (seen.insert(next).second) pending.push_back(std::move(next));
    }
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------------
// Compiled leaves

struct Range {
  double low = 0;
  double high = 0;
  bool has_low = false;
  bool has_high = false;
  bool low_open = false;
  bool high_open = false;

  bool contains(double v) const {
    if (has_low && (low_open ? !(v > low) : !(v >= low))) return false;
    if (has_high && (high_open ? !(v < high) : !(v <= high))) return false;
    return true;
  }
};

// A string test of prefix / suffix / equals-ignore-case / wildcard; ignore-case operands are folded.
struct StringTest {
  enum class Kind { kPrefix, kSuffix, kPrefixIgnoreCase, kSuffixIgnoreCase, kEqualsIgnoreCase, kWildcard };
  Kind kind = Kind::kPrefix;
  std::string text;
  Wildcard wildcard;

  bool matches(std::string_view s) const {
    switch (kind) {
      case Kind::kPrefix: return s.substr(0, text.size()) == text;
      case Kind::kSuffix: return s.size() >= text.size() && s.substr(s.size() - text.size()) == text;
      case Kind::kPrefixIgnoreCase: return s.size() >= text.size() && folds_to(s.substr(0, text.size()), text);
      case Kind::kSuffixIgnoreCase:
        return s.size() >= text.size() && folds_to(s.substr(s.size() - text.size()), text);
      case Kind::kEqualsIgnoreCase: return folds_to(s, text);
      case Kind::kWildcard: return wildcard.matches(s);
    }
    return false;
  }
};

// Membership in a sorted set of strings: a scan of equal-length candidates while the set is small.
bool contains(const std::vector<std::string>& set, std::string_view s) {
  if (set.size() <= 8) {
    for (const auto& x : set) {
      // Values often share a prefix ("aws."), so the last byte is the cheap first test.
      if (x.size() == s.size() && (s.empty() || x.back() == s.back()) && x == s) return true;
    }
    return false;
  }
  return std::binary_search(set.begin(), set.end(), s);
}

// anything-but: matches every present value it does not exclude.
struct AnythingBut {
  std::vector<std::string> strings;       // excluded strings (sorted), when there are no tests
  std::vector<json::value> numbers;       // excluded numbers
  std::vector<StringTest> tests;          // excluded when a string passes one of these

  bool excludes_string(std::string_view s) const {
    if (contains(strings, s)) return true;
    for (const auto& t : tests) {
      if (t.matches(s)) return true;
    }
    return false;
  }
  bool excludes_number(const json::value& v) const {
    for (const auto& n : numbers) {
      if (numbers_equal(n, v)) return true;
    }
    return false;
  }
};

struct Leaf {
  std::vector<std::string> strings;  // exact strings, sorted, unique
  std::vector<Ip> ips;               // exact strings that are address literals
  std::vector<json::value> numbers;  // exact numbers
  bool match_true = false;
  bool match_false = false;
  bool match_null = false;
  bool exists = false;  // {"exists": true}
  bool absent = false;  // {"exists": false}
  std::vector<StringTest> tests;
  std::vector<Range> ranges;
  std::vector<Cidr> cidrs;
  std::vector<AnythingBut> anything_buts;

  bool only_exact_strings() const {
    return !strings.empty() && ips.empty() && numbers.empty() && !match_true && !match_false && !match_null &&
           !exists && !absent && tests.empty() && ranges.empty() && cidrs.empty() && anything_buts.empty();
  }

  bool matches_string(std::string_view s) const {
    if (contains(strings, s)) return true;
    if (!ips.empty() || !cidrs.empty()) {
      if (auto ip = parse_ip(s)) {
        for (const auto& want : ips) {
          if (want == *ip) return true;
        }
        for (const auto& c : cidrs) {
          if (c.contains(*ip)) return true;
        }
      }
    }
    for (const auto& t : tests) {
      if (t.matches(s)) return true;
    }
    for (const auto& ab : anything_buts) {
      if (!ab.excludes_string(s)) return true;
    }
    return false;
  }

  bool matches_value(const json::value& v) const {
    if (exists) return true;
    switch (v.kind()) {
      case json::kind::string: {
        return matches_string(sv(v.get_string()));
      }
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_: {
        for (const auto& n : numbers) {
          if (numbers_equal(n, v)) return true;
        }
        if (!ranges.empty()) {
          const double d = to_double(v);
          if (in_numeric_range(d)) {
            for (const auto& r : ranges) {
              if (r.contains(d)) return true;
            }
          }
        }
        for (const auto& ab : anything_buts) {
          if (!ab.excludes_number(v)) return true;
        }
        return false;
      }
      case json::kind::bool_:
        if (v.get_bool() ? match_true : match_false) return true;
        return !anything_buts.empty();
      case json::kind::null:
        return match_null || !anything_buts.empty();
      default:
        return false;
    }
  }

  // `v` is the event's value at the field, or null when the field is missing.
  bool matches_field(const json::value* v) const {
    bool any = false;
    if (v != nullptr && visit(*v, any)) return true;
    return absent && !any;
  }

  // Whether one leaf value under `v` (a scalar, or scalars in arrays) matches; `any` tells whether there
  // was a leaf value at all.
  bool visit(const json::value& v, bool& any) const {
    if (v.is_array()) {
      for (const auto& e : v.get_array()) {
        if (visit(e, any)) return true;
      }
      return false;
    }
    if (v.is_object()) return false;
    any = true;
    return matches_value(v);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Compiled objects

struct EventPattern::Node {
  struct Field {
    std::string key;
    std::unique_ptr<Leaf> leaf;                 // a leaf: an array in the pattern
    std::unique_ptr<EventPattern::Node> child;  // or a nested object
  };
  std::vector<Field> fields;                         // all must match
  std::vector<std::vector<EventPattern::Node>> ors;  // each group: one alternative must match

  // `obj` is the event object at this level, or null for "no object here".
  bool matches(const json::object* obj) const;
};

namespace {

// obj[key] or null. Small objects (every EventBridge envelope) are scanned with the cheapest tests first;
// large ones use boost's index.
const json::value* lookup(const json::object& obj, std::string_view key) {
  if (obj.size() > 16) return obj.if_contains(key);
  for (const auto& kv : obj) {
    const auto k = kv.key();
    if (k.size() == key.size() && (key.empty() || (k[0] == key[0] && k.back() == key.back())) &&
        std::equal(key.begin(), key.end(), k.begin())) {
      return &kv.value();
    }
  }
  return nullptr;
}

bool child_matches(const EventPattern::Node& child, const json::value* v);

// Some object inside `v` (an array, arrays in it flattened) matches; `seen` tells whether there was one.
bool any_element_matches(const EventPattern::Node& child, const json::array& a, bool& seen) {
  for (const auto& e : a) {
    if (e.is_object()) {
      seen = true;
      if (child.matches(&e.get_object())) return true;
    } else if (e.is_array()) {
      if (any_element_matches(child, e.get_array(), seen)) return true;
    }
  }
  return false;
}

bool child_matches(const EventPattern::Node& child, const json::value* v) {
  if (v != nullptr && v->is_object()) return child.matches(&v->get_object());
  if (v != nullptr && v->is_array()) {
    bool seen = false;
    if (any_element_matches(child, v->get_array(), seen)) return true;
    if (seen) return false;
  }
  return child.matches(nullptr);
}

}  // namespace

bool EventPattern::Node::matches(const json::object* obj) const {
  for (const auto& f : fields) {
    const json::value* v = obj != nullptr ? lookup(*obj, f.key) : nullptr;
    if (f.leaf != nullptr) {
      if (!f.leaf->matches_field(v)) return false;
    } else if (!child_matches(*f.child, v)) {
      return false;
    }
  }
  for (const auto& group : ors) {
    bool any = false;
    for (const auto& alt : group) {
      if (alt.matches(obj)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

namespace {

// ---------------------------------------------------------------------------------------------------
// The compiler: walks the parsed document in order, so the first problem reported is the one
// event-ruler's streaming parser meets first.

// Field names event-ruler refuses inside $or (its RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
constexpr std::array<std::string_view, 24> kReservedInOr = {
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric",
    "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case", "date-after",
    "date-on-or-after", "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range",
    "ip-address-not-in-range"};

class Compiler {
 public:
  explicit Compiler(const PatternLimits& limits) : limits_(limits) {}

  bool object(const json::object& obj, EventPattern::Node& node, bool in_or, const std::string& path) {
    if (obj.empty()) return fail("Empty objects are not allowed");
    for (const auto& member : obj) {
      const std::string_view key(member.key().data(), member.key().size());
      if (key == "$or") {
        if (!or_group(member.value(), node, path)) return false;
        continue;
      }
      if (in_or && std::find(kReservedInOr.begin(), kReservedInOr.end(), key) != kReservedInOr.end()) {
        return fail(std::string(key) + " is Ruler reserved fieldName which cannot be used inside $or.");
      }
      const std::string sub = path.empty() ? std::string(key) : path + "." + std::string(key);
      EventPattern::Node::Field field;
      field.key = std::string(key);
      if (member.value().is_object()) {
        field.child = std::make_unique<EventPattern::Node>();
        if (!object(member.value().get_object(), *field.child, in_or, sub)) return false;
      } else if (member.value().is_array()) {
        field.leaf = std::make_unique<Leaf>();
        if (!leaf(member.value().get_array(), *field.leaf, sub)) return false;
      } else {
        return fail("\"" + std::string(key) + "\" must be an object or an array");
      }
      node.fields.push_back(std::move(field));
    }
    // Cheap, selective tests first: exact-only leaves, then other leaves, then nested objects.
    std::stable_sort(node.fields.begin(), node.fields.end(), [](const auto& a, const auto& b) {
      auto rank = [](const EventPattern::Node::Field& f) { return f.leaf == nullptr ? 2 : (f.leaf->only_exact_strings() ? 0 : 1); };
      return rank(a) < rank(b);
    });
    return true;
  }

  bool check_wildcard_complexity() {
    if (limits_.max_wildcard_complexity <= 0) return true;
    for (const auto& [path, texts] : wildcards_) {
      std::vector<std::vector<int>> patterns;
      for (const auto& t : texts) {
        Wildcard w;
        std::vector<int> tokens;
        (void)parse_wildcard(t, w, &tokens);
        patterns.push_back(std::move(tokens));
      }
      if (wildcard_complexity(patterns, limits_.max_wildcard_complexity) > limits_.max_wildcard_complexity) {
        return fail(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
            "sequences after a wildcard character");
      }
    }
    return true;
  }

  const std::string& reason() const { return reason_; }

 private:
  bool fail(std::string reason) {
    reason_ = std::move(reason);
    return false;
  }

  bool or_group(const json::value& v, EventPattern::Node& node, const std::string& path) {
    if (!v.is_array()) return fail("It must be an Array followed with $or.");
    std::vector<EventPattern::Node> alternatives;
    for (const auto& e : v.get_array()) {
      if (!e.is_object()) return fail("Only JSON object is allowed in array of $or relationship.");
      EventPattern::Node alt;
      if (!object(e.get_object(), alt, true, path)) return false;
      alternatives.push_back(std::move(alt));
    }
    if (alternatives.size() < 2) return fail("There must have at least 2 Objects in $or relationship.");
    node.ors.push_back(std::move(alternatives));
    return true;
  }

  bool leaf(const json::array& values, Leaf& out, const std::string& path) {
    for (const auto& v : values) {
      switch (v.kind()) {
        case json::kind::object:
          if (!expression(v.get_object(), out, path)) return false;
          break;
        case json::kind::string: {
          std::string s = str(v.get_string());
          if (auto ip = parse_ip(s)) out.ips.push_back(*ip);
          out.strings.push_back(std::move(s));
          break;
        }
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
          out.numbers.push_back(v);
          break;
        case json::kind::bool_:
          (v.get_bool() ? out.match_true : out.match_false) = true;
          break;
        case json::kind::null:
          out.match_null = true;
          break;
        case json::kind::array:
          return fail("Match value must be String, number, true, false, or null");
      }
    }
    if (values.empty()) return fail("Empty arrays are not allowed");
    std::sort(out.strings.begin(), out.strings.end());
    out.strings.erase(std::unique(out.strings.begin(), out.strings.end()), out.strings.end());
    return true;
  }

  static constexpr std::string_view kOneKey = "Only one key allowed in match expression";
  static constexpr std::string_view kTooMany = "Too many elements in numeric expression";

  bool expression(const json::object& obj, Leaf& out, const std::string& path) {
    if (obj.empty()) return fail("Match expression name not found");
    const auto& first = *obj.begin();
    const std::string_view name(first.key().data(), first.key().size());
    const json::value& v = first.value();
    const bool extra = obj.size() > 1;

    if (name == "exactly") {
      if (!v.is_string()) return fail("exact match pattern must be a string");
      if (extra) return fail(std::string(kOneKey));
      out.strings.push_back(str(v.get_string()));
      return true;
    }
    if (name == "prefix" || name == "suffix") {
      const bool prefix = name == "prefix";
      if (v.is_object()) return affix_ignore_case(v.get_object(), prefix, extra, out);
      if (!v.is_string()) return fail(std::string(name) + " match pattern must be a string");
      if (extra) return fail(std::string(kOneKey));
      StringTest t;
      t.kind = prefix ? StringTest::Kind::kPrefix : StringTest::Kind::kSuffix;
      t.text = str(v.get_string());
      out.tests.push_back(std::move(t));
      return true;
    }
    if (name == "numeric") {
      if (!v.is_array()) return fail("Value of numeric must be an array.");
      Range r;
      if (!numeric(v.get_array(), r)) return false;
      if (extra) return fail(std::string(kTooMany));
      out.ranges.push_back(r);
      return true;
    }
    if (name == "anything-but") {
      AnythingBut ab;
      if (!anything_but(v, ab)) return false;
      if (extra) return fail(std::string(kTooMany));
      out.anything_buts.push_back(std::move(ab));
      return true;
    }
    if (name == "exists") {
      if (!v.is_bool()) return fail("exists match pattern must be either true or false.");
      if (extra) return fail(std::string(kOneKey));
      (v.get_bool() ? out.exists : out.absent) = true;
      return true;
    }
    if (name == "cidr") {
      if (!v.is_string()) return fail("prefix match pattern must be a string");
      Cidr c;
      if (auto problem = parse_cidr(sv(v.get_string()), c)) return fail(std::move(*problem));
      if (extra) return fail(std::string(kOneKey));
      out.cidrs.push_back(c);
      return true;
    }
    if (name == "equals-ignore-case") {
      if (!v.is_string()) return fail("equals-ignore-case match pattern must be a string");
      if (extra) return fail(std::string(kOneKey));
      StringTest t;
      t.kind = StringTest::Kind::kEqualsIgnoreCase;
      t.text = folded(sv(v.get_string()));
      out.tests.push_back(std::move(t));
      return true;
    }
    if (name == "wildcard") {
      if (!v.is_string()) return fail("wildcard match pattern must be a string");
      StringTest t;
      t.kind = StringTest::Kind::kWildcard;
      if (auto problem = parse_wildcard(sv(v.get_string()), t.wildcard, nullptr)) return fail(std::move(*problem));
      if (extra) return fail(std::string(kOneKey));
      wildcards_[path].insert(str(v.get_string()));
      out.tests.push_back(std::move(t));
      return true;
    }
    return fail("Unrecognized match type " + std::string(name));
  }

  // {"prefix": {"equals-ignore-case": "x"}} and the suffix form.
  bool affix_ignore_case(const json::object& inner, bool prefix, bool outer_extra, Leaf& out) {
    const std::string_view what = prefix ? "Prefix" : "Suffix";
    if (inner.empty()) return fail(std::string(what) + " expression name not found");
    const auto& first = *inner.begin();
    const std::string_view op(first.key().data(), first.key().size());
    if (op != "equals-ignore-case") {
      return fail("Unsupported " + std::string(prefix ? "prefix" : "suffix") + " pattern: " + std::string(op));
    }
    if (!first.value().is_string()) return fail("equals-ignore-case match pattern must be a string");
    if (inner.size() > 1 || outer_extra) return fail(std::string(kOneKey));
    StringTest t;
    t.kind = prefix ? StringTest::Kind::kPrefixIgnoreCase : StringTest::Kind::kSuffixIgnoreCase;
    t.text = folded(sv(first.value().get_string()));
    out.tests.push_back(std::move(t));
    return true;
  }

  // event-ruler's numeric grammar: ["=", n], [">"|">=", n], ["<"|"<=", n], [">"|">=", n, "<"|"<=", m].
  bool numeric(const json::array& a, Range& r) {
    auto at = [&a](std::size_t i) -> const json::value* { return i < a.size() ? &a[i] : nullptr; };
    auto number = [](const json::value* p) { return p != nullptr && is_number(*p); };
    const json::value* p0 = at(0);
    if (p0 == nullptr || !p0->is_string()) return fail("Invalid member in numeric match: " + token_text(p0));
    const std::string op = str(p0->get_string());
    const json::value* p1 = at(1);
    if (op == "=") {
      if (!number(p1)) return fail("Value of equals must be numeric");
      if (a.size() > 2) return fail(std::string(kTooMany));
      r.low = r.high = to_double(*p1);
      r.has_low = r.has_high = true;
    } else if (op == ">" || op == ">=") {
      if (!number(p1)) return fail("Value of " + op + " must be numeric");
      r.low = to_double(*p1);
      r.has_low = true;
      r.low_open = op == ">";
      if (a.size() > 2) {
        const json::value* p2 = at(2);
        if (!p2->is_string()) return fail("Bad value in numeric range: " + token_text(p2));
        const std::string op2 = str(p2->get_string());
        if (op2 != "<" && op2 != "<=") return fail("Bad numeric range operator: " + op2);
        const json::value* p3 = at(3);
        if (!number(p3)) return fail("Value of " + op2 + " must be numeric");
        if (a.size() > 4) return fail("Too many terms in numeric range expression");
        r.high = to_double(*p3);
        r.has_high = true;
        r.high_open = op2 == "<";
      }
    } else if (op == "<" || op == "<=") {
      if (!number(p1)) return fail("Value of " + op + " must be numeric");
      if (a.size() > 2) return fail(std::string(kTooMany));
      r.high = to_double(*p1);
      r.has_high = true;
      r.high_open = op == "<";
    } else {
      return fail("Unrecognized numeric range operator: " + op);
    }
    if ((r.has_low && !in_numeric_range(r.low)) || (r.has_high && !in_numeric_range(r.high))) {
      return fail(std::string(kNumericRangeReason));
    }
    if (r.has_low && r.has_high && op != "=" && !(r.low < r.high)) return fail("Bottom must be less than top");
    return true;
  }

  bool anything_but(const json::value& v, AnythingBut& out) {
    enum class Kind { kValues, kEqualsIgnoreCase, kPrefix, kSuffix, kWildcard } kind = Kind::kValues;
    const json::value* operand = &v;
    bool inner_extra = false;
    if (v.is_object()) {
      const json::object& o = v.get_object();
      if (o.empty()) return fail("Anything-But expression name not found");
      const auto& first = *o.begin();
      const std::string_view op(first.key().data(), first.key().size());
      if (op == "equals-ignore-case") {
        kind = Kind::kEqualsIgnoreCase;
      } else if (op == "prefix") {
        kind = Kind::kPrefix;
      } else if (op == "suffix") {
        kind = Kind::kSuffix;
      } else if (op == "wildcard") {
        kind = Kind::kWildcard;
      } else {
        return fail("Unsupported anything-but pattern: " + std::string(op));
      }
      operand = &first.value();
      inner_extra = o.size() > 1;
    }
    if (!operand->is_array() && !operand->is_string() && !is_number(*operand)) {
      return fail("Value of anything-but must be an array or single string/number value.");
    }

    if (kind == Kind::kValues) {
      bool strings = false;
      bool numbers = false;
      auto add = [&](const json::value& e) {
        if (e.is_string()) {
          out.strings.push_back(str(e.get_string()));
          strings = true;
          return true;
        }
        if (is_number(e)) {
          if (!in_numeric_range(to_double(e))) return fail(std::string(kNumericRangeReason));
          out.numbers.push_back(e);
          numbers = true;
          return true;
        }
        return fail("Inside anything but list, start|null|boolean is not supported.");
      };
      if (operand->is_array()) {
        for (const auto& e : operand->get_array()) {
          if (!add(e)) return false;
        }
        if (strings == numbers) {
          return fail(
              "Inside anything but list, either all values are number or string, mixed type is not supported");
        }
      } else if (!add(*operand)) {
        return false;
      }
      std::sort(out.strings.begin(), out.strings.end());
      return true;
    }

    std::vector<const json::value*> items;
    if (operand->is_array()) {
      for (const auto& e : operand->get_array()) items.push_back(&e);
    } else {
      items.push_back(operand);
    }
    for (const json::value* e : items) {
      if (!e->is_string()) {
        if (kind == Kind::kEqualsIgnoreCase) {
          return fail("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.");
        }
        if (kind == Kind::kWildcard) return fail("wildcard match pattern must be a string");
        return fail("prefix/suffix match pattern must be a string");
      }
      if ((kind == Kind::kPrefix || kind == Kind::kSuffix) && e->get_string().empty()) {
        return fail("Null prefix/suffix not allowed");
      }
    }
    for (const json::value* e : items) {
      StringTest t;
      const std::string_view s = sv(e->get_string());
      switch (kind) {
        case Kind::kEqualsIgnoreCase:
          t.kind = StringTest::Kind::kEqualsIgnoreCase;
          t.text = folded(s);
          break;
        case Kind::kPrefix:
          t.kind = StringTest::Kind::kPrefix;
          t.text = std::string(s);
          break;
        case Kind::kSuffix:
          t.kind = StringTest::Kind::kSuffix;
          t.text = std::string(s);
          break;
        case Kind::kWildcard:
          t.kind = StringTest::Kind::kWildcard;
          if (auto problem = parse_wildcard(s, t.wildcard, nullptr)) return fail(std::move(*problem));
          break;
        case Kind::kValues:
          break;
      }
      out.tests.push_back(std::move(t));
    }
    if (inner_extra) return fail(std::string(kTooMany));
    return true;
  }

  PatternLimits limits_;
  std::string reason_;
  std::map<std::string, std::set<std::string>> wildcards_;  // wildcard operands by dotted field path
};

Error invalid(std::string_view reason) {
  std::string message(kInvalidPatternPrefix);
  message += reason;
  return make_error(ErrorKind::kEventsInvalidEventPattern, std::move(message));
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

Result<EventPattern> EventPattern::parse(std::string_view text) { return parse(text, PatternLimits{}); }

Result<EventPattern> EventPattern::parse(std::string_view text, const PatternLimits& limits) {
  if (limits.max_length > 0) {
    const std::size_t length = code_points(text);
    if (length > limits.max_length) {
      return invalid("Event pattern is too long: " + std::to_string(length) + " characters, the limit is " +
                     std::to_string(limits.max_length));
    }
  }
  // event-ruler looks at the first token before anything else.
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return invalid("Filter is not an object");

  json::parse_options options;
  options.max_depth = 256;
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec, json::storage_ptr(), options);
  if (ec) return invalid("Filter is not valid JSON: " + ec.message());

  auto root = std::make_shared<Node>();
  Compiler compiler(limits);
  if (!compiler.object(doc.get_object(), *root, false, "")) return invalid(compiler.reason());
  if (!compiler.check_wildcard_complexity()) return invalid(compiler.reason());
  return EventPattern(std::move(root));
}

bool EventPattern::matches(const json::value& event) const {
  return root_->matches(event.is_object() ? &event.get_object() : nullptr);
}

std::optional<std::vector<std::string>> EventPattern::required_strings(std::string_view field) const {
  for (const auto& f : root_->fields) {
    if (f.key == field && f.leaf != nullptr && f.leaf->only_exact_strings()) return f.leaf->strings;
  }
  return std::nullopt;
}

}  // namespace gantry::events
