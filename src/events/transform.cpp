#include "events/transform.h"

#include <charconv>
#include <cmath>
#include <string>

namespace gantry::events {
namespace {

namespace json = boost::json;

// Code points of UTF-8 text: every byte that does not continue a sequence starts one.
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// "1 validation error detected: ..." as AWS model validation words a constraint failure.
Error model_error(std::string_view where, std::string_view constraint) {
  std::string m = "1 validation error detected: Value at '";
  m += where;
  m += "' failed to satisfy constraint: ";
  m += constraint;
  return make_error(ErrorKind::kValidation, std::move(m));
}

std::string for_target(std::string_view target_id) {
  return target_id.empty() ? std::string() : " for target " + std::string(target_id);
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      append_number(out, v.get_int64());
      break;
    case json::kind::uint64:
      append_number(out, v.get_uint64());
      break;
    case json::kind::double_:
      // JSON has no NaN or infinity; a parsed document never holds them.
      if (std::isfinite(v.get_double())) {
        append_number(out, v.get_double());
      } else {
        out += "null";
      }
      break;
    case json::kind::string:
      out += '"';
      append_escaped(out, v.get_string());
      out += '"';
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json(out, e);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& m : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += '"';
        append_escaped(out, m.key());
        out += "\":";
        append_json(out, m.value());
      }
      out += '}';
      break;
    }
  }
}

// A value inside a string literal of the template: its text, escaped. Objects and arrays lose their
// double quotes first (AWS: "EventBridge removes any internal quotes to ensure a valid string").
void append_quoted_text(std::string& out, const json::value& v) {
  if (v.is_string()) {
    append_escaped(out, v.get_string());
    return;
  }
  std::string text;
  append_json(text, v);
  if (v.is_object() || v.is_array()) std::erase(text, '"');
  append_escaped(out, text);
}

// A path name character: refused are the characters of JSONPath syntax Gantry does not take
// (quotes of bracket notation, filters, unions, root/current node) and whitespace or controls.
bool is_name_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (c <= 0x20 || c == 0x7F) return false;
  switch (ch) {
    case '.':
    case '[':
    case ']':
    case '*':
    case '\'':
    case '"':
    case '$':
    case '@':
    case '(':
    case ')':
    case '?':
    case ',':
      return false;
    default:
      return true;
  }
}

Error invalid_path(std::string_view text, std::string_view why) {
  std::string m = "Invalid JSON path '";
  m += text;
  m += "': ";
  m += why;
  m += '.';
  return make_error(ErrorKind::kValidation, std::move(m));
}

