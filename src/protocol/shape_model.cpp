#include "protocol/shape_model.h"

#include <fmt/format.h>

#include <cmath>

namespace gantry::protocol {

namespace json = boost::json;

namespace {

constexpr size_t kMaxReportedViolations = 10;

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "list";
    case json::kind::object: return "object";
  }
  return "value";
}

std::string brief(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 64) {
    // Cut on a character boundary: the text goes into a JSON error body, which must stay UTF-8.
    size_t cut = 61;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

struct Walker {
  const json::object& shapes;
  std::vector<std::string> violations;  // constraint failures, AWS wording
  std::string type_error;               // first JSON type mismatch

  const json::object* shape(std::string_view name) const {
    auto it = shapes.find(name);
    return it == shapes.end() ? nullptr : &it->value().as_object();
  }

  void violation(std::string text) {
    if (violations.size() < kMaxReportedViolations) violations.push_back(std::move(text));
  }

  void length_limits(const json::object& s, int64_t n, const std::string& path, const json::value& v,
                     const char* what) {
    if (auto* mn = s.if_contains("min"); mn && n < mn->to_number<int64_t>())
      violation(fmt::format("Value '{}' at '{}' failed to satisfy constraint: Member must have {} greater than or equal to {}",
                            brief(v), path, what, mn->to_number<int64_t>()));
    if (auto* mx = s.if_contains("max"); mx && n > mx->to_number<int64_t>())
      violation(fmt::format("Value '{}' at '{}' failed to satisfy constraint: Member must have {} less than or equal to {}",
                            brief(v), path, what, mx->to_number<int64_t>()));
  }

  bool type_mismatch(const std::string& path, const char* expected, const json::value& v) {
    if (type_error.empty())
      type_error = fmt::format("Expected {} for '{}' but found {} {}", expected, path, kind_name(v), brief(v));
    return false;
  }

  // Returns false after a type mismatch (validation stops there: the body is not of the model's form).
  bool walk(std::string_view shape_name, json::value& v, const std::string& path) {
    const json::object* s = shape(shape_name);
    if (s == nullptr) return true;  // shape outside the extracted subset: accept as is
    std::string_view type = s->at("type").as_string();
    if (type == "structure") {
      if (!v.is_object()) return type_mismatch(path, "an object", v);
      auto& obj = v.as_object();
      const auto& members = s->at("members").as_object();
      for (auto it = obj.begin(); it != obj.end();) {
        // Unknown members are ignored and a JSON null reads as "absent", as AWS's parsers do:
        // handlers only ever see members of the model with values of the model's type.
        if (!members.contains(it->key()) || it->value().is_null()) {
          it = obj.erase(it);
        } else {
          ++it;
        }
      }
      if (auto* req = s->if_contains("required")) {
        for (const auto& r : req->as_array()) {
          auto key = r.as_string();
          auto* present = obj.if_contains(key);
          if (present == nullptr || present->is_null())
            violation(fmt::format("Value null at '{}{}' failed to satisfy constraint: Member must not be null",
                                  path.empty() ? "" : path + ".", std::string_view(key)));
        }
      }
      for (auto& [key, member_value] : obj) {
        const auto& member = members.at(key).as_object();
        std::string child = path.empty() ? std::string(key) : path + "." + std::string(key);
        if (!walk(member.at("shape").as_string(), member_value, child)) return false;
      }
      return true;
    }
    if (type == "list") {
      if (!v.is_array()) return type_mismatch(path, "a list", v);
      auto& arr = v.as_array();
      length_limits(*s, static_cast<int64_t>(arr.size()), path, v, "length");
      const auto& item_shape = s->at("member").as_object().at("shape").as_string();
      for (size_t i = 0; i < arr.size(); ++i) {
        if (arr[i].is_null()) return type_mismatch(fmt::format("{}.{}.member", path, i + 1), "a value", arr[i]);
        if (!walk(item_shape, arr[i], fmt::format("{}.{}.member", path, i + 1))) return false;
      }
      return true;
    }
    if (type == "map") {
      if (!v.is_object()) return type_mismatch(path, "a map", v);
      auto& obj = v.as_object();
      length_limits(*s, static_cast<int64_t>(obj.size()), path, v, "length");
      const auto& value_shape = s->at("value").as_string();
      for (auto it = obj.begin(); it != obj.end();) {
        if (it->value().is_null()) {
          it = obj.erase(it);
          continue;
        }
        ++it;
      }
      for (auto& [key, item] : obj) {
        if (!walk(value_shape, item, fmt::format("{}.{}", path, std::string_view(key)))) return false;
      }
      return true;
    }
    if (type == "string") {
      if (!v.is_string()) return type_mismatch(path, "a string", v);
      const auto& str = v.as_string();
      if (auto* en = s->if_contains("enum")) {
        bool found = false;
        std::string allowed;
        for (const auto& e : en->as_array()) {
          if (e.as_string() == str) found = true;
          if (!allowed.empty()) allowed += ", ";
          allowed += std::string_view(e.as_string());
        }
        if (!found)
          violation(fmt::format("Value '{}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                                std::string_view(str), path, allowed));
      }
      length_limits(*s, static_cast<int64_t>(str.size()), path, v, "length");
      return true;
    }
    if (type == "integer" || type == "long") {
      if (v.is_double()) {
        double d = v.as_double();
        // Range first: converting an out-of-range double to an integer is undefined behaviour.
        if (!(d >= -9.2e18 && d <= 9.2e18) || d != std::trunc(d)) return type_mismatch(path, "an integer", v);
        v = static_cast<int64_t>(d);
      }
      if (!v.is_int64() && !v.is_uint64()) return type_mismatch(path, "an integer", v);
      if (v.is_uint64() && v.as_uint64() > static_cast<uint64_t>(INT64_MAX)) return type_mismatch(path, "an integer", v);
      int64_t n = v.to_number<int64_t>();
      if (type == "integer" && (n > INT32_MAX || n < INT32_MIN)) return type_mismatch(path, "a 32-bit integer", v);
      if (auto* mn = s->if_contains("min"); mn && n < mn->to_number<int64_t>())
        violation(fmt::format("Value '{}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to {}",
                              n, path, mn->to_number<int64_t>()));
      if (auto* mx = s->if_contains("max"); mx && n > mx->to_number<int64_t>())
        violation(fmt::format("Value '{}' at '{}' failed to satisfy constraint: Member must have value less than or equal to {}",
                              n, path, mx->to_number<int64_t>()));
      return true;
    }
    if (type == "double" || type == "float") {
      if (!v.is_number()) return type_mismatch(path, "a number", v);
      return true;
    }
    if (type == "boolean") {
      if (!v.is_bool()) return type_mismatch(path, "a boolean", v);
      return true;
    }
    if (type == "timestamp") {
      if (!v.is_number()) return type_mismatch(path, "a timestamp (epoch seconds)", v);
      return true;
    }
    if (type == "blob") {
      if (!v.is_string()) return type_mismatch(path, "a base64 string", v);
      return true;
    }
    return true;  // document and anything newer: accepted as is
  }
};

}  // namespace

Result<ShapeModel> ShapeModel::parse(std::string_view json_text) {
  boost::system::error_code ec;
  auto v = json::parse(json_text, ec);
  if (ec || !v.is_object()) return make_error(ErrorKind::kInternal, "service model is not valid JSON");
  ShapeModel m;
  auto& o = v.as_object();
  m.metadata_ = std::move(o["metadata"].as_object());
  m.operations_ = std::move(o["operations"].as_object());
  m.shapes_ = std::move(o["shapes"].as_object());
  return m;
}

bool ShapeModel::has_operation(std::string_view op) const { return operations_.contains(op); }

std::vector<std::string> ShapeModel::operations() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : operations_) out.emplace_back(k);
  return out;
}

