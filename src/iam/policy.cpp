#include "iam/policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/arn.h"

namespace gantry::iam {

namespace json = boost::json;

namespace {

constexpr std::string_view kSyntaxError = "Syntax errors in policy.";
constexpr std::string_view kVendorError = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
constexpr std::string_view kVersion2012 = "2012-10-17";
constexpr std::string_view kVersion2008 = "2008-10-17";

Error malformed(std::string_view reason) { return make_error(ErrorKind::kValidation, std::string(reason)); }

char lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_char(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower_char(a[i]) != lower_char(b[i])) return false;
  }
  return true;
}

bool is_account_id(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// --- Glob matching ---------------------------------------------------------------------------------

struct Segment {
  Pattern::PieceKind kind;
  std::string_view text;
};

// Wildcard match over literal runs, `*` and `?`, backtracking only to the most recent `*` (enough,
// because a later `*` can absorb whatever an earlier one would have): O(pattern * text) at worst.
template <class Pieces>
bool match_pieces(const Pieces& pieces, std::string_view text) {
  const size_t n = pieces.size();
  size_t p = 0;
  size_t t = 0;
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  while (true) {
    if (p < n) {
      const auto& piece = pieces[p];
      if (piece.kind == Pattern::PieceKind::kAnyString) {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (piece.kind == Pattern::PieceKind::kAnyChar) {
        if (t < text.size()) {
          ++p;
          ++t;
          continue;
        }
      } else {
        std::string_view lit = piece.text;
        if (text.size() - t >= lit.size() && text.compare(t, lit.size(), lit) == 0) {
          ++p;
          t += lit.size();
          continue;
        }
      }
    } else if (t == text.size()) {
      return true;
    }
    if (star_p == std::string_view::npos || star_t >= text.size()) return false;
    t = ++star_t;
    p = star_p + 1;
  }
}

// --- Scalar values of conditions --------------------------------------------------------------------

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int> digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days from 1970-01-01 to a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Epoch seconds are taken up to the end of year 9999, the last an ISO 8601 date below can name, so their
// milliseconds always fit in an int64 (a policy may hold any JSON number, e.g. 1e300).
constexpr double kMaxEpochSeconds = 253402300800.0;  // 10000-01-01T00:00:00Z

// ISO 8601 (2024-01-02, 2024-01-02T03:04Z, 2024-01-02T03:04:05.678+01:00, ...) or epoch seconds.
std::optional<std::int64_t> parse_date_millis(std::string_view s) {
  if (!s.empty() && s.find('-') == std::string_view::npos) {
    auto seconds = parse_number(s);
    if (!seconds || !std::isfinite(*seconds) || *seconds >= kMaxEpochSeconds) return std::nullopt;
    return static_cast<std::int64_t>(*seconds * 1000);
  }
  auto year = digits(s, 0, 4);
  auto month = digits(s, 5, 2);
  auto day = digits(s, 8, 2);
  if (!year || !month || !day || s[4] != '-' || s[7] != '-' || *month < 1 || *month > 12 || *day < 1 ||
      *day > 31) {
    return std::nullopt;
  }
  std::int64_t millis = days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) *
                        86400000;
  if (s.size() == 10) return millis;
  if (s[10] != 'T' && s[10] != 't') return std::nullopt;
  auto hour = digits(s, 11, 2);
  auto minute = digits(s, 14, 2);
  if (!hour || !minute || s.size() < 16 || s[13] != ':' || *hour > 23 || *minute > 59) return std::nullopt;
  millis += (*hour * 3600LL + *minute * 60LL) * 1000;
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    auto second = digits(s, pos + 1, 2);
    if (!second || *second > 60) return std::nullopt;
    millis += *second * 1000LL;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int scale = 100;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        millis += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
  }
  if (pos == s.size()) return millis;  // no zone: UTC
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return millis;
  if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
    auto oh = digits(s, pos + 1, 2);
    auto om = digits(s, pos + 4, 2);
    if (!oh || !om) return std::nullopt;
    std::int64_t offset = (*oh * 3600LL + *om * 60LL) * 1000;
    return s[pos] == '+' ? millis - offset : millis + offset;
  }
  return std::nullopt;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (iequals(s, "true")) return true;
  if (iequals(s, "false")) return false;
  return std::nullopt;
}

// An address ("10.0.0.1", "2001:db8::1") or a CIDR range ("10.0.0.0/8"); host bits are ignored.
std::optional<IpRange> parse_ip(std::string_view s) {
  IpRange r;
  std::string addr(s);
  std::optional<int> prefix;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    addr = std::string(s.substr(0, slash));
    std::string_view bits = s.substr(slash + 1);
    int v = 0;
    auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), v);
    if (bits.empty() || ec != std::errc() || ptr != bits.data() + bits.size()) return std::nullopt;
    prefix = v;
  }
  if (inet_pton(AF_INET, addr.c_str(), r.bytes) == 1) {
    r.v6 = false;
    r.prefix = prefix.value_or(32);
    if (r.prefix < 0 || r.prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, addr.c_str(), r.bytes) == 1) {
    r.v6 = true;
    r.prefix = prefix.value_or(128);
    if (r.prefix < 0 || r.prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return r;
}

bool ip_in_range(const IpRange& range, const IpRange& ip) {
  if (range.v6 != ip.v6) return false;
  int full = range.prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (range.bytes[i] != ip.bytes[i]) return false;
  }
  int rest = range.prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (range.bytes[full] & mask) == (ip.bytes[full] & mask);
}

