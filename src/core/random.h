// Randomness is injected: ids, tokens and keys come from a Random. Production uses the OS CSPRNG
// (OpenSSL RAND_bytes); tests use SeededRandom for reproducible ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace gantry {

class Random {
 public:
  virtual ~Random() = default;
  // Thread-safe.
  virtual void fill(uint8_t* out, size_t n) = 0;

  std::string hex(size_t n_bytes);   // 2*n_bytes lowercase hex digits
  std::string uuid4();               // 8-4-4-4-12 lowercase, version 4
};

// Draws from OpenSSL's CSPRNG in 4 KiB batches: a request id then costs a copy, not a RAND_bytes call.
class SystemRandom final : public Random {
 public:
  void fill(uint8_t* out, size_t n) override;

 private:
  std::mutex mu_;
  uint8_t buffer_[4096];
  size_t used_ = sizeof buffer_;
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  void fill(uint8_t* out, size_t n) override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace gantry
