// Bindings for the jitter buffer. The C++ core stores encoded payloads and
// decodes them in order at playout time through a PayloadDecoder; a Python codec
// object (decode / conceal / optional decode_fec and packet_samples) is adapted
// to that interface here, so Opus PLC and FEC run exactly where NetEq runs them.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "bindings/numpy_views.h"
#include "voicecore/common/errors.h"
#include "voicecore/jitter/jitter_buffer.h"

namespace voicecore::bindings {
namespace {

namespace jit = voicecore::jitter;

// Adapts a Python decoder object. Every call happens with the GIL held (the
// buffer methods never release it), and a Python exception inside the codec is
// contained here: it becomes a failed decode (the packet is concealed) and is
// counted, never propagated through the C++ core.
class PyDecoder final : public jit::PayloadDecoder {
 public:
  PyDecoder(py::object obj, int num_channels)
      : obj_(std::move(obj)),
        num_channels_(num_channels),
        has_conceal_(py::hasattr(obj_, "conceal")),
        has_fec_(py::hasattr(obj_, "decode_fec")),
        has_samples_(py::hasattr(obj_, "packet_samples")),
        has_reset_(py::hasattr(obj_, "reset")) {
    if (!py::hasattr(obj_, "decode")) {
      throw ConfigError("JitterBuffer: decoder must have decode(payload: bytes) -> ndarray "
                        "(and conceal(num_samples) -> ndarray for codec PLC)");
    }
  }

  int PacketSamples(std::span<const uint8_t> payload) const override {
    if (!has_samples_) return -1;
    try {
      py::object r = obj_.attr("packet_samples")(Bytes(payload));
      if (r.is_none()) return -1;
      return r.cast<int>();
    } catch (const std::exception&) {
      return -1;
    }
  }

  int Decode(std::span<const uint8_t> payload, std::span<float> out) override {
    try {
      return Copy(obj_.attr("decode")(Bytes(payload)), -1, out);
    } catch (const std::exception& e) {
      last_error_ = e.what();
      return -1;
    }
  }

  int Conceal(int num_samples, std::span<float> out) override {
    if (!has_conceal_) return -1;
    try {
      return Copy(obj_.attr("conceal")(num_samples), num_samples, out);
    } catch (const std::exception& e) {
      last_error_ = e.what();
      return -1;
    }
  }

  int DecodeFec(std::span<const uint8_t> next_payload, int num_samples, std::span<float> out) override {
    if (!has_fec_) return -1;
    try {
      py::object r = obj_.attr("decode_fec")(Bytes(next_payload), num_samples);
      if (r.is_none()) return -1;
      return Copy(r, num_samples, out);
    } catch (const std::exception& e) {
      last_error_ = e.what();
      return -1;
    }
  }

  bool HasConcealment() const override { return has_conceal_; }
  bool HasFec() const override { return has_fec_; }

  void Reset() override {
    if (!has_reset_) return;
    try {
      obj_.attr("reset")();
    } catch (const std::exception& e) {
      last_error_ = e.what();
    }
  }

  const std::string& last_error() const { return last_error_; }

 private:
  static py::bytes Bytes(std::span<const uint8_t> p) {
    return py::bytes(reinterpret_cast<const char*>(p.data()), p.size());
  }

  // Copies a decoder result (float32/float64 in [-1, 1] or int16; shape (n,) for
  // mono or (n, channels)) into `out`. Returns samples per channel or -1.
  int Copy(const py::object& result, int expected, std::span<float> out) {
    if (!py::isinstance<py::array>(result)) {
      last_error_ = "decoder returned " + py::str(py::type::of(result)).cast<std::string>() +
                    ", expected a numpy array";
      return -1;
    }
    py::array arr = py::reinterpret_borrow<py::array>(result);
    std::size_t n;
    if (arr.ndim() == 1 && num_channels_ == 1) {
      n = static_cast<std::size_t>(arr.shape(0));
    } else if (arr.ndim() == 2 && arr.shape(1) == num_channels_) {
      n = static_cast<std::size_t>(arr.shape(0));
    } else {
      last_error_ = "decoder returned an array of the wrong shape";
      return -1;
    }
    const std::size_t values = n * static_cast<std::size_t>(num_channels_);
    if (n == 0 || values > out.size() || (expected >= 0 && static_cast<int>(n) != expected)) {
      last_error_ = "decoder returned " + std::to_string(n) + " samples" +
                    (expected >= 0 ? ", expected " + std::to_string(expected) : std::string());
      return -1;
    }
    if (arr.dtype().equal(py::dtype::of<int16_t>())) {
      auto a = py::array_t<int16_t, py::array::c_style | py::array::forcecast>::ensure(arr);
      const int16_t* src = a.data();
      for (std::size_t i = 0; i < values; ++i) out[i] = static_cast<float>(src[i]) * (1.0f / 32768.0f);
    } else if (arr.dtype().equal(py::dtype::of<float>()) || arr.dtype().equal(py::dtype::of<double>())) {
      auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
      const float* src = a.data();
      for (std::size_t i = 0; i < values; ++i) {
        if (!std::isfinite(src[i])) {
          last_error_ = "decoder returned NaN or Inf samples";
          return -1;
        }
        out[i] = src[i];
      }
    } else {
      last_error_ = "decoder returned dtype " + DtypeName(arr) + "; use float32 or int16";
      return -1;
    }
    return static_cast<int>(n);
  }

