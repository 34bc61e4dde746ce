#include "protocol/query_codec.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>

#include "protocol/sigv4.h"

namespace gantry::protocol {

namespace json = boost::json;

namespace {

constexpr size_t kMaxDepth = 32;            // nesting of shapes followed while decoding
constexpr int64_t kMaxListIndex = 100000;   // far above any EC2/IAM list limit; keeps indices sane

// The parameters as a tree of dotted name segments: "Filter.1.Value.2" is Filter → 1 → Value → 2.
struct Node {
  std::optional<std::string> value;
  std::map<std::string, Node, std::less<>> children;
};

bool is_form(const http::Request& r) {
  return r.header("content-type").find("application/x-www-form-urlencoded") != std::string_view::npos;
}

Error bad_value(std::string_view path, std::string_view value, std::string_view expected) {
  std::string shown(value.substr(0, 64));
  return make_error(ErrorKind::kValidation,
                    fmt::format("Value ({}) for parameter {} is invalid. Expected {}.", shown, path, expected));
}

std::string upper_first(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// ISO 8601 as botocore sends it (2024-01-02T03:04:05Z, with optional fraction and offset), or epoch
// seconds. Returns epoch seconds.
std::optional<double> parse_timestamp(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (read_digits(s, 0, 4, y) && s.size() >= 19 && s[4] == '-' && read_digits(s, 5, 2, mo) && s[7] == '-' &&
      read_digits(s, 8, 2, d) && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && read_digits(s, 11, 2, h) &&
      s[13] == ':' && read_digits(s, 14, 2, mi) && s[16] == ':' && read_digits(s, 17, 2, se)) {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    double frac = 0;
    size_t i = 19;
    if (i < s.size() && s[i] == '.') {
      size_t start = i;
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == start + 1) return std::nullopt;
      frac = std::strtod(std::string(s.substr(start, i - start)).c_str(), nullptr);
    }
    int offset = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int oh = 0, om = 0;
      if (!read_digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !read_digits(s, i + 4, 2, om))
        return std::nullopt;
      offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
      i += 6;
    }
    if (i != s.size()) return std::nullopt;
    int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
                   mi * 60 + se - offset;
    return static_cast<double>(secs) + frac;
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

struct Decoder {
  const ShapeModel& model;
  Protocol protocol;

  bool flattened(const json::object& list_shape, const json::object* member_ref) const {
    auto is_true = [](const json::object& o) {
      auto* f = o.if_contains("flattened");
      return f != nullptr && f->is_bool() && f->as_bool();
    };
    return is_true(list_shape) || (member_ref != nullptr && is_true(*member_ref));
  }

  // The parameter name of a structure member.
  std::string member_name(std::string_view name, const json::object& ref) const {
    if (protocol == Protocol::kEc2) {
      if (auto* q = ref.if_contains("queryName")) return std::string(q->as_string());
      if (auto* l = ref.if_contains("locationName")) return upper_first(l->as_string());
      return std::string(name);
    }
    // query: a flattened list whose items carry a name is written under that name.
    if (const json::object* s = model.shape(ref.at("shape").as_string());
        s != nullptr && s->at("type").as_string() == "list" && flattened(*s, &ref)) {
      if (auto* l = s->at("member").as_object().if_contains("locationName")) return std::string(l->as_string());
    }
    if (auto* l = ref.if_contains("locationName")) return std::string(l->as_string());
    return std::string(name);
  }

  // The items of a list node (children "1", "2", ...) in index order.
  Result<std::vector<const Node*>> indexed(const Node& node, const std::string& path) const {
    std::map<int64_t, const Node*> items;
    for (const auto& [key, child] : node.children) {
      int64_t i = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), i);
      if (ec != std::errc() || p != key.data() + key.size() || i < 1 || i > kMaxListIndex)
        return make_error(ErrorKind::kValidation,
                          fmt::format("The parameter {}.{} is not valid: a list index must be a number from 1 to {}",
                                      path, key.substr(0, 64), kMaxListIndex));
      items[i] = &child;
    }
    std::vector<const Node*> out;
    out.reserve(items.size());
    for (const auto& [i, n] : items) out.push_back(n);
    return out;
  }

