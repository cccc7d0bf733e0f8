// The echo canceller's sources still use this name; it is the shared RealFft.
#pragma once

#include "voicecore/common/real_fft.h"

namespace voicecore {
using AecRealFft = RealFft;
}  // namespace voicecore
