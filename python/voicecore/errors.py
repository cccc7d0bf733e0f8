"""The voicecore exception hierarchy.

Every error voicecore raises derives from :class:`VoicecoreError`, and every message says
what was wrong and what to do about it. The C++ kernels raise these too (the bindings
translate their exceptions), so callers never see a bare ``RuntimeError`` from a kernel.
"""

from __future__ import annotations


class VoicecoreError(Exception):
    """Base class of every error raised by voicecore."""


class AudioFormatError(VoicecoreError, ValueError):
    """Audio of the wrong dtype, shape, rate, length, or with NaN/Inf samples."""


class ConfigError(VoicecoreError, ValueError):
    """An unsupported parameter, unknown preset, or a missing optional model/package."""


class AdapterError(VoicecoreError):
    """A model adapter (STT, LLM, TTS) failed; ``retryable`` says whether a retry may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class SignalingError(VoicecoreError):
    """Malformed or unacceptable signalling (SDP offer/answer, ICE)."""


__all__ = ["AdapterError", "AudioFormatError", "ConfigError", "SignalingError", "VoicecoreError"]