  Result<json::value> decode(std::string_view shape_name, const Node& node, const std::string& path,
                             const json::object* ref, size_t depth) const {
    if (depth > kMaxDepth)
      return make_error(ErrorKind::kValidation, fmt::format("The parameter {} is nested too deeply", path));
    const json::object* s = model.shape(shape_name);
    if (s == nullptr) return json::value(node.value.value_or(""));
    std::string_view type = s->at("type").as_string();
    if (type == "structure") {
      json::object out;
      for (const auto& [name, member] : s->at("members").as_object()) {
        const auto& mref = member.as_object();
        std::string wire = member_name(name, mref);
        auto it = node.children.find(wire);
        if (it == node.children.end()) continue;
        std::string child_path = path.empty() ? wire : path + "." + wire;
        GANTRY_ASSIGN_OR_RETURN(auto v, decode(mref.at("shape").as_string(), it->second, child_path, &mref, depth + 1));
        out[name] = std::move(v);
      }
      return json::value(std::move(out));
    }
    if (type == "list") {
      const auto& item_ref = s->at("member").as_object();
      const Node* items_node = &node;
      std::string items_path = path;
      if (protocol == Protocol::kQuery && !flattened(*s, ref)) {
        std::string item_name = "member";
        if (auto* l = item_ref.if_contains("locationName")) item_name = std::string(l->as_string());
        auto it = node.children.find(item_name);
        if (it == node.children.end()) {
          // `Name=` is how the query protocol sends an empty list.
          if (node.children.empty()) return json::value(json::array());
          return make_error(ErrorKind::kValidation,
                            fmt::format("The parameter {} is a list: its items are {}.{}.N", path, path, item_name));
        }
        items_node = &it->second;
        items_path = path + "." + item_name;
      }
      GANTRY_ASSIGN_OR_RETURN(auto items, indexed(*items_node, items_path));
      json::array out;
      out.reserve(items.size());
      size_t i = 0;
      for (const Node* item : items) {
        std::string item_path = fmt::format("{}.{}", items_path, ++i);
        GANTRY_ASSIGN_OR_RETURN(auto v, decode(item_ref.at("shape").as_string(), *item, item_path, &item_ref, depth + 1));
        out.push_back(std::move(v));
      }
      return json::value(std::move(out));
    }
    if (type == "map") {
      const Node* entries = &node;
      std::string entries_path = path;
      if (!flattened(*s, ref)) {
        auto it = node.children.find("entry");
        if (it == node.children.end()) return json::value(json::object());
        entries = &it->second;
        entries_path = path + ".entry";
      }
      GANTRY_ASSIGN_OR_RETURN(auto items, indexed(*entries, entries_path));
      json::object out;
      size_t i = 0;
      for (const Node* item : items) {
        std::string item_path = fmt::format("{}.{}", entries_path, ++i);
        auto k = item->children.find("key");
        auto v = item->children.find("value");
        if (k == item->children.end() || !k->second.value)
          return make_error(ErrorKind::kValidation, fmt::format("The map entry {} has no key", item_path));
        if (v == item->children.end()) continue;
        GANTRY_ASSIGN_OR_RETURN(auto value, decode(s->at("value").as_string(), v->second, item_path + ".value",
                                                   nullptr, depth + 1));
        out[*k->second.value] = std::move(value);
      }
      return json::value(std::move(out));
    }
    // Scalars.
    if (!node.value) {
      return make_error(ErrorKind::kValidation,
                        fmt::format("The parameter {} takes a single value, not {}.{}", path, path,
                                    node.children.begin()->first.substr(0, 64)));
    }
    const std::string& text = *node.value;
    if (type == "integer" || type == "long") {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty())
        return bad_value(path, text, "an integer");
      if (type == "integer" && (n > INT32_MAX || n < INT32_MIN)) return bad_value(path, text, "a 32-bit integer");
      return json::value(n);
    }
    if (type == "boolean") {
      if (text == "true" || text == "True" || text == "TRUE") return json::value(true);
      if (text == "false" || text == "False" || text == "FALSE") return json::value(false);
      return bad_value(path, text, "true or false");
    }
    if (type == "double" || type == "float") {
      double d = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return bad_value(path, text, "a number");
      return json::value(d);
    }
    if (type == "timestamp") {
      auto t = parse_timestamp(text);
      if (!t) return bad_value(path, text, "an ISO 8601 timestamp");
      return json::value(*t);
    }
    return json::value(text);  // string, blob (base64 text), anything else
  }
};

}  // namespace

