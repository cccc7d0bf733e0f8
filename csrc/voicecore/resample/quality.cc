#include "voicecore/resample/quality.h"

#include "voicecore/common/errors.h"

namespace voicecore::resample {

namespace {
// Lengths follow from (attenuation, transition width) by Kaiser's formula, and
// the filter length sets the latency, so each row trades delay for quality.
// "high" keeps its transition band at 12.5 % of the lower Nyquist so its
// latency stays under 5 ms whenever the lower rate is >= 16 kHz.
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