constexpr std::string_view kRuleArn = "aws.events.rule-arn";
constexpr std::string_view kRuleName = "aws.events.rule-name";
constexpr std::string_view kEvent = "aws.events.event";
constexpr std::string_view kEventJson = "aws.events.event.json";
constexpr std::string_view kIngestionTime = "aws.events.event.ingestion-time";

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Where the template's JSON scan stands: which containers are open, whether an object expects a key.
struct Container {
  bool object;
  bool expect_key;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// JsonPath

Result<JsonPath> JsonPath::parse(std::string_view text) {
  if (text.empty()) return invalid_path(text, "it is empty");
  if (utf8_length(text) > kMaxJsonPathLength) {
    return make_error(ErrorKind::kValidation, "Invalid JSON path: it is longer than 256 characters.");
  }
  if (text.front() != '$') return invalid_path(text, "it must start with $");
  JsonPath p;
  p.text_ = std::string(text);
  std::size_t i = 1;
  while (i < text.size()) {
    Step step;
    if (text[i] == '.') {
      ++i;
      if (i < text.size() && text[i] == '.') return invalid_path(text, "deep scan (..) is not supported");
      if (i < text.size() && text[i] == '*') {
        step.kind = Step::Kind::kWildcard;
        ++i;
      } else {
        const std::size_t start = i;
        while (i < text.size() && is_name_char(text[i])) ++i;
        if (i == start) return invalid_path(text, "a name must follow each '.'");
        step.name = std::string(text.substr(start, i - start));
      }
    } else if (text[i] == '[') {
      const std::size_t close = text.find(']', i);
      if (close == std::string_view::npos) return invalid_path(text, "'[' is not closed");
      const std::string_view inner = text.substr(i + 1, close - i - 1);
      if (inner == "*") {
        step.kind = Step::Kind::kWildcard;
      } else if (!inner.empty() && inner.size() <= 9 &&
                 inner.find_first_not_of("0123456789") == std::string_view::npos) {
        step.kind = Step::Kind::kIndex;
        std::from_chars(inner.data(), inner.data() + inner.size(), step.index);
      } else if (!inner.empty() && (inner.front() == '\'' || inner.front() == '"')) {
        return invalid_path(text, "bracket notation is not supported, use dot notation");
      } else {
        return invalid_path(text, "only [n] and [*] may appear in brackets");
      }
      i = close + 1;
    } else {
      return invalid_path(text, "expected '.' or '['");
    }
    if (step.kind == Step::Kind::kWildcard) p.definite_ = false;
    p.steps_.push_back(std::move(step));
  }
  return p;
}

const boost::json::value* JsonPath::find(const boost::json::value& doc) const {
  if (!definite_) return nullptr;
  const json::value* v = &doc;
  for (const Step& s : steps_) {
    if (s.kind == Step::Kind::kMember) {
      const auto* o = v->if_object();
      if (o == nullptr) return nullptr;
      v = o->if_contains(s.name);
    } else {
      const auto* a = v->if_array();
      if (a == nullptr || s.index >= a->size()) return nullptr;
      v = &(*a)[s.index];
    }
    if (v == nullptr) return nullptr;
  }
  return v;
}

void JsonPath::collect(const boost::json::value& v, std::size_t step, boost::json::array& out) const {
  if (step == steps_.size()) {
    out.push_back(v);
    return;
  }
  const Step& s = steps_[step];
  switch (s.kind) {
    case Step::Kind::kMember:
      if (const auto* o = v.if_object()) {
        if (const auto* m = o->if_contains(s.name)) collect(*m, step + 1, out);
      }
      break;
    case Step::Kind::kIndex:
      if (const auto* a = v.if_array(); a != nullptr && s.index < a->size()) {
        collect((*a)[s.index], step + 1, out);
      }
      break;
    case Step::Kind::kWildcard:
      if (const auto* o = v.if_object()) {
        for (const auto& m : *o) collect(m.value(), step + 1, out);
      } else if (const auto* a = v.if_array()) {
        for (const auto& e : *a) collect(e, step + 1, out);
      }
      break;
  }
}

std::optional<boost::json::value> JsonPath::extract(const boost::json::value& doc) const {
  if (definite_) {
    const json::value* v = find(doc);
    if (v == nullptr) return std::nullopt;
    return *v;
  }
  json::array out;
  collect(doc, 0, out);
  return json::value(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// InputTransformer

Result<InputTransformer> InputTransformer::parse(const boost::json::object& paths_map,
                                                 std::string_view input_template,
                                                 std::string_view target_id) {
  constexpr std::string_view kMap = "inputTransformer.inputPathsMap";
  if (paths_map.size() > kMaxInputPaths) {
    return model_error(kMap, "Member must have length less than or equal to 100");
  }
  InputTransformer t;
  t.paths.reserve(paths_map.size());
  for (const auto& entry : paths_map) {
    const std::string_view key = entry.key();
    if (key.empty()) {
      return model_error(
          kMap, "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]");
    }
    if (key.size() > kMaxInputPathKeyLength) {
      return model_error(
          kMap, "Map keys must satisfy constraint: [Member must have length less than or equal to 256]");
    }
    for (char c : key) {
      if (!is_key_char(c)) {
        return model_error(
            kMap,
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
            "[A-Za-z0-9\\_\\-]+]");
      }
    }
    const auto* path_text = entry.value().if_string();
    if (path_text == nullptr) {
      return make_error(ErrorKind::kSerialization,
                        "InputPathsMap value for key " + std::string(key) + " must be a string");
    }
    if (path_text->empty() || utf8_length(*path_text) > kMaxJsonPathLength) {
      return model_error(
          kMap,
          "Map value must satisfy constraint: [Member must have length less than or equal to 256, "
          "Member must have length greater than or equal to 1]");
    }
    auto path = JsonPath::parse(*path_text);
    if (!path.ok()) {
      return make_error(ErrorKind::kValidation, "InputPathsMap" + for_target(target_id) +
                                                    " has an invalid path for key " + std::string(key) +
                                                    ": " + path.error().message);
    }
    t.paths.emplace_back(std::string(key), std::move(path).value());
  }

  if (input_template.empty()) {
    return model_error("inputTransformer.inputTemplate",
                       "Member must have length greater than or equal to 1");
  }
  if (utf8_length(input_template) > kMaxInputTemplateLength) {
    return model_error("inputTransformer.inputTemplate",
                       "Member must have length less than or equal to 8192");
  }
  t.template_text = std::string(input_template);
  const std::size_t first = input_template.find_first_not_of(" \t\r\n");
  t.json_template_ = first != std::string_view::npos && input_template[first] == '{';

  // One pass over the template: split it at placeholders, and follow the JSON text around them
  // (string literals with their escapes; for a JSON template, which object positions are keys).
  std::vector<Container> stack;
  bool in_string = false;
  bool escaped = false;
  bool string_is_key = false;
  Segment current;
  const std::string_view s = input_template;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '<') {
      const std::size_t end = s.find_first_of("<>", i + 1);
      if (end != std::string_view::npos && s[end] == '>') {
        const std::string_view name = s.substr(i + 1, end - i - 1);
        current.has_placeholder = true;
        current.quoted = in_string;
        if (name == kRuleArn) {
          current.variable = Variable::kRuleArn;
        } else if (name == kRuleName) {
          current.variable = Variable::kRuleName;
        } else if (name == kIngestionTime) {
          current.variable = Variable::kIngestionTime;
        } else if (name == kEvent) {
          current.variable = Variable::kEvent;
        } else if (name == kEventJson) {
          current.variable = Variable::kEventJson;
        } else {
          std::size_t k = 0;
          while (k < t.paths.size() && t.paths[k].first != name) ++k;
          if (k == t.paths.size()) {
            return make_error(ErrorKind::kValidation, "InputTemplate" + for_target(target_id) +
                                                          " contains invalid placeholder " +
                                                          std::string(name) + ".");
          }
          current.variable = Variable::kPath;
          current.path = k;
        }
        const bool key_position =
            in_string ? string_is_key : (!stack.empty() && stack.back().object && stack.back().expect_key);
        if (t.json_template_ && key_position) {
          return make_error(ErrorKind::kValidation, "InputTemplate" + for_target(target_id) +
                                                        " uses placeholder " + std::string(name) +
                                                        " as an object key, which is not allowed.");
        }
        t.segments_.push_back(std::move(current));
        current = Segment{};
        escaped = false;
        i = end + 1;
        continue;
      }
      // Otherwise the `<` is text, and the scan goes on from the next character.
    }
    current.literal += c;
    ++i;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        string_is_key = !stack.empty() && stack.back().object && stack.back().expect_key;
        break;
      case '{':
        stack.push_back({true, true});
        break;
      case '[':
        stack.push_back({false, false});
        break;
      case '}':
      case ']':
        if (!stack.empty()) stack.pop_back();
        break;
      case ':':
        if (!stack.empty() && stack.back().object) stack.back().expect_key = false;
        break;
      case ',':
        if (!stack.empty() && stack.back().object) stack.back().expect_key = true;
        break;
      default:
        break;
    }
  }
  if (!current.literal.empty() || t.segments_.empty()) t.segments_.push_back(std::move(current));
  return t;
}

