// Reading members of a JSON object whose shape was already validated (a decoded request, a stored document):
// each returns nothing when the member is absent or of another type, never throws.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::json_members {

inline std::optional<std::string> get_string(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

// The string member, or "" when absent.
inline std::string string_or_empty(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// An integer (int64, or uint64 up to INT64_MAX).
inline std::optional<int64_t> get_int(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v->as_uint64());
  return std::nullopt;
}

// Any number, as a double (timestamps of the json protocols are epoch seconds with a fraction).
inline std::optional<double> get_number(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

inline const boost::json::object* get_object(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

}  // namespace gantry::json_members