// The six colon-separated fields of an ARN (the last keeps its colons); nullopt for fewer than six.
std::optional<std::array<std::string_view, 6>> split_arn(std::string_view s) {
  std::array<std::string_view, 6> parts;
  for (size_t i = 0; i < 5; ++i) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    parts[i] = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  parts[5] = s;
  return parts;
}

// --- Condition operators ----------------------------------------------------------------------------

struct OperatorInfo {
  std::string_view name;
  ConditionOperator op;
};

constexpr OperatorInfo kOperators[] = {
    {"StringEquals", ConditionOperator::kStringEquals},
    {"StringNotEquals", ConditionOperator::kStringNotEquals},
    {"StringEqualsIgnoreCase", ConditionOperator::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", ConditionOperator::kStringNotEqualsIgnoreCase},
    {"StringLike", ConditionOperator::kStringLike},
    {"StringNotLike", ConditionOperator::kStringNotLike},
    {"ArnEquals", ConditionOperator::kArnEquals},
    {"ArnLike", ConditionOperator::kArnLike},
    {"ArnNotEquals", ConditionOperator::kArnNotEquals},
    {"ArnNotLike", ConditionOperator::kArnNotLike},
    {"NumericEquals", ConditionOperator::kNumericEquals},
    {"NumericNotEquals", ConditionOperator::kNumericNotEquals},
    {"NumericLessThan", ConditionOperator::kNumericLessThan},
    {"NumericLessThanEquals", ConditionOperator::kNumericLessThanEquals},
    {"NumericGreaterThan", ConditionOperator::kNumericGreaterThan},
    {"NumericGreaterThanEquals", ConditionOperator::kNumericGreaterThanEquals},
    {"DateEquals", ConditionOperator::kDateEquals},
    {"DateNotEquals", ConditionOperator::kDateNotEquals},
    {"DateLessThan", ConditionOperator::kDateLessThan},
    {"DateLessThanEquals", ConditionOperator::kDateLessThanEquals},
    {"DateGreaterThan", ConditionOperator::kDateGreaterThan},
    {"DateGreaterThanEquals", ConditionOperator::kDateGreaterThanEquals},
    {"Bool", ConditionOperator::kBool},
    {"IpAddress", ConditionOperator::kIpAddress},
    {"NotIpAddress", ConditionOperator::kNotIpAddress},
    {"Null", ConditionOperator::kNull},
};

enum class Family { kString, kStringIgnoreCase, kStringLike, kArn, kNumeric, kDate, kBool, kIp, kNull };

Family family(ConditionOperator op) {
  using O = ConditionOperator;
  switch (op) {
    case O::kStringEquals:
    case O::kStringNotEquals:
      return Family::kString;
    case O::kStringEqualsIgnoreCase:
    case O::kStringNotEqualsIgnoreCase:
      return Family::kStringIgnoreCase;
    case O::kStringLike:
    case O::kStringNotLike:
      return Family::kStringLike;
    case O::kArnEquals:
    case O::kArnLike:
    case O::kArnNotEquals:
    case O::kArnNotLike:
      return Family::kArn;
    case O::kNumericEquals:
    case O::kNumericNotEquals:
    case O::kNumericLessThan:
    case O::kNumericLessThanEquals:
    case O::kNumericGreaterThan:
    case O::kNumericGreaterThanEquals:
      return Family::kNumeric;
    case O::kDateEquals:
    case O::kDateNotEquals:
    case O::kDateLessThan:
    case O::kDateLessThanEquals:
    case O::kDateGreaterThan:
    case O::kDateGreaterThanEquals:
      return Family::kDate;
    case O::kBool:
      return Family::kBool;
    case O::kIpAddress:
    case O::kNotIpAddress:
      return Family::kIp;
    case O::kNull:
      return Family::kNull;
  }
  return Family::kString;
}

// The comparison a numeric or date operator makes (its Not form compares for equality and is negated by
// the caller, as every negated operator is).
enum class Relation { kEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

Relation relation_of(ConditionOperator op) {
  using O = ConditionOperator;
  switch (op) {
    case O::kNumericLessThan:
    case O::kDateLessThan:
      return Relation::kLess;
    case O::kNumericLessThanEquals:
    case O::kDateLessThanEquals:
      return Relation::kLessEqual;
    case O::kNumericGreaterThan:
    case O::kDateGreaterThan:
      return Relation::kGreater;
    case O::kNumericGreaterThanEquals:
    case O::kDateGreaterThanEquals:
      return Relation::kGreaterEqual;
    default:
      return Relation::kEqual;
  }
}

template <class T>
bool holds(Relation r, T a, T b) {
  switch (r) {
    case Relation::kLess: return a < b;
    case Relation::kLessEqual: return a <= b;
    case Relation::kGreater: return a > b;
    case Relation::kGreaterEqual: return a >= b;
    case Relation::kEqual: break;
  }
  return a == b;
}

bool negated(ConditionOperator op) {
  using O = ConditionOperator;
  switch (op) {
    case O::kStringNotEquals:
    case O::kStringNotEqualsIgnoreCase:
    case O::kStringNotLike:
    case O::kArnNotEquals:
    case O::kArnNotLike:
    case O::kNumericNotEquals:
    case O::kDateNotEquals:
    case O::kNotIpAddress:
      return true;
    default:
      return false;
  }
}

// "ForAnyValue:StringLikeIfExists" -> qualifier, operator, IfExists.
std::optional<Condition> parse_operator_name(std::string_view name) {
  Condition c;
  c.operator_name = std::string(name);
  std::string_view rest = name;
  if (rest.starts_with("ForAnyValue:")) {
    c.qualifier = SetQualifier::kForAnyValue;
    rest.remove_prefix(std::string_view("ForAnyValue:").size());
  } else if (rest.starts_with("ForAllValues:")) {
    c.qualifier = SetQualifier::kForAllValues;
    rest.remove_prefix(std::string_view("ForAllValues:").size());
  }
  if (rest.ends_with("IfExists")) {
    c.if_exists = true;
    rest.remove_suffix(std::string_view("IfExists").size());
  }
  for (const auto& info : kOperators) {
    if (info.name == rest) {
      if (info.op == ConditionOperator::kNull && (c.if_exists || c.qualifier != SetQualifier::kNone)) {
        return std::nullopt;
      }
      c.op = info.op;
      return c;
    }
  }
  return std::nullopt;
}

// --- Parsing ----------------------------------------------------------------------------------------

class Parser {
 public:
  Parser(PolicyKind kind, bool variables) : kind_(kind), variables_(variables) {}

  Result<Statement> statement(const json::value& v) {
    if (!v.is_object()) return malformed(kSyntaxError);
    const json::object& o = v.as_object();
    static constexpr std::string_view kKnown[] = {"Sid",      "Effect",      "Action",    "NotAction",   "Resource",
                                                  "NotResource", "Principal", "NotPrincipal", "Condition"};
    for (const auto& entry : o) {
      if (std::find(std::begin(kKnown), std::end(kKnown), std::string_view(entry.key())) == std::end(kKnown)) {
        return malformed(kSyntaxError);
      }
    }
    Statement s;
    if (const auto* sid = o.if_contains("Sid")) {
      if (!sid->is_string()) return malformed(kSyntaxError);
      s.sid = std::string(sid->as_string());
      auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
      if (kind_ == PolicyKind::kIdentity && !std::all_of(s.sid.begin(), s.sid.end(), alnum)) {
        return malformed("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
                         "expression [0-9A-Za-z]*");
      }
    }

    const auto* effect = o.if_contains("Effect");
    if (effect == nullptr) return malformed("Missing required field Effect");
    if (!effect->is_string()) return malformed(kSyntaxError);
    if (effect->as_string() == "Allow") {
      s.effect = Effect::kAllow;
    } else if (effect->as_string() == "Deny") {
      s.effect = Effect::kDeny;
    } else {
      return malformed("Invalid effect: " + std::string(effect->as_string()));
    }

    const auto* action = o.if_contains("Action");
    const auto* not_action = o.if_contains("NotAction");
    if (action != nullptr && not_action != nullptr) return malformed(kSyntaxError);
    if (action == nullptr && not_action == nullptr) return malformed("Policy statement must contain actions.");
    s.not_action = not_action != nullptr;
    GANTRY_ASSIGN_OR_RETURN(auto action_texts, strings(action != nullptr ? *action : *not_action));
    if (action_texts.empty()) return malformed("Policy statement must contain actions.");
    for (const auto& text : action_texts) {
      if (text != "*") {
        auto colon = text.find(':');
        if (colon == std::string::npos || colon == 0) return malformed(kVendorError);
      }
      s.actions.push_back(Pattern::compile(text, /*wildcards=*/true, /*variables=*/false, /*lower=*/true));
    }

    const auto* resource = o.if_contains("Resource");
    const auto* not_resource = o.if_contains("NotResource");
    if (resource != nullptr && not_resource != nullptr) return malformed(kSyntaxError);
    if (kind_ == PolicyKind::kTrust && resource != nullptr) return malformed("Has prohibited field Resource");
    if (kind_ == PolicyKind::kTrust && not_resource != nullptr) return malformed("Has prohibited field NotResource");
    if (resource == nullptr && not_resource == nullptr) {
      if (kind_ == PolicyKind::kIdentity) return malformed("Policy statement must contain resources.");
    } else {
      s.has_resource = true;
      s.not_resource = not_resource != nullptr;
      GANTRY_ASSIGN_OR_RETURN(auto resource_texts, strings(resource != nullptr ? *resource : *not_resource));
      if (resource_texts.empty()) return malformed("Policy statement must contain resources.");
      for (const auto& text : resource_texts) {
        if (text != "*" && (!text.starts_with("arn:") || !split_arn(text))) {
          return malformed("Resource " + text + " must be in ARN format or \"*\".");
        }
        GANTRY_ASSIGN_OR_RETURN(auto pattern, compile_with_variables(text, /*wildcards=*/true, /*lower=*/false));
        s.resources.push_back(std::move(pattern));
      }
    }

    const auto* principal = o.if_contains("Principal");
    const auto* not_principal = o.if_contains("NotPrincipal");
    if (principal != nullptr && not_principal != nullptr) return malformed(kSyntaxError);
    if (principal != nullptr || not_principal != nullptr) {
      if (kind_ == PolicyKind::kIdentity) return malformed("Policy document should not specify a principal.");
      s.has_principal = true;
      s.not_principal = not_principal != nullptr;
      GANTRY_ASSIGN_OR_RETURN(s.principals, principals(principal != nullptr ? *principal : *not_principal));
    } else if (kind_ != PolicyKind::kIdentity) {
      return malformed("Missing required field Principal");
    }

    if (const auto* condition = o.if_contains("Condition")) {
      GANTRY_ASSIGN_OR_RETURN(s.conditions, conditions(*condition));
    }
    return s;
  }

 private:
  // A string or an array of strings.
  static Result<std::vector<std::string>> strings(const json::value& v) {
    std::vector<std::string> out;
    if (v.is_string()) {
      out.emplace_back(v.as_string());
      return out;
    }
    if (!v.is_array()) return malformed(kSyntaxError);
    for (const auto& item : v.as_array()) {
      if (!item.is_string()) return malformed(kSyntaxError);
      out.emplace_back(item.as_string());
    }
    return out;
  }

  // A condition value: a string, number or boolean, or an array of them; numbers and booleans as text.
  static Result<std::vector<std::string>> scalars(const json::value& v) {
    auto text = [](const json::value& item) -> std::optional<std::string> {
      switch (item.kind()) {
        case json::kind::string:
          return std::string(item.as_string());
        case json::kind::int64:
          return std::to_string(item.as_int64());
        case json::kind::uint64:
          return std::to_string(item.as_uint64());
        case json::kind::double_:
          return fmt::format("{}", item.as_double());
        case json::kind::bool_:
          return std::string(item.as_bool() ? "true" : "false");
        default:
          return std::nullopt;
      }
    };
    std::vector<std::string> out;
    if (v.is_array()) {
      for (const auto& item : v.as_array()) {
        auto t = text(item);
        if (!t) return malformed(kSyntaxError);
        out.push_back(std::move(*t));
      }
    } else {
      auto t = text(v);
      if (!t) return malformed(kSyntaxError);
      out.push_back(std::move(*t));
    }
    if (out.empty()) return malformed(kSyntaxError);
    return out;
  }

  Result<Pattern> compile_with_variables(std::string_view text, bool wildcards, bool lower_text) {
    if (!variables_ && text.find("${") != std::string_view::npos) {
      return malformed("Policy document must be version 2012-10-17 or greater.");
    }
    return Pattern::compile(text, wildcards, variables_, lower_text);
  }

  Result<Principals> principals(const json::value& v) {
    Principals p;
    if (v.is_string()) {
      if (v.as_string() != "*") return malformed("Invalid principal in policy: " + json::serialize(v));
      p.any = true;
      return p;
    }
    if (!v.is_object() || v.as_object().empty()) return malformed(kSyntaxError);
    for (const auto& entry : v.as_object()) {
      const std::string_view type = entry.key();
      auto invalid = [&](std::string_view value) {
        return malformed(fmt::format("Invalid principal in policy: \"{}\":\"{}\"", type, value));
      };
      GANTRY_ASSIGN_OR_RETURN(auto texts, strings(entry.value()));
      if (texts.empty()) return malformed(kSyntaxError);
      for (auto& text : texts) {
        if (type == "AWS") {
          if (text == "*") {
            p.any = true;
          } else if (is_account_id(text)) {
            p.accounts.push_back(text);
          } else if (auto arn = Arn::parse(text); arn && text.find('*') == std::string::npos) {
            if (arn->service == "iam" && arn->resource == "root" && is_account_id(arn->account)) {
              p.accounts.push_back(arn->account);
            } else {
              p.arns.push_back(text);
            }
          } else {
            return invalid(text);
          }
        } else if (type == "Service") {
          if (text.empty() || text.find('*') != std::string::npos) return invalid(text);
          p.services.push_back(lower(text));
        } else if (type == "Federated") {
          if (text.empty()) return invalid(text);
          p.federated.push_back(text);
        } else if (type == "CanonicalUser") {
          if (text.empty()) return invalid(text);
          p.canonical_users.push_back(text);
        } else {
          return invalid(text);
        }
      }
    }
    return p;
  }

  Result<std::vector<Condition>> conditions(const json::value& v) {
    if (!v.is_object()) return malformed(kSyntaxError);
    std::vector<Condition> out;
    for (const auto& [op_name, keys] : v.as_object()) {
      auto parsed = parse_operator_name(op_name);
      if (!parsed) return malformed("Invalid Condition type : " + std::string(op_name));
      if (!keys.is_object() || keys.as_object().empty()) return malformed(kSyntaxError);
      for (const auto& [key, values] : keys.as_object()) {
        const std::string_view name = key;
        auto colon = name.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == name.size()) return malformed(kVendorError);
        Condition c = *parsed;
        c.key = lower(key);
        GANTRY_ASSIGN_OR_RETURN(auto texts, scalars(values));
        for (const auto& text : texts) {
          GANTRY_ASSIGN_OR_RETURN(auto value, condition_value(c, text));
          c.values.push_back(std::move(value));
        }
        out.push_back(std::move(c));
      }
    }
    return out;
  }

  Result<ConditionValue> condition_value(const Condition& c, const std::string& text) {
    ConditionValue v;
    auto invalid = [&] {
      return malformed(fmt::format("Invalid value for condition {} on key {}: {}", c.operator_name, c.key, text));
    };
    switch (family(c.op)) {
      case Family::kString: {
        GANTRY_ASSIGN_OR_RETURN(v.pattern, compile_with_variables(text, false, false));
        break;
      }
      case Family::kStringIgnoreCase: {
        GANTRY_ASSIGN_OR_RETURN(v.pattern, compile_with_variables(text, false, true));
        break;
      }
      case Family::kStringLike: {
        GANTRY_ASSIGN_OR_RETURN(v.pattern, compile_with_variables(text, true, false));
        break;
      }
      case Family::kArn: {
        GANTRY_ASSIGN_OR_RETURN(v.pattern, compile_with_variables(text, true, false));
        if (auto parts = split_arn(text)) {
          for (auto part : *parts) {
            GANTRY_ASSIGN_OR_RETURN(auto pattern, compile_with_variables(part, true, false));
            v.arn_parts.push_back(std::move(pattern));
          }
        }
        break;
      }
      case Family::kNumeric: {
        auto n = parse_number(text);
        if (!n) return invalid();
        v.number = *n;
        break;
      }
      case Family::kDate: {
        auto d = parse_date_millis(text);
        if (!d) return invalid();
        v.millis = *d;
        break;
      }
      case Family::kBool:
      case Family::kNull: {
        auto b = parse_bool(text);
        if (!b) return invalid();
        v.flag = *b;
        break;
      }
      case Family::kIp: {
        auto r = parse_ip(text);
        if (!r) return invalid();
        v.range = *r;
        break;
      }
    }
    return v;
  }

  PolicyKind kind_;
  bool variables_;
};

// --- Evaluation -------------------------------------------------------------------------------------

// Whether one context value matches one policy value, in the positive sense of the operator
// (StringNotEquals compares like StringEquals; the caller negates).
bool value_matches(const Condition& c, const ConditionValue& v, std::string_view ctx, const ContextKeys& keys) {
  switch (family(c.op)) {
    case Family::kString:
    case Family::kStringLike:
      return v.pattern.matches(ctx, keys);
    case Family::kStringIgnoreCase:
      return v.pattern.matches(lower(ctx), keys, /*lower_values=*/true);
    case Family::kArn: {
      if (v.arn_parts.empty()) return v.pattern.matches(ctx, keys);
      auto parts = split_arn(ctx);
      if (!parts) return false;
      for (size_t i = 0; i < 6; ++i) {
        if (!v.arn_parts[i].matches((*parts)[i], keys)) return false;
      }
      return true;
    }
    case Family::kNumeric: {
      auto n = parse_number(ctx);
      return n && holds(relation_of(c.op), *n, v.number);
    }
    case Family::kDate: {
      auto d = parse_date_millis(ctx);
      return d && holds(relation_of(c.op), *d, v.millis);
    }
    case Family::kBool: {
      auto b = parse_bool(ctx);
      return b && *b == v.flag;
    }
    case Family::kIp: {
      auto ip = parse_ip(ctx);
      return ip && ip_in_range(v.range, *ip);
    }
    case Family::kNull:
      return false;
  }
  return false;
}

// One context value against the condition's values: ORed, or NORed for a negated operator.
bool single_value_holds(const Condition& c, std::string_view ctx, const ContextKeys& keys) {
  bool any = std::any_of(c.values.begin(), c.values.end(),
                         [&](const ConditionValue& v) { return value_matches(c, v, ctx, keys); });
  return negated(c.op) ? !any : any;
}

bool condition_holds(const Condition& c, const ContextKeys& keys) {
  auto it = keys.find(c.key);
  const bool present = it != keys.end() && !it->second.empty();
  if (c.op == ConditionOperator::kNull) {
    // {"Null": {"k": "true"}}: k is absent; "false": k is present.
    return std::any_of(c.values.begin(), c.values.end(), [&](const ConditionValue& v) { return v.flag != present; });
  }
  if (!present) {
    if (c.if_exists) return true;
    switch (c.qualifier) {
      case SetQualifier::kForAllValues:
        return true;  // vacuously: every one of no values matches
      case SetQualifier::kForAnyValue:
        return false;
      case SetQualifier::kNone:
        return negated(c.op);  // nothing to match, so it matches none of the values
    }
  }
  const auto& ctx = it->second;
  switch (c.qualifier) {
    case SetQualifier::kForAnyValue:
      return std::any_of(ctx.begin(), ctx.end(), [&](const std::string& x) { return single_value_holds(c, x, keys); });
    case SetQualifier::kForAllValues:
      return std::all_of(ctx.begin(), ctx.end(), [&](const std::string& x) { return single_value_holds(c, x, keys); });
    case SetQualifier::kNone:
      break;
  }
  // No qualifier on a key with several values: positive operators need one value to match, negated
  // operators need no value to match.
  if (negated(c.op)) {
    return std::all_of(ctx.begin(), ctx.end(), [&](const std::string& x) { return single_value_holds(c, x, keys); });
  }
  return std::any_of(ctx.begin(), ctx.end(), [&](const std::string& x) { return single_value_holds(c, x, keys); });
}

enum class PrincipalMatch { kNone, kAccount, kSpecific };

// "arn:aws:iam::A:role/path/name" names the sessions "arn:aws:sts::A:assumed-role/name/<session>".
bool is_session_of_role(std::string_view role_arn, std::string_view principal_arn) {
  auto role = Arn::parse(role_arn);
  auto session = Arn::parse(principal_arn);
  if (!role || !session || role->service != "iam" || session->service != "sts" || role->account != session->account ||
      role->partition != session->partition || !role->resource.starts_with("role/") ||
      !session->resource.starts_with("assumed-role/")) {
    return false;
  }
  std::string_view role_name = role->resource;
  role_name.remove_prefix(role_name.rfind('/') + 1);
  std::string_view rest = std::string_view(session->resource).substr(std::string_view("assumed-role/").size());
  auto slash = rest.find('/');
  return slash != std::string_view::npos && rest.substr(0, slash) == role_name;
}

PrincipalMatch match_principals(const Principals& p, const RequestContext& r) {
  if (p.any) return PrincipalMatch::kSpecific;
  if (!r.principal_arn.empty()) {
    for (const auto& arn : p.arns) {
      if (arn == r.principal_arn || is_session_of_role(arn, r.principal_arn)) return PrincipalMatch::kSpecific;
    }
    for (const auto& f : p.federated) {
      if (f == r.principal_arn) return PrincipalMatch::kSpecific;
    }
    for (const auto& u : p.canonical_users) {
      if (u == r.principal_arn) return PrincipalMatch::kSpecific;
    }
  }
  if (!p.services.empty()) {
    auto it = r.keys.find("aws:principalservicename");
    for (const auto& service : p.services) {
      if (!r.principal_arn.empty() && iequals(service, r.principal_arn)) return PrincipalMatch::kSpecific;
      if (it != r.keys.end() && std::any_of(it->second.begin(), it->second.end(),
                                            [&](const std::string& v) { return iequals(service, v); })) {
        return PrincipalMatch::kSpecific;
      }
    }
  }
  if (!r.principal_account.empty() &&
      std::find(p.accounts.begin(), p.accounts.end(), r.principal_account) != p.accounts.end()) {
    return PrincipalMatch::kAccount;
  }
  return PrincipalMatch::kNone;
}

// How a statement applies: not at all, or with the principal matched by account or specifically
// (identity policies, which name no principal, count as specific).
PrincipalMatch applies(const Statement& s, PolicyKind kind, const RequestContext& r, std::string_view action) {
  bool action_hit = std::any_of(s.actions.begin(), s.actions.end(),
                                [&](const Pattern& p) { return p.matches(action, r.keys); });
  if (action_hit == s.not_action) return PrincipalMatch::kNone;
  if (s.has_resource) {
    bool resource_hit = std::any_of(s.resources.begin(), s.resources.end(),
                                    [&](const Pattern& p) { return p.matches(r.resource, r.keys); });
    if (resource_hit == s.not_resource) return PrincipalMatch::kNone;
  }
  PrincipalMatch how = PrincipalMatch::kSpecific;
  if (kind != PolicyKind::kIdentity && s.has_principal) {
    how = match_principals(s.principals, r);
    if (s.not_principal) how = how == PrincipalMatch::kNone ? PrincipalMatch::kSpecific : PrincipalMatch::kNone;
    if (how == PrincipalMatch::kNone) return how;
  }
  for (const auto& c : s.conditions) {
    if (!condition_holds(c, r.keys)) return PrincipalMatch::kNone;
  }
  return how;
}

DecidingStatement deciding(bool resource_policy, size_t policy_index, const Policy& policy, size_t statement_index) {
  return DecidingStatement{resource_policy, policy_index, policy.name, statement_index,
                           policy.statements[statement_index].sid};
}

// The outcome of one list of policies: the first Deny that applies, else the first Allows that apply
// (split by how the principal matched).
struct Scan {
  std::optional<DecidingStatement> deny;
  std::optional<DecidingStatement> allow;          // identity, or principal named specifically
  std::optional<DecidingStatement> account_allow;  // principal named only by its account
};

Scan scan(const std::vector<const Policy*>& policies, bool resource_policies, const RequestContext& r,
          std::string_view action) {
  Scan out;
  for (size_t pi = 0; pi < policies.size(); ++pi) {
    const Policy* policy = policies[pi];
    if (policy == nullptr) continue;
    for (size_t si = 0; si < policy->statements.size(); ++si) {
      const Statement& s = policy->statements[si];
      if (s.effect == Effect::kAllow && out.allow) continue;  // only a Deny can still change the outcome
      PrincipalMatch how = applies(s, policy->kind, r, action);
      if (how == PrincipalMatch::kNone) continue;
      if (s.effect == Effect::kDeny) {
        out.deny = deciding(resource_policies, pi, *policy, si);
        return out;
      }
      if (how == PrincipalMatch::kSpecific) {
        out.allow = deciding(resource_policies, pi, *policy, si);
      } else if (!out.account_allow) {
        out.account_allow = deciding(resource_policies, pi, *policy, si);
      }
    }
  }
  return out;
}

EvaluationResult explicit_deny(DecidingStatement s) { return {Decision::kExplicitDeny, std::move(s)}; }
EvaluationResult allow(DecidingStatement s) { return {Decision::kAllow, std::move(s)}; }

}  // namespace

