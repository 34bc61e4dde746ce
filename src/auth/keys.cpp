#include "auth/keys.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gantry::auth {

namespace {

constexpr std::string_view kFile = "credentials";

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

bool valid_key_id(std::string_view id) {
  if (id.size() < 16 || id.size() > 128) return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

Error invalid(std::string message) { return make_error(ErrorKind::kInternal, std::move(message)); }

}  // namespace

Result<RootCredentials> parse_root_credentials(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return invalid("--root-credentials must be ACCESS_KEY_ID:SECRET_ACCESS_KEY");
  RootCredentials c;
  c.access_key_id = std::string(text.substr(0, colon));
  c.secret = std::string(text.substr(colon + 1));
  if (!valid_key_id(c.access_key_id))
    return invalid("--root-credentials: the access key id must be 16 to 128 upper-case letters and digits");
  if (c.secret.size() < 8) return invalid("--root-credentials: the secret access key must be at least 8 characters");
  return c;
}

Result<RootCredentials> load_or_create_root_credentials(const std::filesystem::path& data_dir, Random& random) {
  const auto path = data_dir / kFile;
  std::ifstream in(path);
  if (in) {
    RootCredentials c;
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = trim(std::string_view(line).substr(0, eq));
      std::string value = trim(std::string_view(line).substr(eq + 1));
      if (key == "aws_access_key_id") c.access_key_id = value;
      if (key == "aws_secret_access_key") c.secret = value;
    }
    if (!valid_key_id(c.access_key_id) || c.secret.size() < 8)
      return invalid(fmt::format("{} has no valid aws_access_key_id and aws_secret_access_key: fix or delete it "
                                 "(a new pair is made when it is missing)",
                                 path.string()));
    c.file = path;
    return c;
  }
  auto pair = generate_key_pair(random);
  RootCredentials c;
  c.access_key_id = pair.access_key_id;
  c.secret = pair.secret;
  c.file = path;
  c.created = true;
  std::string text = fmt::format(
      "# Root credentials of the Gantry server using this data directory. Keep them secret.\n"
      "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
      c.access_key_id, c.secret);
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return invalid(fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return invalid(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  return c;
}

std::string random_chars(Random& random, size_t n, std::string_view alphabet) {
  std::string bytes = random.hex(n);  // 2 hex digits (one random byte) per character
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    unsigned v = static_cast<unsigned>(std::stoul(bytes.substr(2 * i, 2), nullptr, 16));
    out.push_back(alphabet[v % alphabet.size()]);
  }
  return out;
}

KeyPair generate_key_pair(Random& random) {
  static constexpr std::string_view kIdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  static constexpr std::string_view kSecretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return KeyPair{"AKIA" + random_chars(random, 16, kIdChars), random_chars(random, 40, kSecretChars)};
}

std::optional<AccessKey> StaticKeyStore::find(std::string_view access_key_id) const {
  for (const auto& k : keys_) {
    if (k.access_key_id == access_key_id) return k;
  }
  return std::nullopt;
}

}  // namespace gantry::auth
