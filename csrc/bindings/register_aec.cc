// Bindings for the aec kernel family (not yet implemented).
#include <pybind11/pybind11.h>

namespace voicecore::bindings {
void RegisterAec(pybind11::module_& /*m*/) {}
}  // namespace voicecore::bindings
