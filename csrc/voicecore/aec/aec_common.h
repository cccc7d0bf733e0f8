// Constants and small helpers shared by the echo canceller's parts.
#pragma once

#include <cstddef>

namespace voicecore::aec {

// The canceller works on 4 ms blocks (64 samples at 16 kHz, 32 at 8 kHz) with
// FFTs of two blocks, so every spectrum has a 125 Hz bin spacing at both rates.
// 4 ms keeps the algorithmic latency (one block of overlap-add plus the
// frame-to-block buffering) under 10 ms.
inline constexpr int kBlocksPerSecond = 250;

// Guard for power ratios and logarithms (powers are in squared full-scale
// units per bin, so 1e-12 is far below any signal).
inline constexpr float kTiny = 1e-12f;

// Echo-return gain assumed where none has been learnt (the fallback echo
// estimate, see ResidualSuppressor; the ceiling of the warm-up gain, see
// EchoReturnGain): +3 dB, louder than most loudspeaker-microphone couplings.
inline constexpr float kFallbackGain = 2.0f;

// Spectra are stored as split real/imaginary arrays padded to a multiple of 8
// so the per-bin loops vectorise without a scalar tail.
inline constexpr std::size_t PaddedBins(std::size_t bins) { return (bins + 7) & ~std::size_t{7}; }

// Ring-buffer index arithmetic without division: the rings' sizes are not
// powers of two, and a 64-bit modulo per sample or per spectrum read cost more
// than the work around it. `i` must be < n (Next) or < 2n (Wrap).
inline constexpr std::size_t Next(std::size_t i, std::size_t n) { return i + 1 == n ? 0 : i + 1; }
inline constexpr std::size_t Wrap(std::size_t i, std::size_t n) { return i >= n ? i - n : i; }

}  // namespace voicecore::aec
