// Shared helpers for the bindings: validate numpy arrays with the GIL held and
// hand the kernels zero-copy views. Nothing here converts silently: a wrong
// dtype or a strided array is an AudioFormatError, never a hidden copy.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

#include "voicecore/common/errors.h"

namespace voicecore::bindings {

namespace py = pybind11;

// Name of the numpy dtype of `arr`, for error messages.
inline std::string DtypeName(const py::array& arr) {
  return py::str(arr.dtype()).cast<std::string>();
}

// True when `arr` is a C-contiguous array of exactly T (no conversion). The dtype
// is compared by value: an array that came through pickle or multiprocessing
// carries an equal dtype object that is not numpy's singleton.
template <typename T>
bool IsExactly(const py::array& arr) {
  return py::isinstance<py::array_t<T>>(arr) && arr.dtype().equal(py::dtype::of<T>()) &&
         (arr.flags() & py::array::c_style) != 0;
}

// Raises AudioFormatError unless `arr` is C-contiguous.
inline void RequireContiguous(const py::array& arr, const char* what) {
  if ((arr.flags() & py::array::c_style) == 0) {
    throw AudioFormatError(std::string(what) +
                           " must be a C-contiguous array; pass np.ascontiguousarray(x)");
  }
}

// Number of frames (samples per channel) of a (n,) or (n, channels) array, after
// checking the channel layout. Raises AudioFormatError with a fix-it message.
inline std::size_t FramesOf(const py::array& arr, int num_channels, const char* what) {
  if (arr.ndim() == 1) {
    if (num_channels != 1) {
      throw AudioFormatError(std::string(what) + " is 1-D but the stream has " +
                             std::to_string(num_channels) +
                             " channels; pass an interleaved (n, num_channels) array");
    }
    return static_cast<std::size_t>(arr.shape(0));
  }
  if (arr.ndim() == 2) {
    if (arr.shape(1) != num_channels) {
      throw AudioFormatError(std::string(what) + " has " + std::to_string(arr.shape(1)) +
                             " channels but the stream was created with num_channels=" +
                             std::to_string(num_channels));
    }
    return static_cast<std::size_t>(arr.shape(0));
  }
  throw AudioFormatError(std::string(what) + " must be 1-D (n,) or 2-D (n, num_channels), got " +
                         std::to_string(arr.ndim()) + " dimensions");
}

}  // namespace voicecore::bindings