// --- Pattern ----------------------------------------------------------------------------------------

Pattern Pattern::compile(std::string_view text, bool wildcards, bool variables, bool lower_text) {
  Pattern p;
  p.source_ = std::string(text);
  auto literal = [&](std::string_view s) {
    if (p.pieces_.empty() || p.pieces_.back().kind != PieceKind::kLiteral) {
      p.pieces_.push_back(Piece{PieceKind::kLiteral, {}, std::nullopt});
    }
    for (char c : s) p.pieces_.back().text += lower_text ? lower_char(c) : c;
  };
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (variables && c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      auto close = text.find('}', i + 2);
      if (close != std::string_view::npos) {
        std::string_view inner = text.substr(i + 2, close - i - 2);
        if (inner == "*" || inner == "?" || inner == "$") {
          literal(inner);
          i = close + 1;
          continue;
        }
        std::string_view key = inner;
        std::optional<std::string> fallback;
        if (auto comma = inner.find(','); comma != std::string_view::npos) {
          key = inner.substr(0, comma);
          std::string_view def = trim(inner.substr(comma + 1));
          if (def.size() >= 2 && def.front() == '\'' && def.back() == '\'') {
            fallback = std::string(def.substr(1, def.size() - 2));
          } else {
            key = {};  // not a variable we understand: keep the text literal
          }
        }
        key = trim(key);
        if (!key.empty()) {
          p.pieces_.push_back(Piece{PieceKind::kVariable, lower(key), std::move(fallback)});
          p.has_variables_ = true;
          p.plain_ = false;
          i = close + 1;
          continue;
        }
      }
    }
    if (wildcards && (c == '*' || c == '?')) {
      if (c == '*' && !p.pieces_.empty() && p.pieces_.back().kind == PieceKind::kAnyString) {
        ++i;
        continue;
      }
      p.pieces_.push_back(Piece{c == '*' ? PieceKind::kAnyString : PieceKind::kAnyChar, {}, std::nullopt});
      p.plain_ = false;
    } else {
      literal(text.substr(i, 1));
    }
    ++i;
  }
  if (p.plain_ && !p.pieces_.empty()) p.literal_ = p.pieces_.front().text;
  return p;
}

