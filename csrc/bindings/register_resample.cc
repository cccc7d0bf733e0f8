// Bindings for the resample kernel family: _core.Resampler.
//
// process() validates with the GIL held (dtype, contiguity, layout, finite
// samples, stream format), allocates the exact-size output array, then
// releases the GIL for the kernel. The public class is the Python subclass
// voicecore.dsp.resample.Resampler, which owns the documentation.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bindings/numpy_views.h"
#include "voicecore/common/errors.h"
#include "voicecore/common/sample_checks.h"
#include "voicecore/resample/resampler.h"

namespace voicecore::bindings {

namespace {

using resample::Resampler;
using resample::SampleFormat;

bool IsLittleEndian() {
  const std::uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// Owns the kernel plus the Python-facing stream state (layout of the last
// call) and a guard against concurrent use, which would corrupt the history.
class PyResampler {
 public:
  PyResampler(int in_rate_hz, int out_rate_hz, int num_channels, const std::string& quality,
              bool allow_simd)
      : impl_(std::make_unique<Resampler>(in_rate_hz, out_rate_hz, num_channels,
                                          resample::ParseQuality(quality), allow_simd)) {}

  py::array Process(const py::object& obj) {
    if (!py::isinstance<py::array>(obj)) {
      throw AudioFormatError("x must be a numpy array, got " +
                             py::str(py::type::of(obj).attr("__name__")).cast<std::string>() +
                             "; pass np.asarray(x, dtype=np.float32)");
    }
    const auto x = py::reinterpret_borrow<py::array>(obj);
    // Read type number, byte order and flags straight from the array struct:
    // this runs on every 10 ms chunk, and building dtype objects to compare
    // would cost more than the checks themselves.
    const auto* proxy = py::detail::array_proxy(x.ptr());
    const auto* descr = py::detail::array_descriptor_proxy(proxy->descr);
    const bool native = descr->byteorder != (IsLittleEndian() ? '>' : '<');
    const bool contiguous = (proxy->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0;
    const bool is_f32 =
        native && contiguous && descr->type_num == py::detail::npy_api::NPY_FLOAT_;
    const bool is_i16 =
        native && contiguous && descr->type_num == py::detail::npy_api::NPY_SHORT_;
    if (!is_f32 && !is_i16) {
      if (native && (descr->type_num == py::detail::npy_api::NPY_FLOAT_ ||
                     descr->type_num == py::detail::npy_api::NPY_SHORT_)) {
        RequireContiguous(x, "x");
      }
      throw AudioFormatError("x has dtype " + DtypeName(x) +
                             "; Resampler.process takes float32 or int16 samples, e.g. "
                             "x.astype(np.float32) (no silent conversion is done)");
    }
    const std::size_t frames = FramesOf(x, impl_->num_channels(), "x");
    const auto channels = static_cast<std::size_t>(impl_->num_channels());
    const SampleFormat format = is_f32 ? SampleFormat::kFloat32 : SampleFormat::kInt16;
    impl_->CheckFormat(format);
    if (is_f32) {
      const auto* samples = static_cast<const float*>(x.data());
      const std::size_t n = frames * channels;
      const std::size_t bad = FirstUnusableSample(samples, n);  // see kMaxSampleMagnitude
      if (bad < n && !std::isfinite(samples[bad])) {
        throw AudioFormatError(
            "x contains NaN or Inf samples; clean the signal (e.g. np.nan_to_num) before resampling");
      }
      if (bad < n) {
        char value[32];
        std::snprintf(value, sizeof value, "%g", static_cast<double>(samples[bad]));
        throw AudioFormatError(std::string("x has the value ") + value +
                               " (magnitude 65536 or more); float audio is full scale +-1: pass int16 PCM "
                               "as int16, or divide it by 32768");
      }
    }
    const int ndim = static_cast<int>(x.ndim());
    last_ndim_ = ndim;
    if (frames == 0) return MakeOutput(format, 0, ndim);
    const std::size_t out_frames = impl_->OutputFramesFor(frames);
    py::array out = MakeOutput(format, out_frames, ndim);
    Guard guard(busy_);
    {
      // Safe without the GIL: the kernel touches only this C++ object and the
      // raw buffers of `x` (kept alive by the caller's reference) and `out`
      // (owned here); no Python object or refcount is used until reacquired.
      py::gil_scoped_release release;
      if (is_f32) {
        impl_->Process(static_cast<const float*>(x.data()), frames,
                       static_cast<float*>(out.mutable_data()));
      } else {
        impl_->Process(static_cast<const std::int16_t*>(x.data()), frames,
                       static_cast<std::int16_t*>(out.mutable_data()));
      }
    }
    return out;
  }

  py::array Flush() {
    const SampleFormat format =
        impl_->format() == SampleFormat::kNone ? SampleFormat::kFloat32 : impl_->format();
    const int ndim = impl_->format() == SampleFormat::kNone && impl_->num_channels() > 1
                         ? 2
                         : last_ndim_;
    py::array out = MakeOutput(format, impl_->FlushFrames(), ndim);
    Guard guard(busy_);
    {
      // Same reasoning as in Process: only C++ state and `out`'s buffer.
      py::gil_scoped_release release;
      if (format == SampleFormat::kFloat32) {
        impl_->Flush(static_cast<float*>(out.mutable_data()));
      } else {
        impl_->Flush(static_cast<std::int16_t*>(out.mutable_data()));
      }
    }
    last_ndim_ = impl_->num_channels() > 1 ? 2 : 1;
    return out;
  }

  void Reset() {
    Guard guard(busy_);
    impl_->Reset();
    last_ndim_ = impl_->num_channels() > 1 ? 2 : 1;
  }

  const Resampler& impl() const { return *impl_; }

 private:
  class Guard {
   public:
    explicit Guard(std::atomic<bool>& flag) : flag_(flag) {
      if (flag_.exchange(true)) {
        throw ConfigError(
            "this Resampler is already running in another thread; use one Resampler per stream "
            "and call it from one thread at a time");
      }
    }
    ~Guard() { flag_.store(false); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::atomic<bool>& flag_;
  };

  py::array MakeOutput(SampleFormat format, std::size_t frames, int ndim) const {
    const auto n = static_cast<py::ssize_t>(frames);
    const auto c = static_cast<py::ssize_t>(impl_->num_channels());
    if (format == SampleFormat::kInt16) {
      return ndim == 1 ? py::array(py::array_t<std::int16_t>({n}))
                       : py::array(py::array_t<std::int16_t>({n, c}));
    }
    return ndim == 1 ? py::array(py::array_t<float>({n})) : py::array(py::array_t<float>({n, c}));
  }

  std::unique_ptr<Resampler> impl_;
  int last_ndim_ = 1;
  std::atomic<bool> busy_{false};
};

}  // namespace

void RegisterResample(py::module_& m) {
  py::class_<PyResampler>(m, "Resampler")
      .def(py::init<int, int, int, const std::string&, bool>(), py::arg("in_rate_hz"),
           py::arg("out_rate_hz"), py::arg("num_channels") = 1, py::arg("quality") = "high",
           py::arg("_allow_simd") = true)
      .def("process", &PyResampler::Process, py::arg("x"),
           "Resample a chunk: float32 or int16, (n,) or (n, num_channels) C-contiguous; "
           "returns the frames that are ready, same dtype and layout.")
      .def("flush", &PyResampler::Flush,
           "Emit the delayed tail and reset; empty float32 if no samples were processed.")
      .def("reset", &PyResampler::Reset, "Forget history and position; keep the configuration.")
      .def_property_readonly("in_rate_hz", [](const PyResampler& r) { return r.impl().in_rate_hz(); })
      .def_property_readonly("out_rate_hz",
                             [](const PyResampler& r) { return r.impl().out_rate_hz(); })
      .def_property_readonly("num_channels",
                             [](const PyResampler& r) { return r.impl().num_channels(); })
      .def_property_readonly(
          "quality", [](const PyResampler& r) { return resample::QualityName(r.impl().quality()); })
      .def_property_readonly("latency_ms",
                             [](const PyResampler& r) { return r.impl().latency_ms(); })
      .def_property_readonly("latency_frames",
                             [](const PyResampler& r) { return r.impl().latency_frames(); })
      .def_property_readonly("interpolation",
                             [](const PyResampler& r) { return r.impl().interpolation(); })
      .def_property_readonly("decimation",
                             [](const PyResampler& r) { return r.impl().decimation(); })
      .def_property_readonly("num_taps",
                             [](const PyResampler& r) { return r.impl().filter().num_taps(); })
      .def_property_readonly("filter_rate_hz",
                             [](const PyResampler& r) { return r.impl().filter_rate_hz(); })
      .def_property_readonly("halfband_taps",
                             [](const PyResampler& r) -> std::size_t {
                               if (const auto* hb = r.impl().halfband()) {
                                 return 2 * hb->half_width() + 1;
                               }
                               if (const auto* hi = r.impl().interpolator()) {
                                 return 4 * hi->num_coefficients() - 1;
                               }
                               return 0;
                             })
      .def_property_readonly("halfband_stage",
                             [](const PyResampler& r) -> const char* {
                               if (r.impl().halfband() != nullptr) return "pre";
                               if (r.impl().interpolator() != nullptr) return "post";
                               return "none";
                             })
      .def_property_readonly("interpolated_phases",
                             [](const PyResampler& r) { return r.impl().filter().interpolated(); })
      .def_property_readonly("isa_path", [](const PyResampler& r) { return r.impl().isa_path(); })
      .def(
          "_prototype",
          [](const PyResampler& r, const py::array_t<double, py::array::c_style>& t) {
            py::array_t<double> out(t.size());
            const double* src = t.data();
            double* dst = out.mutable_data();
            for (py::ssize_t i = 0; i < t.size(); ++i) dst[i] = r.impl().filter().Prototype(src[i]);
            return out;
          },
          py::arg("t").noconvert(),
          "The continuous prototype g(t), t in input samples (evaluation hook).");
}

}  // namespace voicecore::bindings
