// Adaptive jitter buffer for one remote audio stream (NetEq-class, written for
// voicecore). Packets go in with their RTP sequence number, timestamp and
// arrival time; Get() hands out exactly 10 ms of audio per call.
//
// Playout is steered by one quantity, the playout offset O = now - media time of
// the next sample, compared with the DelayManager's target offset Q:
//  * O above Q: accelerate (remove a pitch period); O below Q: decelerate.
//  * At a hole in the media timeline the playout point only advances while O >= Q:
//    below Q it waits (conceals in place, raising O); at or above Q it declares
//    the missing packets lost and conceals their span. A packet that arrives after
//    its span was passed is late. Far above Q (DTX pause, stall) the hole is
//    skipped at once, so there is no stall and no permanent delay.
// Whole packets are never dropped to drain the buffer.
//
// Thread contract: not thread-safe; one instance per stream, called from one
// thread (or serialised by the caller). Put() and Get() never allocate.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "voicecore/jitter/concealment.h"
#include "voicecore/jitter/delay_manager.h"
#include "voicecore/jitter/payload_decoder.h"
#include "voicecore/jitter/time_stretch.h"

namespace voicecore::jitter {

struct JitterBufferConfig {
  int sample_rate_hz = 48000;
  int num_channels = 1;
  int min_delay_ms = 0;
  int max_delay_ms = 1000;
};

enum class FrameKind : int {
  kNormal = 0,
  kExpand = 1,
  kAccelerate = 2,
  kDecelerate = 3,
  kComfortNoise = 4,
  kSilence = 5,
};

enum class PutResult : int {
  kAccepted = 0,
  kDuplicate = 1,
  kLate = 2,
  kMalformed = 3,
};

struct JitterStats {
  int64_t packets_received = 0;    // well-formed packets handed to Put()
  int64_t packets_late = 0;        // arrived after their playout time (dropped)
  int64_t packets_lost = 0;        // never arrived before playout passed them
  int64_t packets_duplicate = 0;
  int64_t packets_reordered = 0;   // arrived after a higher sequence number
  int64_t packets_malformed = 0;   // empty, oversized, or undecodable payloads
  int64_t decoder_errors = 0;      // decode/conceal calls the decoder failed
  int64_t resyncs = 0;             // sender restarts / huge jumps followed
  double concealed_ms = 0;         // output of kind expand
  double comfort_noise_ms = 0;     // output of kind comfort_noise
  double accelerated_ms = 0;       // output of kind accelerate
  double decelerated_ms = 0;       // output of kind decelerate
  double played_ms = 0;            // all output after the first packet
  double current_delay_ms = 0;     // playout offset over the network's fast path
  double target_delay_ms = 0;
};

class JitterBuffer {
 public:
  // `decoder` may be null (raw L16 payloads); otherwise it must outlive the buffer.
  // Throws ConfigError on unsupported parameters.
  JitterBuffer(const JitterBufferConfig& config, PayloadDecoder* decoder);
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // Throws AudioFormatError for a NaN/negative/infinite arrival time (a caller
  // bug); bad payloads from the network are counted, never thrown.
  PutResult Put(uint16_t sequence_number, uint32_t timestamp, std::span<const uint8_t> payload,
                double arrival_ms);

  // Writes frame_samples() interleaved samples per channel into `out`
  // (frame_samples() * num_channels values). `timestamp` receives the RTP
  // timestamp of the first sample. Throws AudioFormatError for a bad `now_ms`.
  FrameKind Get(double now_ms, std::span<float> out, uint32_t* timestamp);

  void Reset();
  const JitterStats& stats() const { return stats_; }
  int frame_samples() const { return frame_samples_; }
  int sample_rate_hz() const { return config_.sample_rate_hz; }
  int num_channels() const { return config_.num_channels; }

 private:
  struct Slot {
    int64_t seq = -1;
    int64_t ts = 0;
    double arrival_ms = 0;
    int samples = -1;
    int bytes = 0;
  };

  double TsToMs(int64_t ts) const { return static_cast<double>(ts) * 1000.0 / rate_; }
  std::span<const uint8_t> PayloadOf(const Slot& s) const;
  Slot* NextPacket();                      // earliest buffered seq >= next_seq_
  void Resync(int64_t ext_seq, int64_t ext_ts, double offset_ms);
  void DecodeAhead(int want_samples);
  bool DecodeInto(Slot* slot);             // decodes and appends to the future buffer
  void SkipSequenceTo(int64_t seq);        // counts never-received packets as lost
  void Compact(int need_tail);
  void AppendHistory(const float* x, int n);
  // `waiting`: the missing audio may still arrive (no packet after the hole yet).
  void ConcealPiece(float* out, int n, bool waiting);
  void MaybeStretch(double offset_ms, double target_ms, FrameKind* kind);

  const JitterBufferConfig config_;
  const double rate_;
  const int ch_;
  const int frame_samples_;
  const int max_packet_samples_;
  const std::size_t max_payload_bytes_;
  const int merge_samples_;

  L16Decoder l16_;
  PayloadDecoder* decoder_;
  DelayManager delay_;
  TimeStretch stretch_;
  Concealment conceal_;

  static constexpr int kSlots = 256;
  static constexpr int kSeen = 1024;
  std::vector<Slot> slots_;
  std::vector<uint8_t> payloads_;
  std::vector<int64_t> seen_;              // ext seq received, by ext seq % kSeen
  std::vector<float> decode_buf_;
  std::vector<float> future_;              // decoded audio ahead of the playout point
  int read_ = 0, write_ = 0;               // sample indices into future_
  int headroom_ = 0;
  int future_concealed_ = 0;               // leading future samples that are PLC/FEC
  std::vector<float> history_;             // the last output samples
  int history_len_ = 0;
  std::vector<float> scratch_;

  bool have_stream_ = false;
  bool started_ = false;
  int64_t highest_seq_ = 0;
  int64_t highest_ts_ = 0;
  int64_t next_seq_ = 0;                   // next seq to decode
  int64_t playout_ts_ = 0;                 // media time of the next output sample
  int64_t write_ts_ = 0;                   // media time at the end of future_
  int last_packet_samples_ = 0;
  bool concealing_ = false;                // internal concealment episode running
  bool merge_pending_ = false;
  bool decode_failed_ = false;             // the last packet could not be decoded
  int64_t underrun_samples_ = 0;           // continuous concealment without a packet
  float noise_rms_ = 0;
  double last_arrival_ms_ = -1;
  JitterStats stats_;
};

}  // namespace voicecore::jitter
