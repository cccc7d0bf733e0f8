// Payload decoding seam of the jitter buffer. The buffer stores encoded payloads
// and decodes them in sequence order at playout time, so a stateful codec (Opus)
// sees its packets in order and can use the next packet's in-band FEC for a lost
// one. The default decoder is raw L16 (RFC 3551: 16-bit big-endian PCM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace voicecore::jitter {

// Thread contract: called only from the JitterBuffer that owns the pointer, on
// the thread calling JitterBuffer::Put/Get.
class PayloadDecoder {
 public:
  virtual ~PayloadDecoder() = default;

  // Samples per channel of `payload`, or -1 when only decoding can tell. Used to
  // spot packets that are wholly behind the playout point without decoding them.
  virtual int PacketSamples(std::span<const uint8_t> payload) const = 0;

  // Decodes `payload` into `out` (interleaved float in [-1, 1], capacity
  // out.size() values). Returns samples per channel, or -1 if the payload is
  // malformed or the decoder failed (the packet is then concealed).
  virtual int Decode(std::span<const uint8_t> payload, std::span<float> out) = 0;

  // Codec packet-loss concealment of `num_samples` per channel into `out`.
  // Returns num_samples, or -1 when the codec has no PLC (the buffer conceals).
  virtual int Conceal(int num_samples, std::span<float> out) = 0;

  // Recovers the `num_samples` just before `next_payload` from its in-band FEC.
  // Returns num_samples, or -1 when there is no FEC (then Conceal is used).
  virtual int DecodeFec(std::span<const uint8_t> next_payload, int num_samples,
                        std::span<float> out) = 0;

  // True when Conceal() is expected to work, so the buffer does not crossfade
  // the codec's own concealment into decoded audio a second time.
  virtual bool HasConcealment() const = 0;
  // True when DecodeFec() may recover audio. While the buffer waits for a packet
  // that may still come, it then conceals by itself and keeps the codec state
  // untouched, so the FEC of the next packet can still replace the gap.
  virtual bool HasFec() const = 0;

  virtual void Reset() = 0;
};

// RFC 3551 L16: interleaved 16-bit signed samples in network byte order.
class L16Decoder final : public PayloadDecoder {
 public:
  explicit L16Decoder(int num_channels) : num_channels_(num_channels) {}
  int PacketSamples(std::span<const uint8_t> payload) const override;
  int Decode(std::span<const uint8_t> payload, std::span<float> out) override;
  int Conceal(int, std::span<float>) override { return -1; }
  int DecodeFec(std::span<const uint8_t>, int, std::span<float>) override { return -1; }
  bool HasConcealment() const override { return false; }
  bool HasFec() const override { return false; }
  void Reset() override {}

 private:
  const int num_channels_;
};

}  // namespace voicecore::jitter
