// ARNs: arn:partition:service:region:account-id:resource
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gantry {

struct Arn {
  std::string partition;
  std::string service;
  std::string region;
  std::string account;
  std::string resource;  // everything after the fifth colon, e.g. "cluster/name" or "task-definition/f:3"

  std::string str() const;
  // Parses a well-formed ARN; nullopt for anything else (missing parts, empty service or resource).
  static std::optional<Arn> parse(std::string_view text);
};

// Where a request runs: the account and region every resource it touches is scoped to.
struct Scope {
  std::string account;
  std::string region;
  std::string partition = "aws";

  std::string arn(std::string_view service, std::string_view resource) const;
};

}  // namespace gantry
