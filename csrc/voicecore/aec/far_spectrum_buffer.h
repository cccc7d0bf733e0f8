// Ring of the far-end (render) spectra of the most recent blocks. Each block's
// spectrum is computed once when it arrives; the delay estimator and the
// adaptive filters read it back at any lag up to the buffer's depth, so a bulk
// delay costs memory, not FFTs.
//
// Thread contract: not thread-safe; owned by one EchoCanceller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voicecore::aec {

class FarSpectrumBuffer {
 public:
  // `num_bins` = FFT bins (block + 1); `depth` = how many past blocks stay readable.
  FarSpectrumBuffer(std::size_t num_bins, std::size_t depth);
  FarSpectrumBuffer(const FarSpectrumBuffer&) = delete;
  FarSpectrumBuffer& operator=(const FarSpectrumBuffer&) = delete;

  // Appends the newest block's spectrum (split layout, num_bins values each).
  void Push(const float* re, const float* im);
  void Reset();
  // Becomes a copy of `other` (same bins and depth) with every spectrum
  // scaled by `s` (powers by s^2).
  void AssignScaled(const FarSpectrumBuffer& other, float s);

  // Spectrum of the block `blocks_ago` blocks before the newest (0 = newest,
  // at most depth() - 1).
  const float* re(std::size_t blocks_ago) const { return re_.data() + Slot(blocks_ago) * stride_; }
  const float* im(std::size_t blocks_ago) const { return im_.data() + Slot(blocks_ago) * stride_; }
  const float* power(std::size_t blocks_ago) const {
    return power_.data() + Slot(blocks_ago) * stride_;
  }
  // Sum over bins of power(blocks_ago): the block's far energy.
  float energy(std::size_t blocks_ago) const { return energy_[Slot(blocks_ago)]; }
  // The block's spectrum is exactly zero (every bit of re and im), not just
  // of zero energy, which tiny values can also round to.
  bool silent(std::size_t blocks_ago) const { return silent_[Slot(blocks_ago)] != 0; }

  // A filter span: the spectra of the blocks offset .. offset + partitions - 1
  // ago (pointer arrays of `partitions` entries), and in `live` the indices of
  // those that are not silent. Returns how many are live.
  std::size_t Span(std::size_t offset, std::size_t partitions, const float** re, const float** im,
                   const float** power, std::uint32_t* live) const;
  // Sum of energy(offset + p) over p < partitions, added in that order.
  float SpanEnergy(std::size_t offset, std::size_t partitions) const;

  std::size_t depth() const { return depth_; }
  std::size_t stride() const { return stride_; }

 private:
  std::size_t Slot(std::size_t blocks_ago) const {
    return newest_ >= blocks_ago ? newest_ - blocks_ago : newest_ + depth_ - blocks_ago;
  }

  const std::size_t num_bins_;
  const std::size_t stride_;
  const std::size_t depth_;
  std::size_t newest_ = 0;
  std::vector<float> re_;
  std::vector<float> im_;
  std::vector<float> power_;
  std::vector<float> energy_;
  std::vector<unsigned char> silent_;
};

}  // namespace voicecore::aec
