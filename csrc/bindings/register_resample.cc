// Bindings for the resample kernel family (not yet implemented).
#include <pybind11/pybind11.h>

namespace voicecore::bindings {
void RegisterResample(pybind11::module_& /*m*/) {}
}  // namespace voicecore::bindings