bool Pattern::matches(std::string_view text, const ContextKeys& keys, bool lower_values) const {
  if (plain_) return text == literal_;
  if (!has_variables_) return match_pieces(pieces_, text);
  std::vector<std::string> lowered;
  lowered.reserve(pieces_.size());  // views below point into it: it must never reallocate
  std::vector<Segment> segments;
  segments.reserve(pieces_.size());
  for (const auto& piece : pieces_) {
    if (piece.kind != PieceKind::kVariable) {
      segments.push_back(Segment{piece.kind, piece.text});
      continue;
    }
    std::string_view value;
    auto it = keys.find(piece.text);
    if (it != keys.end() && it->second.size() == 1) {
      value = it->second.front();
    } else if (piece.fallback) {
      value = *piece.fallback;
    } else {
      return false;
    }
    if (lower_values) {
      lowered.push_back(lower(value));
      value = lowered.back();
    }
    segments.push_back(Segment{PieceKind::kLiteral, value});
  }
  return match_pieces(segments, text);
}

bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  while (true) {
    if (p < pattern.size()) {
      char c = pattern[p];
      if (c == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (t < text.size() && (c == '?' || c == text[t])) {
        ++p;
        ++t;
        continue;
      }
    } else if (t == text.size()) {
      return true;
    }
    if (star_p == std::string_view::npos || star_t >= text.size()) return false;
    t = ++star_t;
    p = star_p + 1;
  }
}

