#include "voicecore/jitter/payload_decoder.h"

namespace voicecore::jitter {

int L16Decoder::PacketSamples(std::span<const uint8_t> payload) const {
  const std::size_t frame_bytes = 2 * static_cast<std::size_t>(num_channels_);
  if (payload.empty() || payload.size() % frame_bytes != 0) return -1;
  return static_cast<int>(payload.size() / frame_bytes);
}

int L16Decoder::Decode(std::span<const uint8_t> payload, std::span<float> out) {
  const int samples = PacketSamples(payload);
  if (samples < 0) return -1;
  const std::size_t values = payload.size() / 2;
  if (values > out.size()) return -1;
  constexpr float kScale = 1.0f / 32768.0f;
  for (std::size_t i = 0; i < values; ++i) {
    const auto v = static_cast<int16_t>(static_cast<uint16_t>(payload[2 * i]) << 8 |
                                        static_cast<uint16_t>(payload[2 * i + 1]));
    out[i] = static_cast<float>(v) * kScale;
  }
  return samples;
}

}  // namespace voicecore::jitter
