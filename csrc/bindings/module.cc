// The private extension module voicecore._core. Each kernel family registers
// itself from its own register_<kernel>.cc; this file only wires them up and
// maps the kernels' C++ exceptions to the Python hierarchy in voicecore.errors.
#include <pybind11/pybind11.h>

#include <string>

#include "voicecore/common/cpu_features.h"
#include "voicecore/common/errors.h"

namespace py = pybind11;

namespace voicecore::bindings {
void RegisterCommon(py::module_& m);
void RegisterResample(py::module_& m);
void RegisterVad(py::module_& m);
void RegisterAec(py::module_& m);
void RegisterJitter(py::module_& m);
}  // namespace voicecore::bindings

namespace {

// Imported lazily at translation time: voicecore/__init__.py imports errors
// before _core, so by the time a kernel throws the module is always loaded.
void SetVoicecoreError(const char* type_name, const char* message) {
  py::object type = py::module_::import("voicecore.errors").attr(type_name);
  PyErr_SetString(type.ptr(), message);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "voicecore C++ kernels (private; use the voicecore package)";
  m.attr("__version__") = VOICECORE_VERSION;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const voicecore::AudioFormatError& e) {
      SetVoicecoreError("AudioFormatError", e.what());
    } catch (const voicecore::ConfigError& e) {
      SetVoicecoreError("ConfigError", e.what());
    }
  });

  m.def(
      "build_info",
      []() {
        py::dict info;
        info["version"] = VOICECORE_VERSION;
        info["compiler"] = VOICECORE_CXX_COMPILER;
        info["build_type"] = VOICECORE_BUILD_TYPE;
        info["isa_paths"] = voicecore::DescribeIsaPaths();
        return info;
      },
      "Compiler, build type and ISA paths of this build.");

  voicecore::bindings::RegisterCommon(m);
  voicecore::bindings::RegisterResample(m);
  voicecore::bindings::RegisterVad(m);
  voicecore::bindings::RegisterAec(m);
  voicecore::bindings::RegisterJitter(m);
}