// ---------------------------------------------------------------------------------------------
// Rendering

std::string to_compact_json(const boost::json::value& v) {
  std::string out;
  append_json(out, v);
  return out;
}

Result<TargetInput> target_input(const boost::json::object& target, std::string_view target_id) {
  TargetInput how;
  if (auto* v = target.if_contains("Input"); v && v->is_string()) how.input = std::string(v->as_string());
  if (auto* v = target.if_contains("InputPath"); v && v->is_string()) {
    GANTRY_ASSIGN_OR_RETURN(auto path, JsonPath::parse(v->as_string()));
    how.input_path = std::move(path);
  }
  if (auto* v = target.if_contains("InputTransformer"); v && v->is_object()) {
    static const boost::json::object kNoPaths;
    const auto& t = v->as_object();
    auto* paths = t.if_contains("InputPathsMap");
    auto* text = t.if_contains("InputTemplate");
    GANTRY_ASSIGN_OR_RETURN(
        auto transformer,
        InputTransformer::parse(paths && paths->is_object() ? paths->as_object() : kNoPaths,
                                text && text->is_string() ? std::string_view(text->as_string()) : std::string_view(),
                                target_id));
    how.transformer = std::move(transformer);
  }
  GANTRY_RETURN_IF_ERROR(validate_target_input(how, target_id));
  return how;
}

