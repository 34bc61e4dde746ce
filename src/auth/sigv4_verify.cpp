#include "auth/sigv4_verify.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <memory>
#include <unordered_map>
#include <vector>

namespace gantry::auth {

namespace {

constexpr auto kMaxSkew = std::chrono::minutes(15);
constexpr int64_t kMaxPresignedExpiry = 604800;  // a week, as AWS allows

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

}  // namespace

std::string uri_encode(std::string_view in, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() * 3 / 2);
  for (unsigned char c : in) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

// HMAC-SHA256 through EVP_MAC, fetched once: the one-shot HMAC() looks the algorithm up on every call,
// which costs more than the hashing of these short inputs.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

bool hmac_set_key(EVP_MAC_CTX* ctx, std::string_view key) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  return EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) == 1;
}

std::string hmac_final(EVP_MAC_CTX* ctx, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, out, &len, sizeof out) != 1) {
    return std::string();  // an empty MAC matches no signature
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hmac(std::string_view key, std::string_view data) {
  EVP_MAC_CTX* ctx = hmac_algorithm() != nullptr ? EVP_MAC_CTX_new(hmac_algorithm()) : nullptr;
  std::string out = ctx != nullptr && hmac_set_key(ctx, key) ? hmac_final(ctx, data) : std::string();
  EVP_MAC_CTX_free(ctx);
  return out;
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// The signing key of (secret, date, region, service): four HMACs, the same for every request of a day, so
// each thread keeps the ones it derived (bounded; cleared when full), each as an HMAC context already
// keyed with it: signing a request then only re-initialises that context (EVP_MAC_init with no key
// reuses the key), without allocating or looking anything up.
EVP_MAC_CTX* signing_context(std::string_view secret, const protocol::CredentialScope& scope) {
  thread_local std::unordered_map<std::string, std::unique_ptr<EVP_MAC_CTX, MacCtxFree>> cache;
  thread_local std::string id;
  id.assign(secret)
      .append("\n")
      .append(scope.date)
      .append("\n")
      .append(scope.region)
      .append("\n")
      .append(scope.service);
  if (auto it = cache.find(id); it != cache.end()) {
    return EVP_MAC_init(it->second.get(), nullptr, 0, nullptr) == 1 ? it->second.get() : nullptr;
  }
  std::string key = hmac("AWS4" + std::string(secret), scope.date);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  key = hmac(key, "aws4_request");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(hmac_algorithm() != nullptr ? EVP_MAC_CTX_new(hmac_algorithm())
                                                                           : nullptr);
  if (!ctx || key.empty() || !hmac_set_key(ctx.get(), key)) return nullptr;
  if (cache.size() >= 256) cache.clear();
  return cache.emplace(id, std::move(ctx)).first->second.get();
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string query_param(std::string_view query, std::string_view name) {
  for (const auto& [k, v] : protocol::parse_form(query)) {
    if (k == name) return v;
  }
  return "";
}

AuthError bad_signature(std::string message = "") {
  if (message.empty())
    message =
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.";
  return AuthError{Failure::kBadSignature, std::move(message)};
}

}  // namespace

std::string collapse_spaces(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string canonical_uri(std::string_view raw_path) {
  // Remove dot segments and empty segments (AWS services other than S3 normalize the path).
  std::vector<std::string> out;
  for (auto& seg : split(raw_path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(seg));
  }
  std::string path = "/";
  for (size_t i = 0; i < out.size(); ++i) path += (i ? "/" : "") + out[i];
  if (raw_path.size() > 1 && raw_path.back() == '/' && !out.empty()) path += "/";
  return uri_encode(path, true);
}

std::string canonical_query(std::string_view raw_query, bool presigned) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!raw_query.empty()) {
    for (const auto& part : split(raw_query, '&')) {
      if (part.empty()) continue;
      auto eq = part.find('=');
      // '+' is a space, as the query protocol reads it (protocol::parse_form): were it kept as "%2B",
      // "a+b" and "a%2Bb" would share one signature but mean "a b" and "a+b" (found by fuzz/sigv4_fuzz.cpp).
      std::string key = protocol::url_decode(std::string_view(part).substr(0, eq), true);
      std::string value = eq == std::string::npos ? "" : protocol::url_decode(std::string_view(part).substr(eq + 1), true);
      if (presigned && key == "X-Amz-Signature") continue;
      pairs.emplace_back(uri_encode(key, false), uri_encode(value, false));
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once (see hmac)
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx;  // reused: no allocation per call
  if (!ctx) ctx.reset(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = ctx && md != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
            EVP_DigestFinal_ex(ctx.get(), digest, &len) == 1;
  if (!ok) return std::string();
  return hex(digest, len);
}

std::string canonical_request(const http::Request& request, const protocol::CredentialScope& scope,
                              std::string_view payload_hash) {
  std::string out = request.method;
  out.push_back('\n');
  out += canonical_uri(request.path());
  out.push_back('\n');
  out += canonical_query(request.query(), scope.presigned);
  out.push_back('\n');
  auto names = split(scope.signed_headers, ';');
  for (const auto& name : names) {
    std::string joined;
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (k != name) continue;
      if (!first) joined.push_back(',');
      joined += collapse_spaces(v);
      first = false;
    }
    out += name;
    out.push_back(':');
    out += joined;
    out.push_back('\n');
  }
  out.push_back('\n');
  out += scope.signed_headers;
  out.push_back('\n');
  out += payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date, const protocol::CredentialScope& scope,
                           std::string_view canonical) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}/{}/{}/aws4_request\n{}", amz_date, scope.date, scope.region,
                     scope.service, sha256_hex(canonical));
}

