#include "core/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include <cstdio>
#include <stdexcept>
#include <vector>

namespace gantry {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

std::string Random::hex(size_t n_bytes) {
  std::vector<uint8_t> buf(n_bytes);
  fill(buf.data(), n_bytes);
  std::string out;
  out.reserve(n_bytes * 2);
  for (uint8_t b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string Random::uuid4() {
  uint8_t b[16];
  fill(b, sizeof b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

void SystemRandom::fill(uint8_t* out, size_t n) {
  std::lock_guard lock(mu_);
  while (n > 0) {
    if (used_ == sizeof buffer_) {
      // RAND_bytes only fails when the OS entropy source is unusable; nothing sensible can go on then.
      if (RAND_bytes(buffer_, static_cast<int>(sizeof buffer_)) != 1) throw std::runtime_error("RAND_bytes failed");
      used_ = 0;
    }
    size_t take = std::min(n, sizeof buffer_ - used_);
    std::memcpy(out, buffer_ + used_, take);
    OPENSSL_cleanse(buffer_ + used_, take);  // handed-out bytes do not linger in the buffer
    used_ += take;
    out += take;
    n -= take;
  }
}

void SeededRandom::fill(uint8_t* out, size_t n) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(engine_() & 0xff);
}

}  // namespace gantry