  py::object obj_;
  const int num_channels_;
  const bool has_conceal_, has_fec_, has_samples_, has_reset_;
  std::string last_error_;
};

// Owns the core and the (optional) decoder adapter it points to.
class PyJitterBuffer {
 public:
  PyJitterBuffer(int sample_rate_hz, int num_channels, int min_delay_ms, int max_delay_ms,
                 py::object decoder) {
    jit::JitterBufferConfig cfg;
    cfg.sample_rate_hz = sample_rate_hz;
    cfg.num_channels = num_channels;
    cfg.min_delay_ms = min_delay_ms;
    cfg.max_delay_ms = max_delay_ms;
    if (!decoder.is_none()) decoder_ = std::make_unique<PyDecoder>(decoder, num_channels);
    core_ = std::make_unique<jit::JitterBuffer>(cfg, decoder_.get());
  }

  int Put(int64_t seq, int64_t ts, const py::buffer& payload, double arrival_ms) {
    if (seq < 0 || seq > 0xFFFF) {
      throw AudioFormatError("JitterBuffer.put: seq=" + std::to_string(seq) +
                             " is not a 16-bit RTP sequence number (0..65535)");
    }
    if (ts < 0 || ts > 0xFFFFFFFFll) {
      throw AudioFormatError("JitterBuffer.put: timestamp=" + std::to_string(ts) +
                             " is not a 32-bit RTP timestamp (0..4294967295)");
    }
    py::buffer_info info = payload.request();
    if (info.ndim > 1 || (info.ndim == 1 && info.strides[0] != info.itemsize)) {
      throw AudioFormatError("JitterBuffer.put: payload must be contiguous bytes");
    }
    const std::size_t bytes = static_cast<std::size_t>(info.size * info.itemsize);
    return static_cast<int>(core_->Put(static_cast<uint16_t>(seq), static_cast<uint32_t>(ts),
                                       {static_cast<const uint8_t*>(info.ptr), bytes}, arrival_ms));
  }

  // The GIL stays held: a get() costs a few microseconds, and a Python decoder
  // may be called back from inside it.
  py::tuple Get(double now_ms) {
    const int n = core_->frame_samples();
    const int ch = core_->num_channels();
    py::array_t<float> out = ch == 1 ? py::array_t<float>(n) : py::array_t<float>({n, ch});
    uint32_t ts = 0;
    const auto kind = core_->Get(now_ms, {out.mutable_data(), static_cast<std::size_t>(n * ch)}, &ts);
    return py::make_tuple(static_cast<int>(kind), out, ts);
  }

  py::dict Stats() const {
    const jit::JitterStats& s = core_->stats();
    py::dict d;
    d["packets_received"] = s.packets_received;
    d["packets_late"] = s.packets_late;
    d["packets_lost"] = s.packets_lost;
    d["packets_duplicate"] = s.packets_duplicate;
    d["packets_reordered"] = s.packets_reordered;
    d["packets_malformed"] = s.packets_malformed;
    d["decoder_errors"] = s.decoder_errors;
    d["resyncs"] = s.resyncs;
    d["concealed_ms"] = s.concealed_ms;
    d["comfort_noise_ms"] = s.comfort_noise_ms;
    d["accelerated_ms"] = s.accelerated_ms;
    d["decelerated_ms"] = s.decelerated_ms;
    d["played_ms"] = s.played_ms;
    d["current_delay_ms"] = s.current_delay_ms;
    d["target_delay_ms"] = s.target_delay_ms;
    return d;
  }

  std::string LastDecoderError() const { return decoder_ ? decoder_->last_error() : std::string(); }
  void Reset() { core_->Reset(); }
  int frame_samples() const { return core_->frame_samples(); }

 private:
  std::unique_ptr<PyDecoder> decoder_;
  std::unique_ptr<jit::JitterBuffer> core_;
};

}  // namespace

void RegisterJitter(py::module_& m) {
  py::class_<PyJitterBuffer>(m, "JitterBuffer")
      .def(py::init<int, int, int, int, py::object>(), py::arg("sample_rate_hz"), py::arg("num_channels"),
           py::arg("min_delay_ms"), py::arg("max_delay_ms"), py::arg("decoder"))
      .def("put", &PyJitterBuffer::Put, py::arg("seq"), py::arg("timestamp"), py::arg("payload"),
           py::arg("arrival_ms"))
      .def("get", &PyJitterBuffer::Get, py::arg("now_ms"))
      .def("stats", &PyJitterBuffer::Stats)
      .def("last_decoder_error", &PyJitterBuffer::LastDecoderError)
      .def("reset", &PyJitterBuffer::Reset)
      .def_property_readonly("frame_samples", &PyJitterBuffer::frame_samples);
}

}  // namespace voicecore::bindings