std::string signature(std::string_view secret, const protocol::CredentialScope& scope, std::string_view to_sign) {
  EVP_MAC_CTX* ctx = signing_context(secret, scope);
  if (ctx == nullptr) return std::string();  // matches no signature
  std::string sig = hmac_final(ctx, to_sign);
  if (sig.empty()) return std::string();
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::string format_amz_date(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<TimePoint> parse_amz_date(std::string_view t) {
  if (t.size() != 16 || t[8] != 'T' || t[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    auto [p, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, v);
    return ec == std::errc() && p == t.data() + pos + len ? v : -1;
  };
  int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2), s = num(13, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::time_t secs = timegm(&tm);
  return std::chrono::time_point_cast<TimePoint::duration>(std::chrono::system_clock::from_time_t(secs));
}

VerifyResult verify(const http::Request& request, const protocol::CredentialScope& scope, const KeyStore& keys,
                    TimePoint now, std::optional<TimePoint> credentials_now) {
  VerifyResult r;
  std::string amz_date = scope.presigned ? query_param(request.query(), "X-Amz-Date")
                                         : std::string(request.header("x-amz-date"));
  if (amz_date.empty()) {
    r.malformed = make_error(ErrorKind::kIncompleteSignature,
                             "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    return r;
  }
  auto when = parse_amz_date(amz_date);
  if (!when) {
    r.malformed = make_error(ErrorKind::kIncompleteSignature,
                             fmt::format("X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z' (got "
                                         "'{}')",
                                         amz_date.substr(0, 32)));
    return r;
  }
  for (const auto& name : split(scope.signed_headers, ';')) {
    if (name.empty() || !request.has_header(name)) {
      r.malformed = make_error(ErrorKind::kIncompleteSignature,
                               fmt::format("The request signs header '{}', which it does not carry.", name.substr(0, 64)));
      return r;
    }
  }

  auto key = keys.find(scope.access_key_id);
  if (!key) {
    r.auth_error = AuthError{Failure::kUnknownKey, "The security token included in the request is invalid."};
    return r;
  }
  // Temporary credentials need their token; long-term keys must not come with one.
  std::string token = scope.presigned ? query_param(request.query(), "X-Amz-Security-Token")
                                      : std::string(request.header("x-amz-security-token"));
  if (token.size() != key->session_token.size() ||
      CRYPTO_memcmp(token.data(), key->session_token.data(), token.size()) != 0) {
    r.auth_error = AuthError{Failure::kUnknownKey, "The security token included in the request is invalid."};
    return r;
  }
  if (amz_date.substr(0, 8) != scope.date) {
    r.auth_error = bad_signature(fmt::format(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', "
        "from '{}'.",
        scope.date, amz_date.substr(0, 8), amz_date));
    return r;
  }

  std::string payload;
  std::string body_hash = sha256_hex(request.body);
  if (auto declared = request.header("x-amz-content-sha256"); !declared.empty()) {
    if (declared != "UNSIGNED-PAYLOAD" && declared != body_hash) {
      r.auth_error = bad_signature("The provided 'x-amz-content-sha256' header does not match what was computed.");
      return r;
    }
    payload = std::string(declared);
  } else {
    payload = body_hash;
  }

  std::string canonical = canonical_request(request, scope, payload);
  std::string expected = signature(key->secret, scope, string_to_sign(amz_date, scope, canonical));
  if (expected.size() != scope.signature.size() ||
      CRYPTO_memcmp(expected.data(), scope.signature.data(), expected.size()) != 0) {
    r.auth_error = bad_signature();
    return r;
  }

  if (scope.presigned) {
    std::string expires_text = query_param(request.query(), "X-Amz-Expires");
    int64_t expires = -1;
    auto [p, ec] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
    if (ec != std::errc() || p != expires_text.data() + expires_text.size() || expires < 1 ||
        expires > kMaxPresignedExpiry) {
      r.malformed = make_error(ErrorKind::kIncompleteSignature,
                               "X-Amz-Expires must be a number of seconds from 1 to 604800 (a week).");
      return r;
    }
    if (now > *when + std::chrono::seconds(expires)) {
      r.auth_error = AuthError{Failure::kExpired, "Request has expired"};
      return r;
    }
    if (*when > now + kMaxSkew) {
      r.auth_error = AuthError{Failure::kExpired,
                               fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)",
                                           amz_date, format_amz_date(now + kMaxSkew), format_amz_date(now))};
      return r;
    }
  } else if (*when < now - kMaxSkew) {
    r.auth_error = AuthError{Failure::kExpired,
                             fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)", amz_date,
                                         format_amz_date(now - kMaxSkew), format_amz_date(now))};
    return r;
  } else if (*when > now + kMaxSkew) {
    r.auth_error = AuthError{Failure::kExpired,
                             fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)",
                                         amz_date, format_amz_date(now + kMaxSkew), format_amz_date(now))};
    return r;
  }
  if (key->expires_at && credentials_now.value_or(now) >= *key->expires_at) {
    r.auth_error = AuthError{Failure::kTokenExpired, "The security token included in the request is expired"};
    return r;
  }
  r.ok = Verified{*key};
  return r;
}

}  // namespace gantry::auth
