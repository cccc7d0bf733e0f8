#include "voicecore/vad/frame_vad.h"

#include <cmath>
#include <string>

#include "voicecore/common/errors.h"
#include "voicecore/vad/frame_vad_model.h"

namespace voicecore::vad {

namespace {

const FrameVadConfig& Validated(const FrameVadConfig& config) {
  const int r = config.sample_rate_hz;
  if (r != 8000 && r != 16000 && r != 32000 && r != 48000) {
    throw ConfigError("FrameVad supports sample_rate_hz 8000, 16000, 32000 or 48000, got " +
                      std::to_string(r) + "; resample first (voicecore.Resampler)");
  }
  const int f = config.frame_ms;
  if (f != 10 && f != 20 && f != 30) {
    throw ConfigError("FrameVad supports frame_ms 10, 20 or 30, got " + std::to_string(f));
  }
  return config;
}

// tanh by a [7/6] Pade approximant, clamped where it reaches +-1 to float precision
// (|error| < 1e-4 everywhere, far below what moves the probability); std::tanh was
// 7 % of the per-frame cost.
float FastTanh(float x) {
  if (x > 4.97f) return 1.0f;
  if (x < -4.97f) return -1.0f;
  const float x2 = x * x;
  const float num = x * (135135.0f + x2 * (17325.0f + x2 * (378.0f + x2)));
  const float den = 135135.0f + x2 * (62370.0f + x2 * (3150.0f + x2 * 28.0f));
  return num / den;
}

}  // namespace

FrameVad::FrameVad(const FrameVadConfig& config)
    : config_(Validated(config)),
      frame_size_(static_cast<std::size_t>(config.sample_rate_hz / 1000 * config.frame_ms)),
      features_(config.sample_rate_hz) {}

void FrameVad::Reset() { features_.Reset(); }

void FrameVad::CheckFinite(std::span<const float> samples) {
  for (const float v : samples) {
    if (!std::isfinite(v)) {
      throw AudioFormatError(
          "FrameVad frame contains NaN or Inf samples; clean the audio (np.nan_to_num) first");
    }
  }
}

float FrameVad::Model(const float* features) const {
  using namespace model;
  float logit = kOutputBias;
  for (int h = 0; h < kHidden; ++h) {
    const float* w = kHiddenWeights + static_cast<std::ptrdiff_t>(h) * kNumFeatures;
    float acc = kHiddenBias[h];
    for (int i = 0; i < kNumFeatures; ++i) {
      acc += w[i] * ((features[i] - kFeatureMean[i]) * kFeatureInvStd[i]);
    }
    logit += kOutputWeights[h] * FastTanh(acc);
  }
  return 1.0f / (1.0f + std::exp(-logit));
}

float FrameVad::ProcessHopWithFeatures(std::span<const float> hop, std::span<float> features) {
  if (hop.size() != features_.hop_size() || features.size() != static_cast<std::size_t>(kNumFeatures)) {
    throw AudioFormatError("FrameVad hop must be " + std::to_string(features_.hop_size()) +
                           " samples (10 ms) with room for " + std::to_string(kNumFeatures) +
                           " features");
  }
  CheckFinite(hop);
  features_.Analyze(hop.data(), features.data());
  return Model(features.data());
}

void FrameVad::ProcessHops(std::span<const float> hops, std::span<float> probs) {
  ProcessHops(hops, probs, {});
}

void FrameVad::ProcessHops(std::span<const float> hops, std::span<float> probs,
                           std::span<float> talker_snr) {
  const std::size_t hop = features_.hop_size();
  if (!talker_snr.empty() && talker_snr.size() != probs.size()) {
    throw AudioFormatError("FrameVad talker_snr must have one slot per hop");
  }
  if (hops.size() != probs.size() * hop) {
    throw AudioFormatError("FrameVad hops must hold " + std::to_string(probs.size()) + " x " +
                           std::to_string(hop) + " samples (10 ms each), got " +
                           std::to_string(hops.size()));
  }
  CheckFinite(hops);
  for (std::size_t i = 0; i < probs.size(); ++i) {
    features_.Analyze(hops.data() + i * hop, feature_scratch_);
    probs[i] = Model(feature_scratch_);
    if (!talker_snr.empty()) talker_snr[i] = features_.talker_snr_db();
  }
}

float FrameVad::Process(std::span<const float> frame) {
  if (frame.size() != frame_size_) {
    throw AudioFormatError("FrameVad expects frames of exactly " + std::to_string(frame_size_) +
                           " samples (" + std::to_string(config_.frame_ms) + " ms at " +
                           std::to_string(config_.sample_rate_hz) + " Hz), got " +
                           std::to_string(frame.size()) +
                           "; use SpeechDetector for audio of any length");
  }
  CheckFinite(frame);
  const std::size_t hop = features_.hop_size();
  float sum = 0.0f;
  std::size_t hops = 0;
  for (std::size_t off = 0; off < frame.size(); off += hop, ++hops) {
    features_.Analyze(frame.data() + off, feature_scratch_);
    sum += Model(feature_scratch_);
  }
  return sum / static_cast<float>(hops);
}

}  // namespace voicecore::vad
