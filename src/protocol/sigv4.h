// Reading the SigV4 credential scope of a request (Authorization header or presigned query).
// Verification of the signature itself belongs to auth/; routing only needs the scope.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "http/message.h"

namespace gantry::protocol {

struct CredentialScope {
  std::string access_key_id;
  std::string date;     // yyyymmdd
  std::string region;
  std::string service;  // signing name: ecs, iam, sts, lambda, scheduler, ...
  std::string signed_headers;
  std::string signature;
  bool presigned = false;
};

// nullopt when the request carries no SigV4 signature at all; an error when it carries one that
// is not well formed (kIncompleteSignature, naming the missing part).
Result<std::optional<CredentialScope>> read_credential_scope(const http::Request& request);

// Percent-decodes a URL component ('+' means space when `plus_is_space`). Invalid escapes are kept
// literally, as AWS's front ends do.
std::string url_decode(std::string_view in, bool plus_is_space);

// Splits an application/x-www-form-urlencoded string (or a query string) into decoded pairs.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace gantry::protocol
