"""Typed wrappers over the C++ kernels in voicecore._core."""
