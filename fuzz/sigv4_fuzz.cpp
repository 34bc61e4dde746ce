// libFuzzer target: SigV4 canonicalization and verification (auth/sigv4_verify.h).
//
// The input is decoded (FuzzedDataProvider) into an http::Request — method, path with query, a few
// headers, a body — signed in the Authorization header or as a presigned URL, by one of these signers:
//   kForged       the signature is fuzz bytes;
//   kWrongSecret  computed with a secret that differs from the key's in one byte;
//   kOtherScope   computed with the right secret for another date, region or service than the
//                 credential scope the request claims;
//   kGenuine      computed with the right secret (so the checks after the signature are reached);
//   kTampered     computed with the right secret, then one part of the request is replaced, or one
//                 character of the query is spelled another way (%XX <-> the byte).
// The request goes through read_credential_scope() and verify() against a KeyStore holding one key, as
// the router does. The run aborts when
//  - verify() accepts a request of kForged, kWrongSecret or kOtherScope: a forgery;
//  - verify() accepts a kTampered request that means something else than the one that was signed: another
//    method, other query parameters as the query protocol reads them (protocol::parse_form), another
//    body (unless the payload is UNSIGNED-PAYLOAD), or other signed header values once whitespace is
//    trimmed and collapsed;
//  - canonical_uri() or canonical_query() of the raw path and query break their form: a path starting
//    with '/', no empty segment, only unreserved characters, '/' and %XX; a query of sorted key=value
//    pairs of unreserved characters and %XX, which canonicalizes to itself.
// See fuzz/README.md.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/keys.h"
#include "auth/sigv4_verify.h"
#include "protocol/sigv4.h"

namespace {

using gantry::TimePoint;
using gantry::auth::AccessKey;
using gantry::auth::StaticKeyStore;
using gantry::http::Request;
using gantry::protocol::CredentialScope;

constexpr std::string_view kKeyId = "AKIAFUZZFUZZFUZZFUZZ";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kNowText = "20261128T120000Z";

enum class Signer { kForged, kWrongSecret, kOtherScope, kGenuine, kTampered, kMaxValue = kTampered };

[[noreturn]] void fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "sigv4_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

TimePoint now() {
  static const TimePoint t = *gantry::auth::parse_amz_date(kNowText);
  return t;
}

const StaticKeyStore& keys() {
  static const StaticKeyStore store = [] {
    AccessKey key;
    key.access_key_id = kKeyId;
    key.secret = kSecret;
    key.account = "123456789012";
    key.principal_arn = "arn:aws:iam::123456789012:root";
    key.principal_id = "123456789012";
    return StaticKeyStore({key});
  }();
  return store;
}

std::string amz_date(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string lower(std::string s) {
  for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return s;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

bool upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Only unreserved characters, `extra`, and %XX with upper-case hex.
bool encoded_form(std::string_view s, std::string_view extra) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (unreserved(s[i]) || extra.find(s[i]) != std::string_view::npos) continue;
    if (s[i] != '%' || i + 2 >= s.size() || !upper_hex(s[i + 1]) || !upper_hex(s[i + 2])) return false;
    i += 2;
  }
  return true;
}

void check_canonical_forms(std::string_view path, std::string_view query) {
  std::string uri = gantry::auth::canonical_uri(path);
  if (uri.empty() || uri.front() != '/' || uri.find("//") != std::string::npos || !encoded_form(uri, "/")) {
    fail("canonical_uri broke its form", std::string(path) + " -> " + uri);
  }
  for (bool presigned : {false, true}) {
    std::string q = gantry::auth::canonical_query(query, presigned);
    if (!encoded_form(q, "=&")) fail("canonical_query broke its form", std::string(query) + " -> " + q);
    std::vector<std::string_view> pairs;
    for (std::size_t start = 0; !q.empty() && start <= q.size();) {
      std::size_t end = std::min(q.find('&', start), q.size());
      std::string_view pair = std::string_view(q).substr(start, end - start);
      if (std::count(pair.begin(), pair.end(), '=') != 1) fail("canonical_query: a pair is not key=value", q);
      pairs.push_back(pair);
      start = end + 1;
    }
    // Sorted by (key, value): compare the pairs split at '='.
    auto split = [](std::string_view p) { return std::pair(p.substr(0, p.find('=')), p.substr(p.find('=') + 1)); };
    if (!std::is_sorted(pairs.begin(), pairs.end(),
                        [&](std::string_view a, std::string_view b) { return split(a) < split(b); })) {
      fail("canonical_query is not sorted", q);
    }
    if (gantry::auth::canonical_query(q, presigned) != q) fail("canonical_query is not idempotent", q);
  }
}


// What a request means to the code behind the verifier.
struct Meaning {
  std::string method;
  std::vector<std::pair<std::string, std::string>> params;  // sorted, without X-Amz-Signature
  std::string body;
  std::vector<std::string> signed_values;  // per signed header name: its values, joined, whitespace collapsed

