// Content digests as the OCI image and distribution specs write them, restricted to what Gantry
// stores: "sha256:" followed by exactly 64 lowercase hex digits. A Digest value is always valid, so
// code that holds one never re-checks it (and its hex can be used as a file name safely).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::image {

class Digest {
 public:
  // Strict: "sha256:<64 lowercase hex>". Other algorithms (sha512, blake3), upper-case hex, a missing
  // or wrong-length hex part → kImageDigestInvalid naming the input.
  static Result<Digest> parse(std::string_view text);
  static Digest from_bytes(const std::array<uint8_t, 32>& sha256);

  const std::string& str() const { return text_; }                            // "sha256:ab12…"
  std::string_view hex() const { return std::string_view(text_).substr(7); }  // 64 hex digits

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Incremental SHA-256 (OpenSSL EVP), so content of any size is hashed in bounded memory.
// Not thread-safe; movable, not copyable (a moved-from hasher may only be destroyed or assigned).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const uint8_t> bytes);
  void update(std::string_view bytes);
  // The digest of everything fed so far; the hasher can keep being updated afterwards.
  Digest digest() const;
  uint64_t bytes_hashed() const { return total_; }

 private:
  EVP_MD_CTX* ctx_;
  uint64_t total_ = 0;
};

Digest sha256_of(std::span<const uint8_t> bytes);
Digest sha256_of(std::string_view bytes);

}  // namespace gantry::image
