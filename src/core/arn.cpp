#include "core/arn.h"

namespace gantry {

std::string Arn::str() const {
  std::string out = "arn:";
  out += partition;
  out += ':';
  out += service;
  out += ':';
  out += region;
  out += ':';
  out += account;
  out += ':';
  out += resource;
  return out;
}

std::optional<Arn> Arn::parse(std::string_view text) {
  std::string_view parts[5];
  std::string_view rest = text;
  for (auto& part : parts) {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    part = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  if (parts[0] != "arn" || parts[1].empty() || parts[2].empty() || rest.empty()) return std::nullopt;
  return Arn{std::string(parts[1]), std::string(parts[2]), std::string(parts[3]), std::string(parts[4]),
             std::string(rest)};
}

std::string Scope::arn(std::string_view service, std::string_view resource) const {
  return Arn{partition, std::string(service), region, account, std::string(resource)}.str();
}

}  // namespace gantry
