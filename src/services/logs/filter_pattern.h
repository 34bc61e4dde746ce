// CloudWatch Logs filter patterns for FilterLogEvents.
//
// Text form: space-separated terms that must all appear in the message ("ERROR Exception"), "quoted
// phrases" matched as written (a backslash escapes a quote or a backslash inside), -term exclusions
// and ?term alternatives (at least one of them must appear). Matching is case-sensitive, as in AWS. An
// empty pattern matches every event.
//
// JSON form, for messages that are JSON: { SELECTOR OP VALUE } with selectors $.a.b[0].c, OP one of
// = != (strings, with * wildcards, or numbers) and < <= > >= (numbers), or SELECTOR IS TRUE|FALSE|NULL,
// SELECTOR NOT EXISTS; conditions joined with && and || (&& binds tighter) and grouped with ( ).
//
// Space-delimited ([a, b]) and regular-expression (%re%) patterns are refused, so they never silently
// match nothing.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace gantry::logs {

// One node of a JSON pattern: a comparison (op set) or && / || over children.
struct JsonCondition {
  enum class Kind { kAnd, kOr, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<JsonCondition> children;                  // kAnd, kOr
  std::vector<std::variant<std::string, size_t>> path;  // member names and array indexes
  std::string op;                                       // = != < <= > >= IS NOT_EXISTS
  std::string text;              // string operand (may hold * wildcards), or TRUE / FALSE / NULL for IS
  std::optional<double> number;  // numeric operand

  bool matches(const boost::json::value& doc) const;
};

struct FilterPattern {
  std::vector<std::string> required;  // every one must appear
  std::vector<std::string> excluded;  // none may appear
  std::vector<std::string> any_of;    // when not empty, at least one must appear
  std::optional<JsonCondition> json;  // a JSON pattern: the message must be JSON and match it

  bool matches(std::string_view message) const;
};

// Parses `text`; a kLogsInvalidParameter error names what is wrong with it.
Result<FilterPattern> parse_filter_pattern(std::string_view text);

}  // namespace gantry::logs