std::string_view ShapeModel::input_shape(std::string_view op) const {
  auto* entry = operations_.if_contains(op);
  if (entry == nullptr) return {};
  auto* in = entry->as_object().if_contains("input");
  return in == nullptr ? std::string_view() : std::string_view(in->as_string());
}

bool ShapeModel::has_result_wrapper(std::string_view op) const {
  auto* entry = operations_.if_contains(op);
  return entry != nullptr && entry->as_object().contains("resultWrapper");
}

const json::object* ShapeModel::shape(std::string_view name) const {
  auto* s = shapes_.if_contains(name);
  return s == nullptr ? nullptr : &s->as_object();
}

Status ShapeModel::validate_input(std::string_view op, json::object& input) const {
  auto* entry = operations_.if_contains(op);
  if (entry == nullptr) return make_error(ErrorKind::kUnknownOperation, fmt::format("Unknown operation {}", op));
  auto* in = entry->as_object().if_contains("input");
  if (in == nullptr) {
    input.clear();
    return {};
  }
  Walker w{shapes_, {}, {}};
  json::value root(std::move(input));
  bool ok = w.walk(in->as_string(), root, "");
  input = std::move(root.as_object());
  if (!ok) return make_error(ErrorKind::kSerialization, w.type_error);
  if (!w.violations.empty()) {
    std::string msg = fmt::format("{} validation error{} detected: ", w.violations.size(),
                                  w.violations.size() == 1 ? "" : "s");
    for (size_t i = 0; i < w.violations.size(); ++i) {
      if (i) msg += "; ";
      msg += w.violations[i];
    }
    return make_error(ErrorKind::kValidation, msg);
  }
  return {};
}

}  // namespace gantry::protocol
