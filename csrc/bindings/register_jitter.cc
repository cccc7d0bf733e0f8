// Bindings for the jitter kernel family (not yet implemented).
#include <pybind11/pybind11.h>

namespace voicecore::bindings {
void RegisterJitter(pybind11::module_& /*m*/) {}
}  // namespace voicecore::bindings
