// Bindings for shared building blocks, exposed privately so the tests can check
// them against numpy (the kernels use them directly in C++).
#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <complex>

#include "bindings/numpy_views.h"
#include "voicecore/common/real_fft.h"

namespace voicecore::bindings {

void RegisterCommon(py::module_& m) {
  m.def(
      "_rfft",
      [](const py::array_t<float, py::array::c_style>& x) {
        RealFft fft(static_cast<std::size_t>(x.size()));
        py::array_t<std::complex<float>> out(static_cast<py::ssize_t>(fft.num_bins()));
        // ForwardOrZero is Forward for any input with a nonzero bit, so the
        // hook covers both.
        fft.ForwardOrZero(x.data(), out.mutable_data());
        return out;
      },
      py::arg("x").noconvert(), "Real FFT of a power-of-two float32 signal (test hook).");
  m.def(
      "_irfft",
      [](const py::array_t<std::complex<float>, py::array::c_style>& spec) {
        const auto n = static_cast<std::size_t>(2 * (spec.size() - 1));
        RealFft fft(n);
        py::array_t<float> out(static_cast<py::ssize_t>(n));
        fft.Inverse(spec.data(), out.mutable_data());
        return out;
      },
      py::arg("spec").noconvert(), "Inverse of _rfft (test hook).");
}

}  // namespace voicecore::bindings