// --- Policies ---------------------------------------------------------------------------------------

Result<Policy> parse_policy(std::string_view document, PolicyKind kind) {
  boost::system::error_code ec;
  json::value root = json::parse(document, ec);
  if (ec || !root.is_object()) return malformed(kSyntaxError);
  const json::object& o = root.as_object();
  for (const auto& entry : o) {
    const std::string_view key = entry.key();
    if (key != "Version" && key != "Id" && key != "Statement") return malformed(kSyntaxError);
  }
  Policy policy;
  policy.kind = kind;
  policy.version = std::string(kVersion2008);
  if (const auto* version = o.if_contains("Version")) {
    if (!version->is_string()) return malformed(kSyntaxError);
    if (version->as_string() != kVersion2012 && version->as_string() != kVersion2008) return malformed(kSyntaxError);
    policy.version = std::string(version->as_string());
  }
  if (const auto* id = o.if_contains("Id")) {
    if (!id->is_string()) return malformed(kSyntaxError);
    policy.id = std::string(id->as_string());
  }
  const auto* statements = o.if_contains("Statement");
  if (statements == nullptr) return malformed("Missing required field Statement");

  Parser parser(kind, policy.version == kVersion2012);
  std::set<std::string> sids;
  auto add = [&](const json::value& v) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto statement, parser.statement(v));
    if (!statement.sid.empty() && !sids.insert(statement.sid).second) {
      return malformed("Statement IDs (SID) in a single policy must be unique.");
    }
    policy.statements.push_back(std::move(statement));
    return {};
  };
  if (statements->is_array()) {
    for (const auto& v : statements->as_array()) GANTRY_RETURN_IF_ERROR(add(v));
  } else {
    GANTRY_RETURN_IF_ERROR(add(*statements));
  }
  return policy;
}

