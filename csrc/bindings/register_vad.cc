// Bindings for the vad kernel family (not yet implemented).
#include <pybind11/pybind11.h>

namespace voicecore::bindings {
void RegisterVad(pybind11::module_& /*m*/) {}
}  // namespace voicecore::bindings
