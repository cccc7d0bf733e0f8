// Exception types the kernels throw. The Python bindings translate them into
// voicecore.AudioFormatError / voicecore.ConfigError, so every message must say
// what was wrong and what the caller should do instead.
#pragma once

#include <stdexcept>
#include <string>

namespace voicecore {

// Bad audio handed to a kernel: wrong length, channel count, NaN/Inf samples.
class AudioFormatError : public std::invalid_argument {
 public:
  explicit AudioFormatError(const std::string& what) : std::invalid_argument(what) {}
};

// Bad construction parameters: unsupported rate, unknown preset, negative sizes.
class ConfigError : public std::invalid_argument {
 public:
  explicit ConfigError(const std::string& what) : std::invalid_argument(what) {}
};

}  // namespace voicecore