QueryRequest read_query_request(const http::Request& request) {
  QueryRequest out;
  auto take = [&out](std::vector<std::pair<std::string, std::string>> pairs) {
    for (auto& [k, v] : pairs) {
      if (k == "Action") out.action = std::move(v);
      else if (k == "Version") out.version = std::move(v);
      else out.params.emplace_back(std::move(k), std::move(v));
    }
  };
  take(parse_form(request.query()));
  if (is_form(request)) take(parse_form(request.body));
  return out;
}

Result<json::object> decode_query_input(const ShapeModel& model, std::string_view op,
                                        const std::vector<std::pair<std::string, std::string>>& params,
                                        Protocol protocol) {
  std::string_view input = model.input_shape(op);
  if (input.empty()) return json::object{};
  Node root;
  for (const auto& [key, value] : params) {
    Node* n = &root;
    size_t start = 0;
    while (true) {
      size_t dot = key.find('.', start);
      std::string_view seg = std::string_view(key).substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      auto it = n->children.find(seg);
      if (it == n->children.end()) it = n->children.emplace(std::string(seg), Node{}).first;
      n = &it->second;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    n->value = value;
  }
  Decoder d{model, protocol};
  GANTRY_ASSIGN_OR_RETURN(auto v, d.decode(input, root, "", nullptr, 0));
  if (!v.is_object()) return json::object{};
  return std::move(v.as_object());
}

std::string xml_namespace(Protocol protocol, std::string_view endpoint_prefix, std::string_view api_version) {
  if (protocol == Protocol::kEc2) return fmt::format("http://{}.amazonaws.com/doc/{}/", endpoint_prefix, api_version);
  return fmt::format("https://{}.amazonaws.com/doc/{}/", endpoint_prefix, api_version);
}

std::string ec2_response_body(std::string_view action, std::string_view ns, std::string_view request_id,
                              const xml::Element& result) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml::Element envelope(fmt::format("{}Response", action));
  if (!ns.empty()) envelope.attribute("xmlns", std::string(ns));
  envelope.add("requestId", request_id);
  for (const auto& c : result.children()) envelope.append(c);
  envelope.write(out);
  out += '\n';
  return out;
}

std::string query_response_body(std::string_view action, std::string_view ns, std::string_view request_id,
                                const xml::Element& result, bool always_result) {
  xml::Element envelope(fmt::format("{}Response", action));
  if (!ns.empty()) envelope.attribute("xmlns", std::string(ns));
  if (always_result || !result.children().empty() || !result.text().empty()) {
    xml::Element body = result;
    body.rename(fmt::format("{}Result", action));
    envelope.append(std::move(body));
  }
  envelope.add("ResponseMetadata").add("RequestId", request_id);
  std::string out;
  envelope.write(out);
  out += '\n';
  return out;
}

http::Response xml_response(Protocol protocol, std::string_view action, std::string_view ns,
                            std::string_view request_id, const xml::Element& result, bool always_result) {
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", "text/xml;charset=UTF-8");
  r.set_header("x-amzn-RequestId", std::string(request_id));
  r.body = protocol == Protocol::kEc2 ? ec2_response_body(action, ns, request_id, result)
                                      : query_response_body(action, ns, request_id, result, always_result);
  return r;
}

}  // namespace gantry::protocol
