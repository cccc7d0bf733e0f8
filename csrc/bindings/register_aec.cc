// Bindings for the echo canceller (voicecore.aec). Arrays are validated with
// the GIL held; the kernel then runs with the GIL released, under the
// canceller's own mutex, so push_far from a playback thread and process_near
// from a capture thread are serialised without a Python-level lock (which cost
// more per frame than the binding itself). The mutex is only ever waited for
// with the GIL released: a thread holding the mutex never needs the GIL, so
// the two cannot deadlock.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/numpy_views.h"
#include "voicecore/aec/echo_canceller.h"
#include "voicecore/common/errors.h"

namespace py = pybind11;

namespace voicecore::bindings {

namespace {

using aec::EchoCanceller;

// The canceller with the mutex that serialises every call that touches its
// state (see the file comment).
struct SharedEchoCanceller {
  SharedEchoCanceller(int sample_rate_hz, int frame_ms, int max_delay_ms, int tail_ms, bool clip_model,
                      bool favour_talker)
      : ec(sample_rate_hz, frame_ms, max_delay_ms, tail_ms, clip_model, favour_talker) {}
  EchoCanceller ec;
  std::mutex mu;
};

// A 1-D float32 or int16 C-contiguous array, else AudioFormatError. Returns
// whether it is float32, so the dtype is looked at once per call.
bool CheckAudio(const py::array& arr, const char* what) {
  if (arr.ndim() != 1) {
    throw AudioFormatError(std::string(what) + " must be a 1-D mono array, got " +
                           std::to_string(arr.ndim()) + " dimensions");
  }
  if (IsExactly<float>(arr)) return true;
  if (!IsExactly<std::int16_t>(arr)) {
    RequireContiguous(arr, what);
    throw AudioFormatError(std::string(what) + " must be float32 (in [-1, 1]) or int16, got " +
                           DtypeName(arr) + "; convert with x.astype(np.float32)");
  }
  return false;
}

// int16 frames are scaled to float in a buffer owned by the caller.
const float* AsFloat(const py::array& arr, bool is_float, std::vector<float>& scratch) {
  if (is_float) return static_cast<const float*>(arr.data());
  const auto* s = static_cast<const std::int16_t*>(arr.data());
  const auto n = static_cast<std::size_t>(arr.shape(0));
  scratch.resize(n);
  for (std::size_t i = 0; i < n; ++i) scratch[i] = static_cast<float>(s[i]) * (1.0f / 32768.0f);
  return scratch.data();
}

void PushFar(SharedEchoCanceller& self, const py::array& frame) {
  const bool is_float = CheckAudio(frame, "far frame");
  std::vector<float> scratch;
  const float* data = AsFloat(frame, is_float, scratch);
  const auto n = static_cast<std::size_t>(frame.shape(0));
  // Safe without the GIL: `data` points into the array (kept alive by the
  // caller's reference for this call) or into `scratch`, and the kernel
  // touches no Python objects.
  py::gil_scoped_release release;
  const std::lock_guard<std::mutex> lock(self.mu);
  self.ec.PushFar(data, n);
}

py::array ProcessNear(SharedEchoCanceller& self, const py::array& frame) {
  const bool is_float = CheckAudio(frame, "near frame");
  const auto n = static_cast<std::size_t>(frame.shape(0));
  if (is_float) {
    py::array_t<float> out(static_cast<py::ssize_t>(n));
    const float* in = static_cast<const float*>(frame.data());
    float* o = out.mutable_data();
    {
      // Safe without the GIL: see PushFar; `out` was allocated above.
      py::gil_scoped_release release;
      const std::lock_guard<std::mutex> lock(self.mu);
      self.ec.ProcessNear(in, o, n);
    }
    return out;
  }
  std::vector<float> scratch;
  const float* in = AsFloat(frame, false, scratch);
  py::array_t<std::int16_t> out(static_cast<py::ssize_t>(n));
  std::int16_t* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    {
      const std::lock_guard<std::mutex> lock(self.mu);
      self.ec.ProcessNear(in, scratch.data(), n);  // in-place: ProcessNear allows aliasing
    }
    for (std::size_t i = 0; i < n; ++i) {
      const float v = std::round(scratch[i] * 32768.0f);
      o[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0f, 32767.0f));
    }
  }
  return out;
}

