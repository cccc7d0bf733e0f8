// Bindings for the vad kernel family: FrameVad (the C++ first-stage VAD).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <span>
#include <string>
#include <vector>

#include "bindings/numpy_views.h"
#include "voicecore/common/errors.h"
#include "voicecore/vad/cascade_gate.h"
#include "voicecore/vad/frame_vad.h"
#include "voicecore/vad/power_spectrum.h"

namespace voicecore::bindings {

namespace {

// Validates a mono float32 frame with the GIL held and returns a zero-copy view.
std::span<const float> MonoFloat32View(const py::array& frame, const char* what) {
  // equal(), not is(): an unpickled or frombuffer float32 array carries its own dtype
  // object, which is float32 all the same (byte-swapped float32 is not equal).
  if (!frame.dtype().equal(py::dtype::of<float>())) {
    throw AudioFormatError(std::string(what) + " must be float32 in [-1, 1], got dtype " +
                           DtypeName(frame) + "; convert with x.astype(np.float32)");
  }
  if (frame.ndim() != 1) {
    throw AudioFormatError(std::string(what) + " must be a 1-D mono array, got " +
                           std::to_string(frame.ndim()) + " dimensions");
  }
  RequireContiguous(frame, what);
  return {static_cast<const float*>(frame.data()), static_cast<std::size_t>(frame.shape(0))};
}

}  // namespace

void RegisterVad(py::module_& m) {
  py::class_<vad::FrameVadConfig>(m, "FrameVadConfig")
      .def(py::init<>())
      .def_readwrite("sample_rate_hz", &vad::FrameVadConfig::sample_rate_hz)
      .def_readwrite("frame_ms", &vad::FrameVadConfig::frame_ms);

  py::class_<vad::FrameVad>(m, "FrameVad")
      .def(py::init<const vad::FrameVadConfig&>(), py::arg("config"))
      .def(
          "process",
          [](vad::FrameVad& self, const py::array& frame) {
            const std::span<const float> view = MonoFloat32View(frame, "FrameVad frame");
            if (view.size() != self.frame_size()) {
              throw AudioFormatError(
                  "FrameVad expects frames of exactly " + std::to_string(self.frame_size()) +
                  " samples (" + std::to_string(self.config().frame_ms) + " ms at " +
                  std::to_string(self.config().sample_rate_hz) + " Hz), got " +
                  std::to_string(view.size()) + "; use SpeechDetector for audio of any length");
            }
            // Safe: the kernel reads only the numpy buffer (kept alive by `frame`,
            // which the caller holds) and its own state; no Python objects.
            py::gil_scoped_release release;
            return self.Process(view);
          },
          py::arg("frame"))
      .def(
          "process_hops",
          [](vad::FrameVad& self, const py::array& hops) {
            if (!hops.dtype().equal(py::dtype::of<float>())) {
              throw AudioFormatError("FrameVad hops must be float32 in [-1, 1], got dtype " +
                                     DtypeName(hops) + "; convert with x.astype(np.float32)");
            }
            const auto hop = static_cast<py::ssize_t>(self.hop_size());
            if (hops.ndim() != 2 || hops.shape(1) != hop) {
              throw AudioFormatError("FrameVad hops must have shape (n, " + std::to_string(hop) +
                                     ") (n consecutive 10 ms hops)");
            }
            RequireContiguous(hops, "FrameVad hops");
            const auto n = static_cast<std::size_t>(hops.shape(0));
            py::array_t<float> probs(static_cast<py::ssize_t>(n));
            const std::span<const float> in(static_cast<const float*>(hops.data()),
                                            n * self.hop_size());
            const std::span<float> out(probs.mutable_data(), n);
            // Safe: the kernel reads only the numpy buffer `hops` (held by the
            // caller) and writes `probs` (allocated above); no Python objects.
            py::gil_scoped_release release;
            self.ProcessHops(in, out);
            return probs;
          },
          py::arg("hops"), "Probabilities of n consecutive 10 ms hops, shape (n, hop_size).")
      .def(
          "_process_hop_with_features",
          [](vad::FrameVad& self, const py::array& hop) {
            const std::span<const float> view = MonoFloat32View(hop, "FrameVad hop");
            py::array_t<float> features(vad::kNumFeatures);
            const std::span<float> out(features.mutable_data(),
                                       static_cast<std::size_t>(vad::kNumFeatures));
            const float p = self.ProcessHopWithFeatures(view, out);
            return py::make_tuple(p, features);
          },
          py::arg("hop"), "One 10 ms hop: (probability, model input features); for the offline fit.")
      .def("reset", &vad::FrameVad::Reset)
      .def_property_readonly("frame_size", &vad::FrameVad::frame_size)
      .def_property_readonly("hop_size", &vad::FrameVad::hop_size)
      .def_property_readonly("talker_snr_db", &vad::FrameVad::talker_snr_db);
  m.attr("FRAME_VAD_NUM_FEATURES") = vad::kNumFeatures;

  py::class_<vad::CascadeGateConfig>(m, "CascadeGateConfig")
      .def(py::init<>())
      .def_readwrite("gate_threshold", &vad::CascadeGateConfig::gate_threshold)
      .def_readwrite("confident_threshold", &vad::CascadeGateConfig::confident_threshold)
      .def_readwrite("hold_threshold", &vad::CascadeGateConfig::hold_threshold)
      .def_readwrite("hold_floor", &vad::CascadeGateConfig::hold_floor)
      .def_readwrite("hold_level", &vad::CascadeGateConfig::hold_level)
      .def_readwrite("drain_quiet", &vad::CascadeGateConfig::drain_quiet)
      .def_readwrite("held_quiet", &vad::CascadeGateConfig::held_quiet)
      .def_readwrite("held_quiet_peak", &vad::CascadeGateConfig::held_quiet_peak)
      .def_readwrite("reject_threshold", &vad::CascadeGateConfig::reject_threshold)
      .def_readwrite("rise", &vad::CascadeGateConfig::rise)
      .def_readwrite("hold_samples", &vad::CascadeGateConfig::hold_samples)
      .def_readwrite("recheck_samples", &vad::CascadeGateConfig::recheck_samples)
      .def_readwrite("refresh_samples", &vad::CascadeGateConfig::refresh_samples)
      .def_readwrite("hangover_samples", &vad::CascadeGateConfig::hangover_samples)
      .def_readwrite("warmup_samples", &vad::CascadeGateConfig::warmup_samples)
      .def_readwrite("refresh_replay_samples", &vad::CascadeGateConfig::refresh_replay_samples)
      .def_readwrite("fresh_drain", &vad::CascadeGateConfig::fresh_drain)
      .def_readwrite("fresh_peak", &vad::CascadeGateConfig::fresh_peak)
      .def_readwrite("fresh_level", &vad::CascadeGateConfig::fresh_level)
      .def_readwrite("fresh_probation_chunks", &vad::CascadeGateConfig::fresh_probation_chunks)
      .def_readwrite("drain_warmup_samples", &vad::CascadeGateConfig::drain_warmup_samples)
      .def_readwrite("contested_level", &vad::CascadeGateConfig::contested_level)
      .def_readwrite("contested_report_level", &vad::CascadeGateConfig::contested_report_level)
      .def_readwrite("contest_restart_samples", &vad::CascadeGateConfig::contest_restart_samples)
      .def_readwrite("low_snr_db", &vad::CascadeGateConfig::low_snr_db)
      .def_readwrite("low_snr_warmup_samples", &vad::CascadeGateConfig::low_snr_warmup_samples);

  py::class_<vad::CascadeGate>(m, "CascadeGate")
      .def(py::init<const vad::CascadeGateConfig&>(), py::arg("config"))
      .def(
          "window",
          [](py::object self_obj) {
            auto& self = self_obj.cast<vad::CascadeGate&>();
            // A view of the buffer every Silero window is written to; the gate object is
            // its base, so the view keeps the gate alive.
            constexpr py::ssize_t kSize = vad::CascadeGate::kContext + vad::CascadeGate::kChunk;
            return py::array_t<float>({kSize}, {static_cast<py::ssize_t>(sizeof(float))},
                                      const_cast<float*>(self.window_data()), self_obj);
          },
          "The (64 + 512)-sample window the silero callback must score (a view, rewritten per call).")
      .def(
          "process",
          [](vad::CascadeGate& self, const py::array& hops, const py::function& silero) {
            if (!hops.dtype().equal(py::dtype::of<float>())) {
              throw AudioFormatError("audio hops must be float32 in [-1, 1], got dtype " +
                                     DtypeName(hops) + "; convert with x.astype(np.float32)");
            }
            if (hops.ndim() != 2 || hops.shape(1) != vad::CascadeGate::kHop) {
              throw AudioFormatError("audio hops must have shape (n, 160) (10 ms hops at 16 kHz)");
            }
            RequireContiguous(hops, "audio hops");
            const auto n = static_cast<std::size_t>(hops.shape(0));
            py::array_t<double> probs(static_cast<py::ssize_t>(n));
            const std::span<const float> in(static_cast<const float*>(hops.data()),
                                            n * vad::CascadeGate::kHop);
            const std::span<double> out(probs.mutable_data(), n);
            // The GIL stays held: the callback runs Silero in Python. FrameVad's share is
            // about 2 us per hop, too short to be worth handing the GIL back and forth.
            const vad::CascadeGate::SileroFn fn = [&silero](const float*, bool fresh) {
              return silero(fresh).cast<float>();
            };
            self.Process(in, out, fn);
            return probs;
          },
          py::arg("hops"), py::arg("silero"),
          "Probabilities of n 10 ms hops; calls silero(fresh) (which scores window(), first clearing Silero's state if fresh) where needed.")
      .def("reset", &vad::CascadeGate::Reset)
      .def_property_readonly("silero_chunks", &vad::CascadeGate::silero_chunks)
      .def_property_readonly("silero_probability", &vad::CascadeGate::silero_probability)
      .def_property_readonly("frame_probability", &vad::CascadeGate::frame_probability)
      .def_property_readonly("gate_open", &vad::CascadeGate::gate_open);
  m.def(
      "_vad_power_spectrum",
      [](const py::array& x) {
        const std::span<const float> view = MonoFloat32View(x, "x");
        const std::size_t n = view.size();
        if (n < 8 || (n & (n - 1)) != 0) throw ConfigError("size must be a power of two >= 8");
        vad::PowerSpectrum spectrum(n);
        std::vector<float> ones(n, 1.0f);
        py::array_t<float> out(static_cast<py::ssize_t>(n / 2 + 1));
        spectrum.Compute(view.data(), ones.data(), out.mutable_data());
        return out;
      },
      py::arg("x"), "|rfft(x)|^2 by the VAD's transform (test hook).");
}

}  // namespace voicecore::bindings