bool statement_applies(const Statement& statement, PolicyKind kind, const RequestContext& request) {
  return applies(statement, kind, request, lower(request.action)) != PrincipalMatch::kNone;
}

EvaluationResult evaluate(const std::vector<const Policy*>& identity, const RequestContext& request) {
  const std::string action = lower(request.action);
  Scan ids = scan(identity, false, request, action);
  if (ids.deny) return explicit_deny(std::move(*ids.deny));
  if (ids.allow) return allow(std::move(*ids.allow));
  return {};
}

EvaluationResult evaluate(const std::vector<const Policy*>& identity, const std::vector<const Policy*>& resource,
                          const RequestContext& request) {
  const std::string action = lower(request.action);
  Scan ids = scan(identity, false, request, action);
  if (ids.deny) return explicit_deny(std::move(*ids.deny));
  Scan res = scan(resource, true, request, action);
  if (res.deny) return explicit_deny(std::move(*res.deny));

  std::string resource_account = request.resource_account;
  if (resource_account.empty()) {
    if (auto arn = Arn::parse(request.resource)) resource_account = arn->account;
  }
  // A service principal belongs to no account: what its resource policy grants is all it gets.
  const bool same_account = resource_account.empty() || request.principal_account.empty() ||
                            resource_account == request.principal_account;
  if (same_account) {
    if (ids.allow) return allow(std::move(*ids.allow));
    if (res.allow) return allow(std::move(*res.allow));
    return {};
  }
  if (ids.allow && (res.allow || res.account_allow)) return allow(std::move(*ids.allow));
  return {};
}

EvaluationResult evaluate_trust(const std::vector<const Policy*>& identity, const std::vector<const Policy*>& trust,
                                const RequestContext& request) {
  const std::string action = lower(request.action);
  Scan ids = scan(identity, false, request, action);
  if (ids.deny) return explicit_deny(std::move(*ids.deny));
  Scan res = scan(trust, true, request, action);
  if (res.deny) return explicit_deny(std::move(*res.deny));
  if (res.allow) return allow(std::move(*res.allow));
  if (res.account_allow && ids.allow) return allow(std::move(*ids.allow));
  return {};
}

}  // namespace gantry::iam