aec::EchoCancellerStats StatsOf(SharedEchoCanceller& self) {
  py::gil_scoped_release release;
  const std::lock_guard<std::mutex> lock(self.mu);
  return self.ec.stats();
}

py::dict Stats(SharedEchoCanceller& self) {
  const aec::EchoCancellerStats s = StatsOf(self);
  py::dict d;
  d["delay_ms"] = s.delay_ms;
  d["erle_db"] = s.erle_db;
  d["linear_erle_db"] = s.linear_erle_db;
  d["converged"] = s.converged;
  d["double_talk"] = s.double_talk;
  d["energy_double_talk"] = s.energy_double_talk;
  d["leakage"] = s.leakage;
  d["far_underrun_samples"] = s.far_underrun_samples;
  d["far_dropped_samples"] = s.far_dropped_samples;
  d["blocks"] = s.blocks;
  d["clip_level"] = s.clip_level;
  d["clip_correlation"] = s.clip_correlation;
  d["drift_ppm"] = s.drift_ppm;
  return d;
}

}  // namespace

void RegisterAec(py::module_& m) {
  // The configuration getters read constants set by the constructor: no lock.
  py::class_<SharedEchoCanceller>(m, "EchoCanceller")
      .def(py::init<int, int, int, int, bool, bool>(), py::arg("sample_rate_hz"), py::arg("frame_ms"),
           py::arg("max_delay_ms"), py::arg("tail_ms"), py::arg("clip_model") = true,
           py::arg("favour_talker") = false)
      .def("push_far", &PushFar, py::arg("frame"))
      .def("process_near", &ProcessNear, py::arg("frame"))
      .def("reset",
           [](SharedEchoCanceller& self) {
             py::gil_scoped_release release;
             const std::lock_guard<std::mutex> lock(self.mu);
             self.ec.Reset();
           })
      .def("stats", &Stats)
      .def(
          "_missed_talk_fit",
          [](SharedEchoCanceller& self, int force, bool record) {
            if (force < -1 || force > 2) throw ConfigError("_missed_talk_fit: force must be -1, 0, 1 or 2");
            py::gil_scoped_release release;
            const std::lock_guard<std::mutex> lock(self.mu);
            self.ec.SetMissedTalkFit(force, record);
          },
          py::arg("force"), py::arg("record"),
          "For bench/fit_missed_talk.py: force a treatment of the candidate blocks, record their features.")
      .def(
          "_missed_talk_rows",
          [](SharedEchoCanceller& self) {
            std::vector<float> rows;
            {
              py::gil_scoped_release release;
              const std::lock_guard<std::mutex> lock(self.mu);
              rows = self.ec.TakeMissedTalkRows();
            }
            const auto width = static_cast<py::ssize_t>(aec::kMissedTalkFeatures + 2 + self.ec.block_size() + 1);
            py::array_t<float> out({static_cast<py::ssize_t>(rows.size()) / width, width});
            std::copy(rows.begin(), rows.end(), out.mutable_data());
            return out;
          },
          "Rows recorded since the last call: block index, candidate flag, the model's features, the gains.")
      .def_property_readonly("sample_rate_hz",
                             [](const SharedEchoCanceller& self) { return self.ec.sample_rate_hz(); })
      .def_property_readonly("frame_size",
                             [](const SharedEchoCanceller& self) { return self.ec.frame_size(); })
      .def_property_readonly("block_size",
                             [](const SharedEchoCanceller& self) { return self.ec.block_size(); })
      .def_property_readonly(
          "latency_samples", [](const SharedEchoCanceller& self) { return self.ec.latency_samples(); })
      .def_property_readonly("far_buffered", [](SharedEchoCanceller& self) {
        py::gil_scoped_release release;
        const std::lock_guard<std::mutex> lock(self.mu);
        return self.ec.far_buffered();
      });
}

}  // namespace voicecore::bindings
