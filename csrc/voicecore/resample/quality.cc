#include "voicecore/resample/quality.h"

#include "voicecore/common/errors.h"

namespace voicecore::resample {

namespace {
// Lengths follow from (attenuation, transition width) by Kaiser's formula, and
// the filter length sets the latency, so each row trades delay for quality.
// "high" keeps its transition band at 12.5 % of the lower Nyquist so its
// latency stays under 5 ms whenever the lower rate is >= 16 kHz. At a lower
// rate of 8 kHz it is 7.3 ms, and no linear-phase FIR can reach 5 ms there:
// the spec (flat within 0.01 dB to 0.875 of the lower Nyquist, >= 120 dB from
// the Nyquist up) fixes the transition band at 0.0625 x the lower rate, so
// the delay of any linear-phase design is a fixed number of lower-rate
// periods; the minimax optimum (Parks-McClellan, scipy.signal.remez, for
// 16k -> 8k) needs 167 taps at 16 kHz, i.e. 83 samples = 5.19 ms, and a
// Kaiser window (needed here for the continuous polyphase prototype) 232.
constexpr QualitySpec kSpecs[] = {
    {"quick", 0.80, 1.0, 75.0, false, 512},
    {"medium", 0.85, 1.0, 100.0, false, 1024},
    {"high", 0.862, 1.0, 123.0, false, 4096},
    {"very_high", 0.90, 1.0, 170.0, true, 8192},
};
}  // namespace

const QualitySpec& SpecFor(Quality quality) { return kSpecs[static_cast<int>(quality)]; }

Quality ParseQuality(std::string_view name) {
  if (name == "quick") return Quality::kQuick;
  if (name == "medium") return Quality::kMedium;
  if (name == "high") return Quality::kHigh;
  if (name == "very_high") return Quality::kVeryHigh;
  throw ConfigError("unknown resampler quality '" + std::string(name) +
                    "'; use one of 'quick', 'medium', 'high', 'very_high'");
}

std::string QualityName(Quality quality) { return SpecFor(quality).name; }

}  // namespace voicecore::resample
