// CascadeGate: the per-hop decision of the two-stage VAD ("cascade"): FrameVad
// scores every 10 ms hop at 16 kHz and Silero (run by the caller through a
// callback) only where its last answer could change. The rules, and why each
// is there, are documented on voicecore.vad.StreamingVad; this is the same state
// machine in C++ so that a hop that needs no Silero costs no Python work.
//
// Thread contract: one instance per audio stream; not thread-safe. The
// constructor allocates; Process() never allocates (the callback may).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "voicecore/vad/frame_vad.h"

namespace voicecore::vad {

struct CascadeGateConfig {
  double gate_threshold = 0.2;       // FrameVad below: sure of silence
  double confident_threshold = 0.97; // FrameVad at or above: sure of speech
  double hold_threshold = 0.7;       // Silero at or above: a speech verdict
  double hold_floor = 0.25;          // FrameVad must stay at or above to hold speech
  // ... and, where FrameVad's talker-over-noise estimate is below low_snr_db, its
  // ~300 ms level at or above hold_level: a speech verdict Silero gave on a burst of
  // noise that FrameVad scored high only briefly is not held (Silero runs on).
  double hold_level = 0.5;
  double reject_threshold = 0.15;    // Silero below: a non-speech verdict
  double rise = 0.2;                 // FrameVad rise over the rejected noise that recalls Silero
  // While Silero drains after an utterance whose ~300 ms level peaked at fresh_peak
  // or above, FrameVad answers hops it scores below drain_quiet (not only below
  // gate_threshold).
  double drain_quiet = 0.5;
  // While a speech verdict is held after an utterance whose ~300 ms level peaked at
  // held_quiet_peak or above, hops FrameVad scores below held_quiet report FrameVad's
  // probability instead of the held verdict (the hold itself, and Silero, are unchanged).
  double held_quiet = 0.4;
  double held_quiet_peak = 0.97;
  int hold_samples = 6400;           // age limit of a held speech verdict
  int recheck_samples = 6144;        // age limit of a held non-speech verdict
  int refresh_samples = 5120;        // Silero's period inside confident speech (0: never)
  int hangover_samples = 800;        // gate stays open this long after the last need
  int warmup_samples = 1024;         // replayed when Silero resumes (multiple of 512)
  int refresh_replay_samples = 512;  // replayed by a refresh inside confident speech
  // Silero restarts from a zero recurrent state when it resumes to drain a stale
  // speech verdict after an utterance (see CascadeGate::Process): FrameVad's
  // ~300 ms level peaked at fresh_peak or above since Silero last rejected the
  // audio and is now below fresh_level. It replays drain_warmup_samples, and
  // for fresh_probation_chunks chunks FrameVad answers while Silero runs.
  bool fresh_drain = true;
  double fresh_peak = 0.93;
  double fresh_level = 0.6;
  int fresh_probation_chunks = 4;
  int drain_warmup_samples = 1024;
  // A Silero rejection while FrameVad's ~20 ms level is at or above contested_level
  // is contested: it is not held as silence; below confident_threshold Silero runs
  // on every chunk until it stops rejecting or FrameVad is sure of silence. Those
  // hops report the larger of the two once the contest reached
  // contested_report_level (FrameVad sure of speech), Silero's below it: where
  // FrameVad only leans to speech (0 dB bike, 20 dB babble in pauses) its false
  // alarms cost more than the rejections they would correct. 0 disables
  // (held like any other rejection).
  double contested_level = 0.85;
  double contested_report_level = 0.97;
  // A rejection while FrameVad's ~20 ms level is at or above contested_report_level
  // (the first of a contest) restarts Silero from a zero state over the last
  // contest_restart_samples, with fresh_probation_chunks of probation. 0 disables.
  int contest_restart_samples = 3072;
  // A drain that keeps Silero's state (a resume after a speech verdict, not a
  // fresh drain) while FrameVad's talker-over-noise estimate
  // (FrameVad::talker_snr_db) is below low_snr_db replays at least
  // low_snr_warmup_samples: in loud noise the sparsely run Silero, resumed on a
  // short replay, misread the utterance's end, and the longer replay on every
  // resume cost quiet scenes chunks they do not need. Not on other resumes (more
  // cost, and after a rejection it did worse). low_snr_db <= -100 disables (and
  // hold_level with it).
  double low_snr_db = 15.0;
  int low_snr_warmup_samples = 3072;
};

class CascadeGate {
 public:
  static constexpr int kChunk = 512;    // Silero chunk at 16 kHz
  static constexpr int kContext = 64;   // samples before a chunk that Silero also sees
  static constexpr int kHop = 160;
  // Receives kContext + kChunk consecutive samples (the chunk's true preceding
  // samples, then the chunk); returns Silero's probability for the chunk. When
  // fresh is true Silero must clear its recurrent state before scoring.
  using SileroFn = std::function<float(const float* window, bool fresh)>;

  // Throws ConfigError for thresholds out of order or a warm-up that does not fit.
  explicit CascadeGate(const CascadeGateConfig& config);
  CascadeGate(const CascadeGate&) = delete;
  CascadeGate& operator=(const CascadeGate&) = delete;

  // Consumes hops.size() / 160 hops; writes one probability per hop to probs.
  // Throws AudioFormatError on a size mismatch or NaN/Inf samples (before any
  // state changes).
  void Process(std::span<const float> hops, std::span<double> probs, const SileroFn& silero);
  void Reset();

  std::int64_t silero_chunks() const { return silero_chunks_; }
  float silero_probability() const { return silero_prob_; }
  float frame_probability() const { return frame_prob_; }
  bool gate_open() const { return gate_open_; }
  // The buffer every callback window points into (for zero-copy bindings).
  const float* window_data() const { return window_.data(); }

 private:
  void RunSilero(const SileroFn& silero);
  void OpenGate(int replay_samples);
  void CopyFromRing(std::int64_t start, int count, float* out) const;

  const CascadeGateConfig config_;
  FrameVad frame_;
  std::vector<float> ring_;   // recent audio, power-of-two size
  std::vector<float> window_; // kContext + kChunk
  static constexpr int kBlockHops = 32;  // hops per FrameVad call
  float frame_probs_[kBlockHops] = {};
  float frame_snr_[kBlockHops] = {};
  std::int64_t pos_ = 0;         // samples seen
  std::int64_t silero_pos_ = 0;  // next Silero chunk start
  std::int64_t gate_until_ = -1;
  bool gate_open_ = false;
  bool fresh_pending_ = false;  // next Silero chunk starts from a zero state
  bool contested_ = false;      // Silero rejects audio FrameVad leaned to
  bool contested_sure_ = false; // ... and FrameVad was sure of it during the contest
  double smoothed_ = 0.0;  // FrameVad probability, smoothed over about 2 hops
  int probation_left_ = 0;    // restarted-Silero chunks left before its verdict counts
  double peak_ = 0.0;  // highest slow_ since Silero last rejected the audio
  double slow_ = 0.0;      // FrameVad probability, smoothed over about 300 ms
  double base_ = 0.0;      // smoothed FrameVad where Silero last rejected the audio
  double verdict_ = 0.0;   // Silero's latest probability, as the gate last saw it
  float silero_prob_ = 0.0f;
  float frame_prob_ = 0.0f;
  std::int64_t silero_chunks_ = 0;
};

}  // namespace voicecore::vad