Status validate_target_input(const TargetInput& how, std::string_view target_id) {
  const int set =
      int{how.input.has_value()} + int{how.input_path.has_value()} + int{how.transformer.has_value()};
  if (set > 1) {
    return make_error(
        ErrorKind::kValidation,
        "Only one of Input, InputPath, or InputTransformer must be provided" + for_target(target_id) + ".");
  }
  return {};
}

namespace {

// aws.events.event: the event without "detail", "detail-type" named "detailType".
json::value event_without_detail(const json::value& event) {
  const auto* o = event.if_object();
  if (o == nullptr) return event;
  json::object out;
  out.reserve(o->size());
  for (const auto& m : *o) {
    if (m.key() == "detail") continue;
    out.emplace(m.key() == "detail-type" ? json::string_view("detailType") : m.key(), m.value());
  }
  return out;
}

void append_string_value(std::string& out, std::string_view s, bool quoted) {
  if (!quoted) out += '"';
  append_escaped(out, s);
  if (!quoted) out += '"';
}

void append_value(std::string& out, const json::value* v, bool quoted) {
  if (v == nullptr) {
    if (!quoted) out += "\"\"";  // a path that matched nothing is the empty string
  } else if (quoted) {
    append_quoted_text(out, *v);
  } else {
    append_json(out, *v);
  }
}

Result<std::string> render_transformer(const InputTransformer& t, const json::value& event,
                                       const RuleInfo& rule) {
  // Each path is looked up once, however often its placeholder appears.
  std::vector<const json::value*> values(t.paths.size(), nullptr);
  std::vector<json::value> wildcard_results;  // reserved up front: `values` points into it
  std::size_t wildcards = 0;
  for (const auto& p : t.paths) wildcards += p.second.definite() ? 0 : 1;
  wildcard_results.reserve(wildcards);
  for (std::size_t k = 0; k < t.paths.size(); ++k) {
    const JsonPath& p = t.paths[k].second;
    if (p.definite()) {
      values[k] = p.find(event);
    } else {
      wildcard_results.push_back(*p.extract(event));
      values[k] = &wildcard_results.back();
    }
  }
  std::optional<json::value> without_detail;

  std::string out;
  out.reserve(t.template_text.size() + 64);
  for (const auto& seg : t.segments()) {
    out += seg.literal;
    if (!seg.has_placeholder) continue;
    switch (seg.variable) {
      case InputTransformer::Variable::kPath:
        append_value(out, values[seg.path], seg.quoted);
        break;
      case InputTransformer::Variable::kRuleArn:
        append_string_value(out, rule.rule_arn, seg.quoted);
        break;
      case InputTransformer::Variable::kRuleName:
        append_string_value(out, rule.rule_name, seg.quoted);
        break;
      case InputTransformer::Variable::kIngestionTime:
        append_string_value(out, rule.ingestion_time, seg.quoted);
        break;
      case InputTransformer::Variable::kEvent:
        if (!without_detail) without_detail = event_without_detail(event);
        append_value(out, &*without_detail, seg.quoted);
        break;
      case InputTransformer::Variable::kEventJson:
        append_value(out, &event, seg.quoted);
        break;
    }
  }
  if (t.json_template()) {
    boost::system::error_code ec;
    json::monotonic_resource scratch;
    json::parse(out, ec, &scratch);
    if (ec) {
      return make_error(ErrorKind::kValidation,
                        "InputTemplate produced invalid JSON for this event: " + ec.message());
    }
  }
  return out;
}

}  // namespace

Result<std::string> render(const TargetInput& how, const boost::json::value& event, const RuleInfo& rule) {
  GANTRY_RETURN_IF_ERROR(validate_target_input(how, {}));
  if (how.input) return *how.input;
  if (how.input_path) {
    const JsonPath& p = *how.input_path;
    if (p.definite()) {
      const json::value* v = p.find(event);
      if (v == nullptr) {
        return make_error(ErrorKind::kValidation, "InputPath " + p.text() + " matches nothing in the event.");
      }
      return to_compact_json(*v);
    }
    return to_compact_json(*p.extract(event));
  }
  if (how.transformer) return render_transformer(*how.transformer, event, rule);
  return to_compact_json(event);
}

}  // namespace gantry::events
