// repwatch/core/hash.h - FNV-1a, the one non-cryptographic hash repwatch uses for stable
// fingerprints (dedupe keys, fixture splits). Not for anything an attacker chooses to collide.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace repwatch {

inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;

// FNV-1a (64-bit) of `bytes`, continuing from `h` (kFnvOffset to start).
constexpr uint64_t fnv1a64(std::string_view bytes, uint64_t h = kFnvOffset) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// 16 lower-case hex digits.
inline std::string hex64(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kHex[v & 0xf];
  return out;
}

}  // namespace repwatch
