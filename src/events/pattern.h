// EventBridge event patterns: the content-filtering language of rules (PutRule's EventPattern) and of
// TestEventPattern. A pattern is parsed and checked once into an immutable matcher; matching an event is
// then a walk of that precompiled form (no JSON re-parsing, no regular expressions, no allocation).
//
// The language (AWS's user guide, "Creating event patterns" and "Comparison operators"):
// - A pattern is a non-empty JSON object. A member whose value is an object descends into the event; a
//   member whose value is an array is a leaf: the event's value at that path must match one element of
//   the array. Members are ANDed; the elements of one array are ORed.
// - Leaf elements: a string, number, true, false or null (an exact match), or an operator object with one
//   key: prefix, suffix (each a string, or {"equals-ignore-case": string}), equals-ignore-case, wildcard,
//   anything-but, numeric, exists, cidr, and exactly (an exact string match, an event-ruler spelling).
// - "$or": [ {...}, {...}, ... ] (two objects at least) at any object level: the enclosing object matches
//   when its other members match and at least one of the $or objects matches the same event object.
//
// Matching (as AWS's event-ruler does it):
// - The event value at a path is the set of its leaf values: a scalar, or every scalar element of an array
//   (arrays within arrays flattened). An object is not a leaf value. A leaf matches when any value in the
//   set matches any element of the pattern's array.
// - Where the event holds an array of objects, a nested pattern matches when one element (one object)
//   matches all of it: fields matched together always come from the same array element.
// - Exact strings are compared byte for byte (case-sensitive). Numbers compare by value (5 matches 5.0 and
//   5e0), never a string ("5" is not 5). true, false and null match only themselves ("" is not null).
//   An exact string that is an IP address literal matches any spelling of the same address.
// - prefix, suffix, equals-ignore-case, wildcard and cidr match only string values; numeric matches only
//   number values inside [-5e9, 5e9].
// - anything-but matches any value (of any type) that is present and not excluded; it never matches a
//   missing field. Its prefix/suffix/equals-ignore-case/wildcard forms exclude only strings.
// - exists: true matches when the path holds at least one leaf value (null counts; an object or an empty
//   array does not); exists: false matches when it holds none.
//
// Where Gantry chose (AWS's documentation is silent or event-ruler's behaviour is an accident):
// - Keys are literal: the pattern key "a.b" does not reach the event path a → b (event-ruler joins paths
//   with dots and so conflates the two; its README says not to rely on it).
// - A field named both at an object's level and inside its $or objects must match at both (a logical AND;
//   event-ruler lets the $or object's copy replace the outer one).
// - exists: false below an array of objects is judged per element, like every other field.
// - Numbers are compared as doubles (integers exactly); event-ruler keeps six decimal places.
// - equals-ignore-case folds ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters.
// - Parse errors carry AWS's reason text without the Jackson location suffix (" at [Source: ...]").
//
// Thread-safety: an EventPattern is immutable after parse; every const member may be called concurrently.
// Copies share the compiled form.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace gantry::events {

// Limits applied by parse. The defaults are AWS's documented values.
struct PatternLimits {
  // "Event pattern size" quota: at most this many characters (Unicode code points) of pattern text.
  // 0 disables the check.
  std::size_t max_length = 2048;
  // The wildcard "complexity" above which AWS refuses a rule: the largest number of wildcard pattern
  // prefixes a single worst-case value can keep alive at once, per field (event-ruler's measure, which
  // AWS does not publish; 10 is the observed threshold). 0 disables the check.
  int max_wildcard_complexity = 10;
};

class EventPattern {
 public:
  // Parses a pattern document (JSON text) and compiles it.
  // Errors: ErrorKind::kEventsInvalidEventPattern, message "Event pattern is not valid. Reason: <reason>"
  // with event-ruler's reason text, e.g. "Empty arrays are not allowed", "\"x\" must be an object or an
  // array", "Unrecognized match type foo", "Value of > must be numeric", "Malformed CIDR, one '/'
  // required", "Consecutive wildcard characters at pos 3", "There must have at least 2 Objects in $or
  // relationship.".
  static Result<EventPattern> parse(std::string_view text);
  static Result<EventPattern> parse(std::string_view text, const PatternLimits& limits);

  // Whether `event` (a JSON object as EventBridge sees it: version, id, detail-type, source, account,
  // time, region, resources, detail) matches. A value that is not an object is matched as an empty
  // object. Never fails; thread-safe.
  bool matches(const boost::json::value& event) const;

  // An index hint for a bus holding many rules. When every event this pattern matches must hold, at the
  // top-level member `field`, a string (or an array with a string) equal to one of a fixed set, returns
  // that set (sorted, without duplicates); otherwise nullopt. E.g. {"source": ["a", "b"], ...} gives
  // {"a", "b"} for "source". A bus may skip the rule for events whose `field` holds none of them.
  std::optional<std::vector<std::string>> required_strings(std::string_view field) const;

  struct Node;  // the compiled form (pattern.cpp)

 private:
  explicit EventPattern(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

// The prefix of every parse error message.
inline constexpr std::string_view kInvalidPatternPrefix = "Event pattern is not valid. Reason: ";

}  // namespace gantry::events
