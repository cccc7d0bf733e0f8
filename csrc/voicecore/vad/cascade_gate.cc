#include "voicecore/vad/cascade_gate.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "voicecore/common/errors.h"

namespace voicecore::vad {

namespace {

constexpr std::size_t kRingSize = 4096;  // >= replay + context + chunk + hop
// Held speech reports at most this (StreamingVad's HELD_CAP).
constexpr double kHeldCap = 0.85;
// One-pole smoothing of FrameVad for the utterance level (time constant ~300 ms).
constexpr double kSlowAlpha = 1.0 / 30;

const CascadeGateConfig& Validated(const CascadeGateConfig& c) {
  if (!(0.0 <= c.gate_threshold && c.gate_threshold <= c.confident_threshold)) {
    throw ConfigError("need 0 <= gate_threshold <= confident_threshold");
  }
  if (!(0.0 <= c.reject_threshold && c.reject_threshold <= c.hold_threshold &&
        c.hold_threshold <= 1.0 && 0.0 <= c.hold_floor && c.hold_floor <= 1.0 && 0.0 <= c.hold_level &&
        c.hold_level <= 1.0 && c.rise >= 0.0)) {
    throw ConfigError(
        "need 0 <= reject_threshold <= hold_threshold <= 1, hold_floor and hold_level in [0, 1] and "
        "rise >= 0");
  }
  if (std::min({c.hold_samples, c.recheck_samples, c.refresh_samples, c.hangover_samples}) < 0) {
    throw ConfigError("hold, recheck, refresh and hangover must be >= 0");
  }
  const int max_warmup = static_cast<int>(kRingSize) - CascadeGate::kChunk - CascadeGate::kContext -
                         2 * CascadeGate::kHop;
  if (c.warmup_samples < CascadeGate::kChunk || c.warmup_samples % CascadeGate::kChunk != 0 ||
      c.warmup_samples > max_warmup) {
    throw ConfigError("warmup must be a multiple of 512 samples from 512 to " +
                      std::to_string(max_warmup / CascadeGate::kChunk * CascadeGate::kChunk));
  }
  if (c.refresh_replay_samples < CascadeGate::kChunk ||
      c.refresh_replay_samples % CascadeGate::kChunk != 0 || c.refresh_replay_samples > max_warmup) {
    throw ConfigError("refresh replay must be a multiple of 512 samples from 512 to " +
                      std::to_string(max_warmup / CascadeGate::kChunk * CascadeGate::kChunk));
  }
  if (c.drain_warmup_samples < CascadeGate::kChunk || c.drain_warmup_samples % CascadeGate::kChunk != 0 ||
      c.drain_warmup_samples > max_warmup) {
    throw ConfigError("drain warmup must be a multiple of 512 samples from 512 to " +
                      std::to_string(max_warmup / CascadeGate::kChunk * CascadeGate::kChunk));
  }
  if (!(c.gate_threshold <= c.drain_quiet && c.drain_quiet <= 1.0)) {
    throw ConfigError("need gate_threshold <= drain_quiet <= 1");
  }
  if (!(0.0 <= c.held_quiet && c.held_quiet <= 1.0 && 0.0 <= c.held_quiet_peak &&
        c.held_quiet_peak <= 1.0)) {
    throw ConfigError("need held_quiet and held_quiet_peak in [0, 1]");
  }
  if (!(0.0 <= c.fresh_level && c.fresh_level <= 1.0 && 0.0 <= c.fresh_peak && c.fresh_peak <= 1.0 &&
        c.fresh_probation_chunks >= 0)) {
    throw ConfigError("need fresh_level and fresh_peak in [0, 1] and fresh_probation_chunks >= 0");
  }
  if (c.low_snr_warmup_samples < CascadeGate::kChunk ||
      c.low_snr_warmup_samples % CascadeGate::kChunk != 0 || c.low_snr_warmup_samples > max_warmup) {
    throw ConfigError("low-SNR warmup must be a multiple of 512 samples from 512 to " +
                      std::to_string(max_warmup / CascadeGate::kChunk * CascadeGate::kChunk));
  }
  if (!(0.0 <= c.contested_level && c.contested_level <= 1.0)) {
    throw ConfigError("need contested_level in [0, 1] (0 disables)");
  }
  if (!(0.0 <= c.contested_report_level && c.contested_report_level <= 1.0)) {
    throw ConfigError("need contested_report_level in [0, 1]");
  }
  if (c.contest_restart_samples != 0 &&
      (c.contest_restart_samples < CascadeGate::kChunk ||
       c.contest_restart_samples % CascadeGate::kChunk != 0 || c.contest_restart_samples > max_warmup)) {
    throw ConfigError("contest restart must be 0 or a multiple of 512 samples from 512 to " +
                      std::to_string(max_warmup / CascadeGate::kChunk * CascadeGate::kChunk));
  }
  return c;
}

FrameVadConfig TenMsAt16k() {
  FrameVadConfig fc;
  fc.sample_rate_hz = 16000;
  fc.frame_ms = 10;
  return fc;
}

}  // namespace

CascadeGate::CascadeGate(const CascadeGateConfig& config)
    : config_(Validated(config)),
      frame_(TenMsAt16k()),
      ring_(kRingSize),
      window_(static_cast<std::size_t>(kContext + kChunk)) {
  Reset();
}

void CascadeGate::Reset() {
  frame_.Reset();
  std::fill(ring_.begin(), ring_.end(), 0.0f);
  std::fill(window_.begin(), window_.end(), 0.0f);
  pos_ = silero_pos_ = 0;
  gate_until_ = -1;
  gate_open_ = false;
  fresh_pending_ = false;
  contested_ = contested_sure_ = false;
  probation_left_ = 0;
  smoothed_ = base_ = verdict_ = slow_ = peak_ = 0.0;
  silero_prob_ = frame_prob_ = 0.0f;
  silero_chunks_ = 0;
}

void CascadeGate::CopyFromRing(std::int64_t start, int count, float* out) const {
  const std::size_t mask = kRingSize - 1;
  for (int i = 0; i < count; ++i) {
    // Before the stream start the ring still holds its initial zeros, as Silero's
    // own context does on a fresh stream.
    out[i] = start + i < 0 ? 0.0f : ring_[static_cast<std::size_t>(start + i) & mask];
  }
}

void CascadeGate::RunSilero(const SileroFn& silero) {
  while (silero_pos_ + kChunk <= pos_) {
    CopyFromRing(silero_pos_ - kContext, kContext + kChunk, window_.data());
    silero_prob_ = silero(window_.data(), fresh_pending_);
    fresh_pending_ = false;
    if (probation_left_ > 0) --probation_left_;
    silero_pos_ += kChunk;
    ++silero_chunks_;
  }
}

void CascadeGate::OpenGate(int replay_samples) {
  // Silero skipped audio while the gate was closed. Its recurrent state is kept
  // (it summarises the stream up to where it stopped) and it resumes on the last
  // replay_samples of audio; every window carries the chunk's true preceding samples.
  silero_pos_ = std::max(silero_pos_, pos_ - replay_samples);
  gate_open_ = true;
}

void CascadeGate::Process(std::span<const float> hops, std::span<double> probs,
                          const SileroFn& silero) {
  if (hops.size() != probs.size() * kHop) {
    throw AudioFormatError("CascadeGate expects whole 10 ms hops (160 samples each) at 16 kHz");
  }
  for (const float v : hops) {
    if (!std::isfinite(v)) {
      throw AudioFormatError("audio contains NaN or Inf samples; clean it (np.nan_to_num) first");
    }
  }
  const CascadeGateConfig& c = config_;
  const std::size_t mask = kRingSize - 1;
  for (std::size_t b = 0; b < probs.size(); b += kBlockHops) {
    const std::size_t m = std::min<std::size_t>(kBlockHops, probs.size() - b);
    frame_.ProcessHops(hops.subspan(b * kHop, m * kHop), std::span<float>(frame_probs_, m),
                       std::span<float>(frame_snr_, m));
    for (std::size_t i = 0; i < m; ++i) {
      const float* hop = hops.data() + (b + i) * kHop;
      for (int k = 0; k < kHop; ++k) ring_[static_cast<std::size_t>(pos_ + k) & mask] = hop[k];
      pos_ += kHop;
      const double fp = frame_probs_[i];
      smoothed_ = 0.5 * smoothed_ + 0.5 * fp;
      slow_ += kSlowAlpha * (fp - slow_);
      peak_ = std::max(peak_, slow_);
      const std::int64_t age = pos_ - silero_pos_;
      bool need = false, held_speech = false, held_silence = false, refresh = false;
      bool quiet = false, probation = false;
      if (contested_ && fp < c.gate_threshold) contested_ = contested_sure_ = false;
      if (fp >= c.confident_threshold) {
        need = refresh = c.refresh_samples > 0 && age > c.refresh_samples;
      } else if (contested_) {
        // FrameVad leaned to speech where Silero rejected it. Held as silence, such a
        // rejection reported silence for up to recheck_samples of what FrameVad scored
        // as speech; a single chunk of a sparsely run Silero, whose state drifted while
        // it skipped audio, is too weak a verdict for that. Run on every chunk, its
        // state catches up with the audio (at 0 dB its replay of 64 ms after a held
        // rejection left it at 0.05-0.13 through speech Silero run throughout scored
        // 0.8-0.97).
        need = true;
      } else if (probation_left_ > 0) {
        // A restarted Silero under-reports speech for its first chunks (a zero state
        // needs 4-8 chunks to call an utterance already under way): it runs, but
        // FrameVad answers, and a rejection from it is not yet held.
        need = true;
        probation = true;
      } else if (verdict_ >= c.hold_threshold && fp >= c.hold_floor &&
                 (slow_ >= c.hold_level || frame_snr_[i] >= c.low_snr_db) &&
                 age <= c.hold_samples) {
        // At low SNR not where FrameVad's ~300 ms level is low: at 0 dB a burst of noise that
        // FrameVad scored high for 50-100 ms resumed Silero, whose speech verdict on
        // its first chunks (0.75-0.95 where Silero run throughout said 0.2) was then
        // held for 400 ms of noise. Silero runs on there until it rejects the audio
        // or FrameVad's level rises.
        held_speech = true;
      } else if (verdict_ >= c.reject_threshold) {
        need = true;  // drain: Silero must see the fall to leave its speech state
        // FrameVad's confident silence is still the hop's answer: Silero's decaying
        // (or stale) speech state would report speech where Silero run throughout
        // has already let go. After a clear utterance (peak_, as for a fresh drain)
        // so is FrameVad's lean to silence: its stale state reported speech in the
        // first ~500 ms of bike and dishes pauses at 5-10 dB. Not at low SNR, where
        // FrameVad dips inside the speech and the draining Silero is right.
        quiet = fp < c.gate_threshold || (fp < c.drain_quiet && peak_ >= c.fresh_peak);
      } else if (fp < c.gate_threshold) {
        need = false;
      } else if (smoothed_ <= base_ + c.rise && age <= c.recheck_samples) {
        held_silence = true;
      } else {
        need = true;
      }
      if (need) {
        gate_until_ = pos_ + c.hangover_samples;
        // A refresh only keeps Silero's state in step with the utterance (FrameVad
        // decides these hops), so one chunk is enough; elsewhere its answer counts.
        if (!gate_open_) {
          // A drain of a speech verdict after skipped audio: Silero's state is stale
          // (it heard the utterance only in refresh chunks), and resumed from it in
          // babble it keeps reporting speech for seconds. From a zero state it
          // judges the pause on its own, as it does babble at a stream start. Only
          // once FrameVad's utterance level has fallen from a clear peak (the
          // utterance has probably ended): inside an utterance, or at low SNR where
          // FrameVad never got sure, a zero state would miss the speech.
          const bool stale_speech = !refresh && verdict_ >= c.hold_threshold && c.fresh_drain &&
                                    peak_ >= c.fresh_peak && slow_ < c.fresh_level;
          if (stale_speech) {
            fresh_pending_ = true;
            probation_left_ = c.fresh_probation_chunks;
          }
          int replay = refresh ? c.refresh_replay_samples
                               : (stale_speech ? c.drain_warmup_samples : c.warmup_samples);
          const bool low_snr_drain = !refresh && !stale_speech && verdict_ >= c.reject_threshold &&
                                     frame_snr_[i] < c.low_snr_db;
          if (low_snr_drain) {
            replay = std::max(replay, c.low_snr_warmup_samples);
          }
          OpenGate(replay);
        }
      } else if (gate_open_ && pos_ > gate_until_) {
        gate_open_ = false;
      }
      if (gate_open_ && silero_pos_ + kChunk <= pos_) {
        RunSilero(silero);
        if (c.contest_restart_samples > 0 && silero_prob_ < c.reject_threshold &&
            c.contested_level > 0.0 && !contested_sure_ && smoothed_ >= c.contested_report_level) {
          // Silero rejects what FrameVad is sure of: its state has drifted from the
          // speech (run even on every chunk from there, it stayed at 0.1-0.5 for 2 s of
          // 0 dB speech that Silero run throughout scored 0.7-0.99). It restarts from a
          // zero state over the last contest_restart_samples, and for
          // fresh_probation_chunks chunks runs while FrameVad answers (a zero state
          // needs several chunks to call an utterance under way). Once per contest.
          silero_pos_ = std::max<std::int64_t>(0, pos_ - c.contest_restart_samples);
          fresh_pending_ = true;
          RunSilero(silero);
          probation_left_ = c.fresh_probation_chunks;
        }
        const double p = silero_prob_;
        if (p < c.reject_threshold && verdict_ < c.reject_threshold) {
          base_ = std::max(base_, smoothed_);  // still rejected: follow the noise's highest level
        } else {
          base_ = smoothed_;
        }
        verdict_ = p;
        if (p < c.reject_threshold) peak_ = slow_;
        contested_ = p < c.reject_threshold && c.contested_level > 0.0 &&
                     (contested_ || smoothed_ >= c.contested_level);
        contested_sure_ = contested_ && (contested_sure_ || smoothed_ >= c.contested_report_level);
      }
      double out;
      if (contested_sure_) {
        // Neither model is trusted over the other here; the larger keeps a rejection
        // that Silero's state has not caught up with from cutting the speech.
        out = std::max(fp, static_cast<double>(silero_prob_));
      } else if (contested_) {
        // FrameVad only leaned to speech: Silero, now run on every chunk, answers.
        out = silero_prob_;
      } else if (quiet || probation) {
        out = fp;
      } else if (need || held_silence) {
        out = silero_prob_;
      } else if (held_speech && !(fp < c.held_quiet && peak_ >= c.held_quiet_peak)) {
        // At least the activation level, but below the detector's release threshold
        // (the cap), so its silence countdown can start in the held tail.
        out = std::max(fp, std::min(verdict_, kHeldCap));
      } else {
        // Also a held hop where FrameVad leans to silence after a clear utterance
        // (confident for ~300 ms): that is the utterance's end, and the held verdict,
        // up to 400 ms old, reported speech 60-260 ms into bike and dishes pauses where
        // Silero run throughout had already let go. At lower SNR FrameVad dips inside
        // the speech and the hold is right, hence the peak condition.
        out = fp;
      }
      probs[b + i] = out;
    }
    frame_prob_ = frame_probs_[m - 1];
  }
}

}  // namespace voicecore::vad
