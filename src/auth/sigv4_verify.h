// Verifying AWS Signature Version 4 on a request: the Authorization header form and the presigned
// query-string form, as AWS documents them for every service but S3.
//
// The canonical request is rebuilt from the request as it arrived: the method; the path with dot
// segments and empty segments removed, URI-encoded once more (non-S3 services double-encode); the
// query parameters decoded ('+' as a space, as the query protocol reads them), re-encoded (RFC 3986
// unreserved characters kept) and sorted, without X-Amz-Signature; the signed headers, lower-cased,
// values trimmed and inner whitespace collapsed, repeated headers joined with ','; the signed header
// list; and the payload hash
// (x-amz-content-sha256 when sent — it must then match the body — else sha256 of the body).
// The signature is compared in constant time. A request dated more than 15 minutes away from now is
// refused, and a presigned one after X-Amz-Date + X-Amz-Expires.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "http/message.h"
#include "protocol/sigv4.h"

namespace gantry::auth {

// What a key id stands for: its secret and who uses it.
struct AccessKey {
  std::string access_key_id;
  std::string secret;
  std::string account;
  std::string principal_arn;  // arn:aws:iam::<account>:root, :user/<name>, :assumed-role/<role>/<session>
  std::string principal_id;   // GetCallerIdentity's UserId: the account id for root, AIDA... for a user
  // Temporary credentials (STS): the token the request must carry as X-Amz-Security-Token, and when
  // they stop working. Empty / nullopt for long-term keys, which must not carry a token.
  std::string session_token;
  std::optional<TimePoint> expires_at;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual std::optional<AccessKey> find(std::string_view access_key_id) const = 0;
};

enum class Failure {
  kUnknownKey,         // no such access key id
  kBadSignature,       // the signature (or the payload hash) does not match
  kExpired,            // dated too far from now, or a presigned URL past its expiry
  kTokenExpired,       // temporary credentials past their expiration
};

struct AuthError {
  Failure failure;
  std::string message;  // what AWS says; never anything derived from the secret
};

// RFC 3986 percent-encoding as AWS does it: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, every
// other byte %XX (upper-case hex); '/' kept when `keep_slash`.
std::string uri_encode(std::string_view in, bool keep_slash);

// The pieces, exposed for tests.
// A header value as SigV4 canonicalizes it: leading and trailing spaces and tabs dropped, inner runs
// collapsed to one space.
std::string collapse_spaces(std::string_view v);
std::string canonical_uri(std::string_view raw_path);
std::string canonical_query(std::string_view raw_query, bool presigned);
// Lower-case hex sha256.
std::string sha256_hex(std::string_view data);
std::string canonical_request(const http::Request& request, const protocol::CredentialScope& scope,
                              std::string_view payload_hash);
std::string string_to_sign(std::string_view amz_date, const protocol::CredentialScope& scope,
                           std::string_view canonical);
std::string signature(std::string_view secret, const protocol::CredentialScope& scope, std::string_view to_sign);
// "20150830T123600Z" → time; nullopt when malformed.
std::optional<TimePoint> parse_amz_date(std::string_view text);
// time → "20150830T123600Z" (X-Amz-Date).
std::string format_amz_date(TimePoint t);

struct Verified {
  AccessKey key;
};

// Checks the request's signature (`scope` as read_credential_scope found it). A request that is not
// well formed for verification (no X-Amz-Date, a signed header that is missing) is kIncompleteSignature
// through `malformed`.
struct VerifyResult {
  std::optional<Verified> ok;
  std::optional<AuthError> auth_error;
  std::optional<Error> malformed;
};
// `now` is the wall time the request's date is weighed against; `credentials_now` (default: `now`) the time
// temporary credentials' expiry is (the server's clock, which a manual clock may have moved).
VerifyResult verify(const http::Request& request, const protocol::CredentialScope& scope, const KeyStore& keys,
                    TimePoint now, std::optional<TimePoint> credentials_now = std::nullopt);

}  // namespace gantry::auth
