// FrameVad: the always-on first VAD stage. Per 10 ms hop it extracts the
// features of vad_features.h and maps them to a calibrated speech probability
// with a small fixed neural model (weights in frame_vad_model.h, fit offline by
// bench/fit_frame_vad.py). Frames of 20 or 30 ms are analysed as 2 or 3 hops and
// report the mean probability.
//
// Thread contract: one instance per audio stream; not thread-safe. The
// constructor allocates; Process() never allocates.
#pragma once

#include <cstddef>
#include <span>

#include "voicecore/vad/vad_features.h"

namespace voicecore::vad {

struct FrameVadConfig {
  int sample_rate_hz = 16000;  // 8000, 16000, 32000 or 48000
  int frame_ms = 10;           // 10, 20 or 30
};

class FrameVad {
 public:
  // Throws ConfigError for an unsupported rate or frame length.
  explicit FrameVad(const FrameVadConfig& config);
  FrameVad(const FrameVad&) = delete;
  FrameVad& operator=(const FrameVad&) = delete;

  // Consumes exactly frame_size() samples in [-1, 1]; returns P(speech) in
  // [0, 1]. Throws AudioFormatError on a wrong length or NaN/Inf samples.
  float Process(std::span<const float> frame);
  // Scores consecutive 10 ms hops (hops.size() == probs.size() * hop_size(),
  // whatever frame_ms is): probs[i] is hop i's probability, as Process() on a
  // 10 ms FrameVad would return it. One call per block of hops keeps the
  // caller's per-hop overhead (a Python call each) out of the always-on stage.
  void ProcessHops(std::span<const float> hops, std::span<float> probs);
  // As above, and talker_snr[i] is talker_snr_db() after hop i (talker_snr.size() ==
  // probs.size()), for a caller that acts on it hop by hop.
  void ProcessHops(std::span<const float> hops, std::span<float> probs, std::span<float> talker_snr);
  // Like Process() for one 10 ms hop, but also writes the kNumFeatures inputs of
  // the model (the offline fit reads them through this).
  float ProcessHopWithFeatures(std::span<const float> hop, std::span<float> features);
  // Clears all history (noise floor, smoothing); keeps the configuration.
  void Reset();

  std::size_t frame_size() const { return frame_size_; }
  std::size_t hop_size() const { return features_.hop_size(); }
  // See VadFeatures::talker_snr_db (after the latest hop).
  float talker_snr_db() const { return features_.talker_snr_db(); }
  const FrameVadConfig& config() const { return config_; }

 private:
  float Model(const float* features) const;
  static void CheckFinite(std::span<const float> samples);

  const FrameVadConfig config_;
  const std::size_t frame_size_;
  VadFeatures features_;
  float feature_scratch_[kNumFeatures] = {};
};

}  // namespace voicecore::vad
