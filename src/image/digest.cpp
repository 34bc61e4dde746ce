#include "image/digest.h"

#include <fmt/format.h>

#include <algorithm>
#include <new>
#include <utility>

namespace gantry::image {

namespace {

constexpr std::string_view kPrefix = "sha256:";
constexpr char kHex[] = "0123456789abcdef";

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Digests arrive from URLs and JSON; keep a hostile one from flooding a message or a log line.
std::string quoted(std::string_view text) {
  constexpr size_t kMax = 100;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}…' ({} bytes)", text.substr(0, kMax), text.size());
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return make_error(ErrorKind::kImageDigestInvalid,
                      fmt::format("digest {} is not of the form sha256:<64 hex digits>", quoted(text)));
  }
  if (text.substr(0, colon + 1) != kPrefix) {
    return make_error(ErrorKind::kImageDigestInvalid,
                      fmt::format("digest {}: algorithm '{}' is not supported (only sha256)", quoted(text),
                                  text.substr(0, std::min<size_t>(colon, 32))));
  }
  auto hex = text.substr(kPrefix.size());
  if (hex.size() != 64) {
    return make_error(ErrorKind::kImageDigestInvalid,
                      fmt::format("digest {}: a sha256 digest has 64 hex digits, not {}", quoted(text), hex.size()));
  }
  for (char c : hex) {
    if (!is_lower_hex(c)) {
      return make_error(ErrorKind::kImageDigestInvalid,
                        fmt::format("digest {}: hex digits must be 0-9 or a-f (lowercase)", quoted(text)));
    }
  }
  return Digest(std::string(text));
}

Digest Digest::from_bytes(const std::array<uint8_t, 32>& sha256) {
  std::string text(kPrefix);
  text.reserve(kPrefix.size() + 64);
  for (uint8_t b : sha256) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 15]);
  }
  return Digest(std::move(text));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)), total_(other.total_) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    total_ = other.total_;
  }
  return *this;
}

void Sha256::update(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  // EVP_DigestUpdate on an initialised SHA-256 context cannot fail.
  EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
  total_ += bytes.size();
}

void Sha256::update(std::string_view bytes) {
  update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

Digest Sha256::digest() const {
  // Finalise a copy so this hasher stays usable.
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  if (copy == nullptr || EVP_MD_CTX_copy_ex(copy, ctx_) != 1) {
    EVP_MD_CTX_free(copy);
    throw std::bad_alloc();
  }
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy, out.data(), &len);
  EVP_MD_CTX_free(copy);
  return Digest::from_bytes(out);
}

Digest sha256_of(std::span<const uint8_t> bytes) {
  Sha256 h;
  h.update(bytes);
  return h.digest();
}

Digest sha256_of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.digest();
}

}  // namespace gantry::image