  bool operator==(const Meaning&) const = default;
};

Meaning meaning(const Request& r, const std::vector<std::string>& signed_names, bool unsigned_payload) {
  Meaning m;
  m.method = r.method;
  for (auto& kv : gantry::protocol::parse_form(r.query())) {
    if (kv.first != "X-Amz-Signature") m.params.push_back(std::move(kv));
  }
  std::sort(m.params.begin(), m.params.end());
  if (!unsigned_payload) m.body = r.body;
  for (const auto& name : signed_names) {
    std::string joined;
    for (const auto& [k, v] : r.headers) {
      if (k == name) joined += gantry::auth::collapse_spaces(v) + ",";
    }
    m.signed_values.push_back(std::move(joined));
  }
  return m;
}

std::string describe(const Request& r) {
  std::string out = r.method + " " + r.target + "\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\n";
  return out + "\n" + r.body;
}

// Replaces [pos, pos + len) of `s` (both taken modulo its size) with `with`.
void replace_range(FuzzedDataProvider& in, std::string& s, std::string_view with) {
  std::size_t pos = in.ConsumeIntegralInRange<std::size_t>(0, s.size());
  std::size_t len = in.ConsumeIntegralInRange<std::size_t>(0, s.size() - pos);
  s.replace(pos, len, with);
}

// Spells one character of `s` another way: a %XX escape as the byte it stands for, or a byte as %XX
// (either case of hex). Both spellings canonicalize alike, so this probes for two requests that share a
// signature but not a meaning.
void respell(FuzzedDataProvider& in, std::string& s) {
  if (s.empty()) return;
  std::size_t pos = in.ConsumeIntegralInRange<std::size_t>(0, s.size() - 1);
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (s[pos] == '%' && pos + 2 < s.size() && hex(s[pos + 1]) && hex(s[pos + 2])) {
    s.replace(pos, 3, 1, static_cast<char>(std::stoi(s.substr(pos + 1, 2), nullptr, 16)));
    return;
  }
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  const char* digits = in.ConsumeBool() ? kUpper : kLower;
  const auto c = static_cast<unsigned char>(s[pos]);
  s.replace(pos, 1, std::string{'%', digits[c >> 4], digits[c & 15]});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto signer = in.ConsumeEnum<Signer>();
  const bool presigned = in.ConsumeBool();

  Request r;
  static constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
  r.method = in.ConsumeBool() ? std::string(in.PickValueInArray(kMethods)) : in.ConsumeRandomLengthString(8);
  std::string path = in.ConsumeRandomLengthString(64);
  std::string query = in.ConsumeRandomLengthString(128);
  check_canonical_forms(path, query);

  // The date the request claims: near the server's now (inside or outside the 15-minute window), or text.
  std::string date = in.ConsumeBool()
                         ? amz_date(now() + std::chrono::seconds(in.ConsumeIntegralInRange<int>(-1200, 1200)))
                         : in.ConsumeRandomLengthString(20);
  static constexpr const char* kRegions[] = {"us-east-1", "eu-west-1"};
  static constexpr const char* kServices[] = {"ecs", "iam", "sts", "ecr"};
  CredentialScope scope;
  scope.access_key_id = in.ConsumeBool() ? std::string(kKeyId) : in.ConsumeRandomLengthString(24);
  scope.date = date.substr(0, 8);
  scope.region = in.ConsumeBool() ? std::string(in.PickValueInArray(kRegions)) : in.ConsumeRandomLengthString(12);
  scope.service = in.ConsumeBool() ? std::string(in.PickValueInArray(kServices)) : in.ConsumeRandomLengthString(12);
  scope.presigned = presigned;

  r.headers.emplace_back("host", "127.0.0.1:4566");
  if (!presigned) r.headers.emplace_back("x-amz-date", date);
  std::vector<std::string> signed_names = {"host"};
  if (!presigned) signed_names.push_back("x-amz-date");
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) {
    std::string name = lower(in.ConsumeRandomLengthString(12));
    r.headers.emplace_back(name, in.ConsumeRandomLengthString(24));
    if (in.ConsumeBool()) signed_names.push_back(std::move(name));
  }
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: break;
    case 1: r.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD"); break;
    case 2: r.headers.emplace_back("x-amz-content-sha256", "");  break;  // filled in once the body is known
    default: r.headers.emplace_back("x-amz-content-sha256", in.ConsumeRandomLengthString(64)); break;
  }
  std::sort(signed_names.begin(), signed_names.end());
  signed_names.erase(std::unique(signed_names.begin(), signed_names.end()), signed_names.end());
  for (const auto& name : signed_names) scope.signed_headers += (scope.signed_headers.empty() ? "" : ";") + name;
  if (in.ConsumeBool()) scope.signed_headers = in.ConsumeRandomLengthString(40);  // anything at all

  // What the signer changes: its secret, or the scope it signs for.
  std::string secret(kSecret);
  CredentialScope signed_scope = scope;
  if (signer == Signer::kWrongSecret) {
    std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, secret.size() - 1);
    secret[at] = static_cast<char>(secret[at] ^ in.ConsumeIntegralInRange<int>(1, 255));
  } else if (signer == Signer::kOtherScope) {
    std::string other = in.ConsumeRandomLengthString(12);
    switch (in.ConsumeIntegralInRange(0, 2)) {
      case 0: signed_scope.date = other; break;
      case 1: signed_scope.region = other; break;
      default: signed_scope.service = other; break;
    }
    if (signed_scope.date == scope.date && signed_scope.region == scope.region &&
        signed_scope.service == scope.service) {
      return 0;  // the same scope after all: not a forgery
    }
  }
  std::string forged = signer == Signer::kForged ? in.ConsumeRandomLengthString(80) : "";
  const int tamper = in.ConsumeIntegralInRange(0, 5);
  const std::string replacement = in.ConsumeRandomLengthString(32);
  r.body = in.ConsumeRandomLengthString(256);
  for (auto& [k, v] : r.headers) {
    if (k == "x-amz-content-sha256" && v.empty()) v = gantry::auth::sha256_hex(r.body);
  }

  // The request as it goes out: the presigned form carries its X-Amz-* parameters in the query.
  const std::string credential =
      scope.access_key_id + "/" + scope.date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  std::string full_query = query;
  if (presigned) {
    const int expires = in.ConsumeBool() ? 300 : in.ConsumeIntegralInRange<int>(-10, 700000);
    std::string params = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
                         gantry::auth::uri_encode(credential, false) +
                         "&X-Amz-Date=" + gantry::auth::uri_encode(date, false) +
                         "&X-Amz-Expires=" + std::to_string(expires) +
                         "&X-Amz-SignedHeaders=" + gantry::auth::uri_encode(scope.signed_headers, false);
    full_query = full_query.empty() ? params : full_query + "&" + params;
  }
  r.target = path + (full_query.empty() ? "" : "?" + full_query);

  std::string sig = forged;
  if (signer != Signer::kForged) {
    std::string payload(r.header("x-amz-content-sha256"));
    if (payload.empty()) payload = gantry::auth::sha256_hex(r.body);
    std::string canonical = gantry::auth::canonical_request(r, signed_scope, payload);
    sig = gantry::auth::signature(secret, signed_scope, gantry::auth::string_to_sign(date, signed_scope, canonical));
  }
  if (presigned) {
    r.target += "&X-Amz-Signature=" + gantry::auth::uri_encode(sig, false);
  } else {
    r.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + credential +
                                                ", SignedHeaders=" + scope.signed_headers + ", Signature=" + sig);
  }

  // The router reads the scope from the request, then verifies.
  auto read = gantry::protocol::read_credential_scope(r);
  if (!read.ok() || !read.value()) return 0;
  const CredentialScope claimed = *read.value();

  Meaning before;
  std::vector<std::string> names;
  const bool unsigned_payload = r.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD";
  if (signer == Signer::kTampered) {
    for (std::size_t start = 0; start <= claimed.signed_headers.size();) {
      std::size_t end = std::min(claimed.signed_headers.find(';', start), claimed.signed_headers.size());
      names.push_back(claimed.signed_headers.substr(start, end - start));
      start = end + 1;
    }
    before = meaning(r, names, unsigned_payload);
    const std::size_t q = r.target.find('?');
    switch (tamper) {
      case 0:
        r.method = replacement;
        break;
      case 1:
        if (q == std::string::npos) {
          r.target += "?" + replacement;
        } else {
          std::string tail_part = r.target.substr(q + 1);
          replace_range(in, tail_part, replacement);
          r.target = r.target.substr(0, q + 1) + tail_part;
        }
        break;
      case 2:
        replace_range(in, r.body, replacement);
        break;
      case 3:
        r.headers[in.ConsumeIntegralInRange<std::size_t>(0, r.headers.size() - 1)].second = replacement;
        break;
      case 4: {
        std::string head = r.target.substr(0, q);
        replace_range(in, head, replacement);
        r.target = head + (q == std::string::npos ? "" : r.target.substr(q));
        break;
      }
      default:
        if (q != std::string::npos) {
          std::string tail_part = r.target.substr(q + 1);
          respell(in, tail_part);
          r.target = r.target.substr(0, q + 1) + tail_part;
        }
        break;
    }
  }

  // A tampered request is read again, as the router would read it.
  auto reread = gantry::protocol::read_credential_scope(r);
  if (!reread.ok() || !reread.value()) return 0;
  const auto result = gantry::auth::verify(r, *reread.value(), keys(), now());
  if (int(result.ok.has_value()) + int(result.auth_error.has_value()) + int(result.malformed.has_value()) != 1) {
    fail("verify() did not return exactly one outcome", describe(r));
  }
  if (!result.ok) return 0;
  if (signer == Signer::kForged || signer == Signer::kWrongSecret || signer == Signer::kOtherScope) {
    fail("verify() accepted a forged signature", describe(r));
  }
  if (signer == Signer::kTampered && meaning(r, names, unsigned_payload) != before) {
    fail("verify() accepted a request changed after signing", describe(r));
  }
  return 0;
}
