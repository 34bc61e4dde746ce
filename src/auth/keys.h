// Where access keys come from: for now the account root's one key pair (IAM users and STS sessions
// come with the IAM issue).
//
// Root credentials: given with `--root-credentials AKID:SECRET`, or else read from
// <data-dir>/credentials, which the first start creates with a random pair (mode 0600, in the format
// of the AWS shared credentials file, so `AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials` works).
// The file is the one place the secret lives: SigV4 needs the secret itself to check a signature, so
// it cannot be stored as a hash; with --root-credentials nothing is written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "auth/sigv4_verify.h"
#include "core/error.h"
#include "core/random.h"

namespace gantry::auth {

struct RootCredentials {
  std::string access_key_id;
  std::string secret;
  std::filesystem::path file;  // where they were read from or written to; empty when given
  bool created = false;        // written by this start
};

struct KeyPair {
  std::string access_key_id;  // "AKIA" + 16 characters of [A-Z2-7]
  std::string secret;         // 40 characters of [A-Za-z0-9+/]
};
KeyPair generate_key_pair(Random& random);
// `n` characters drawn from `alphabet` (at most 256 characters) with `random`.
std::string random_chars(Random& random, size_t n, std::string_view alphabet);

// "AKID:SECRET" (key id 16–128 characters of [A-Z0-9], secret at least 8 characters).
Result<RootCredentials> parse_root_credentials(std::string_view text);
// Reads <data_dir>/credentials, or creates it with a random key pair ("AKIA" + 16 characters, a
// 40-character secret).
Result<RootCredentials> load_or_create_root_credentials(const std::filesystem::path& data_dir, Random& random);

class StaticKeyStore final : public KeyStore {
 public:
  explicit StaticKeyStore(std::vector<AccessKey> keys) : keys_(std::move(keys)) {}
  std::optional<AccessKey> find(std::string_view access_key_id) const override;

 private:
  std::vector<AccessKey> keys_;
};

}  // namespace gantry::auth
