// EventBridge target input: what a rule target's Input, InputPath and InputTransformer make of a
// matched event before it is delivered. PutTargets parses a target's InputPath and InputTransformer
// once (JsonPath::parse, InputTransformer::parse); each delivery calls render().
//
// Pure: no I/O, no clock, no shared state. Parsed values are immutable and safe to share between
// threads.
//
// What follows AWS (documented, or recorded against AWS by public test suites) and where Gantry chose:
// - Every rejected input is kValidation, except a non-string InputPathsMap value (kSerialization,
//   a shape error). Limits are those of the EventBridge model: InputPathsMap has at most 100 entries,
//   keys are 1..256 characters of [A-Za-z0-9_-], paths are 1..256 characters, InputTemplate is
//   1..8192 characters (characters are Unicode code points of the UTF-8 text). Limit messages take
//   the "1 validation error detected: ..." form of AWS model validation, without the target's index.
// - The reserved variables aws.events.rule-arn, aws.events.rule-name, aws.events.event,
//   aws.events.event.json and aws.events.event.ingestion-time can be used without a path. They can
//   never be redefined: they contain '.', which the key pattern refuses.
// - A placeholder is `<` up to the next `>` (AWS: `<` and `>` cannot be escaped); a `<` with no `>`
//   after it (or with another `<` first) is plain text. A placeholder whose name is neither a key of
//   InputPathsMap nor a reserved variable is refused with AWS's message
//   "InputTemplate for target <id> contains invalid placeholder <name>.".
// - The template is read as JSON text whatever it looks like: a placeholder inside a double-quoted
//   string literal is replaced by the value's text, escaped so the literal stays valid (a string
//   without its quotes; a number, boolean or null as written; an object or array as compact JSON with
//   its double quotes removed, as AWS documents); a placeholder outside quotes is replaced by the
//   value's compact JSON (a string with its quotes). The template's own text is kept as written. So
//   the string template "instance <id> is <state>" (quotes included) delivers
//   "instance i-1 is RUNNING", quotes included; {"id": <id>} delivers {"id": "i-1"}; and the unquoted
//   text <id> is up delivers "i-1" is up (AWS: "For Strings, quotes are required").
// - A path that matches nothing gives the empty string: nothing inside quotes, `""` outside (AWS,
//   as recorded: {"command": <command>} with $.detail.command absent delivers {"command": ""}).
//   A path that matches a JSON null gives `null` (its text, inside quotes).
// - JSON template: one whose first non-whitespace character is `{` (AWS: "If InputTemplate is a JSON
//   object (surrounded by curly braces)"). A placeholder may not be an object key, quoted or not
//   (refused at parse). Anything else malformed in it is not refused at parse (AWS documents no such
//   check); render() fails on a JSON template whose result is not valid JSON, and the caller counts
//   that delivery as a failed invocation.
// - aws.events.event is the event without its "detail" member and with "detail-type" named
//   "detailType" (as AWS delivers it); aws.events.event.json is the whole event.
// - JSON paths: `$`, then `.name`, `.*`, `[n]` (n >= 0) and `[*]` steps. Names are any characters but
//   whitespace, controls and . [ ] * ' " $ @ ( ) ? , (AWS lists dot notation, dashes, underscores,
//   alphanumerics, forward slashes, array indices and wildcards; bracket notation with quoted names,
//   deep scan `..`, filters, slices and unions are refused). `*` and `[*]` apply to both objects
//   (member values, in order) and arrays (elements); a path with a wildcard yields a JSON array of
//   every match (possibly empty), as Jayway JsonPath does.
// - InputPath matching nothing: Gantry does not deliver (render() fails; AWS does not document it).
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace gantry::events {

inline constexpr std::size_t kMaxJsonPathLength = 256;
inline constexpr std::size_t kMaxInputPaths = 100;
inline constexpr std::size_t kMaxInputPathKeyLength = 256;
inline constexpr std::size_t kMaxInputTemplateLength = 8192;

// A JSON path as InputPath and InputPathsMap values use it ("$", "$.detail",
// "$.detail.containers[0].exitCode", "$.resources[*]").
class JsonPath {
 public:
  // Errors: kValidation, naming the path and what is wrong with it.
  static Result<JsonPath> parse(std::string_view text);

  // The text it was parsed from.
  const std::string& text() const { return text_; }
  // No wildcard: the path names at most one value.
  bool definite() const { return definite_; }

  // The value a definite path names in `doc`; nullptr when absent, or when the path is not definite
  // (use extract()).
  const boost::json::value* find(const boost::json::value& doc) const;
  // The value the path names (a copy): for a definite path the value, nullopt when absent; for a
  // wildcard path an array of every match, in document order (empty when nothing matches).
  std::optional<boost::json::value> extract(const boost::json::value& doc) const;

 private:
  struct Step {
    enum class Kind : std::uint8_t { kMember, kIndex, kWildcard };
    Kind kind = Kind::kMember;
    std::string name;       // kMember
    std::size_t index = 0;  // kIndex
  };
  void collect(const boost::json::value& v, std::size_t step, boost::json::array& out) const;

  std::string text_;
  std::vector<Step> steps_;
  bool definite_ = true;
};

struct InputTransformer {
  std::vector<std::pair<std::string, JsonPath>> paths;  // InputPathsMap, in the request's order
  std::string template_text;                            // InputTemplate, as given

  // Validates as PutTargets does (see the file comment) and parses the template once. `target_id`
  // only goes into error messages ("InputTemplate for target <id> ..."); empty leaves it out.
  // An absent InputPathsMap is an empty object.
  static Result<InputTransformer> parse(const boost::json::object& paths_map, std::string_view input_template,
                                        std::string_view target_id = {});

  // The template is a JSON object template (first non-whitespace character `{`).
  bool json_template() const { return json_template_; }

  // The parsed template: literal text and placeholders, in order.
  enum class Variable : std::uint8_t {
    kPath,  // paths[path]
    kRuleArn,
    kRuleName,
    kIngestionTime,
    kEvent,      // aws.events.event
    kEventJson,  // aws.events.event.json
  };
  struct Segment {
    std::string literal;  // text before the placeholder (the last segment may have no placeholder)
    bool has_placeholder = false;
    Variable variable = Variable::kPath;
    std::size_t path = 0;  // kPath: index into `paths`
    bool quoted = false;   // inside a string literal of the template
  };
  const std::vector<Segment>& segments() const { return segments_; }

 private:
  std::vector<Segment> segments_;
  bool json_template_ = false;
};

// A target's input settings; at most one is set (validate_target_input).
// - input: delivered exactly as given (the caller checks it is JSON at PutTargets);
// - input_path: the compact JSON of the value at that path of the event;
// - transformer: the rendered template;
// - none: the whole event, compact JSON.
struct TargetInput {
  std::optional<std::string> input;
  std::optional<JsonPath> input_path;
  std::optional<InputTransformer> transformer;
};

// PutTargets: kValidation, "Only one of Input, InputPath, or InputTransformer must be provided for
// target <id>." when more than one is set (AWS's message).
Status validate_target_input(const TargetInput& how, std::string_view target_id);

// The input settings of a Target document (its Input, InputPath and InputTransformer members, as PutTargets
// takes them), parsed and checked as validate_target_input does. Input is taken as it is (PutTargets checks
// it is JSON). Errors: kValidation, naming the target.
Result<TargetInput> target_input(const boost::json::object& target, std::string_view target_id);

struct RuleInfo {
  std::string rule_arn;
  std::string rule_name;
  std::string ingestion_time;  // ISO-8601, as aws.events.event.ingestion-time gives it
};

// What the target receives, as text. Errors (the caller counts a failed invocation): more than one
// of the three set; an InputPath that matches nothing; a JSON template whose result is not JSON.
Result<std::string> render(const TargetInput& how, const boost::json::value& event, const RuleInfo& rule);

// Compact JSON of `v`, as Gantry delivers events: no whitespace, members in order, strings escaped
// minimally (", \, control characters; other UTF-8 as is), doubles in shortest round-trip form.
std::string to_compact_json(const boost::json::value& v);

}  // namespace gantry::events
