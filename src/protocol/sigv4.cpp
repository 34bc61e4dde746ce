#include "protocol/sigv4.h"

#include <fmt/format.h>

namespace gantry::protocol {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The scope's date is yyyymmdd. AWS rejects a scope whose date is not a date before it looks at the
// signature, so a malformed one is an incomplete signature rather than a routing detail.
bool valid_scope_date(std::string_view d) {
  if (d.size() != 8) return false;
  for (char c : d)
    if (c < '0' || c > '9') return false;
  int month = (d[4] - '0') * 10 + (d[5] - '0');
  int day = (d[6] - '0') * 10 + (d[7] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// Parses "AKID/20240101/us-east-1/ecs/aws4_request".
Result<CredentialScope> parse_credential(std::string_view credential) {
  std::string_view parts[5];
  std::string_view rest = credential;
  for (int i = 0; i < 4; ++i) {
    auto slash = rest.find('/');
    if (slash == std::string_view::npos)
      return make_error(ErrorKind::kIncompleteSignature,
                        fmt::format("Credential should be scoped to a valid region, service and aws4_request "
                                    "(got '{}')", credential.substr(0, 128)));
    parts[i] = rest.substr(0, slash);
    rest.remove_prefix(slash + 1);
  }
  parts[4] = rest;
  if (parts[0].empty() || !valid_scope_date(parts[1]) || parts[2].empty() || parts[3].empty() ||
      parts[4] != "aws4_request")
    return make_error(ErrorKind::kIncompleteSignature,
                      fmt::format("Credential should be scoped to a valid region, service and aws4_request "
                                  "(got '{}')", credential.substr(0, 128)));
  CredentialScope scope;
  scope.access_key_id = std::string(parts[0]);
  scope.date = std::string(parts[1]);
  scope.region = std::string(parts[2]);
  scope.service = std::string(parts[3]);
  return scope;
}

}  // namespace

std::string url_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(url_decode(pair, true), std::string());
    } else {
      out.emplace_back(url_decode(pair.substr(0, eq), true), url_decode(pair.substr(eq + 1), true));
    }
  }
  return out;
}

Result<std::optional<CredentialScope>> read_credential_scope(const http::Request& request) {
  std::string_view auth = request.header("authorization");
  if (!auth.empty()) {
    constexpr std::string_view kAlgo = "AWS4-HMAC-SHA256";
    auth = trim(auth);
    if (auth.substr(0, kAlgo.size()) != kAlgo)
      return make_error(ErrorKind::kIncompleteSignature,
                        "Authorization header requires the AWS4-HMAC-SHA256 algorithm (Signature Version 4)");
    std::string_view params = auth.substr(kAlgo.size());
    std::string_view credential, signed_headers, signature;
    while (!params.empty()) {
      auto comma = params.find(',');
      std::string_view item = trim(params.substr(0, comma));
      params = comma == std::string_view::npos ? std::string_view{} : params.substr(comma + 1);
      auto eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      auto key = item.substr(0, eq);
      auto value = item.substr(eq + 1);
      if (key == "Credential") credential = value;
      else if (key == "SignedHeaders") signed_headers = value;
      else if (key == "Signature") signature = value;
    }
    std::string missing;
    if (credential.empty()) missing += " Authorization header requires 'Credential' parameter.";
    if (signed_headers.empty()) missing += " Authorization header requires 'SignedHeaders' parameter.";
    if (signature.empty()) missing += " Authorization header requires 'Signature' parameter.";
    if (!request.has_header("x-amz-date") && !request.has_header("date"))
      missing += " Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";
    if (!missing.empty()) return make_error(ErrorKind::kIncompleteSignature, std::string(trim(missing)));
    GANTRY_ASSIGN_OR_RETURN(CredentialScope scope, parse_credential(credential));
    scope.signed_headers = std::string(signed_headers);
    scope.signature = std::string(signature);
    return std::optional<CredentialScope>(std::move(scope));
  }
  std::string_view query = request.query();
  if (query.find("X-Amz-Credential=") != std::string_view::npos ||
      query.find("X-Amz-Signature=") != std::string_view::npos) {
    std::string credential, signature, signed_headers;
    for (auto& [k, v] : parse_form(query)) {
      if (k == "X-Amz-Credential") credential = v;
      else if (k == "X-Amz-Signature") signature = v;
      else if (k == "X-Amz-SignedHeaders") signed_headers = v;
    }
    if (credential.empty() || signature.empty())
      return make_error(ErrorKind::kIncompleteSignature,
                        "Presigned request requires X-Amz-Credential and X-Amz-Signature query parameters");
    GANTRY_ASSIGN_OR_RETURN(CredentialScope scope, parse_credential(credential));
    scope.signature = signature;
    scope.signed_headers = signed_headers;
    scope.presigned = true;
    return std::optional<CredentialScope>(std::move(scope));
  }
  return std::optional<CredentialScope>();
}

}  // namespace gantry::protocol
