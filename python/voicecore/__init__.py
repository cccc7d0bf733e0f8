"""voicecore: the media core for real-time voice agents.

C++ kernels (resampling, VAD, echo cancellation, jitter buffering) behind small typed
streaming objects, plus an asyncio layer for sessions, turn-taking and model adapters.
"""

from __future__ import annotations

from voicecore import _core
from voicecore.errors import (
    AdapterError,
    AudioFormatError,
    ConfigError,
    SignalingError,
    VoicecoreError,
)

__version__: str = _core.__version__

__all__ = [
    "AdapterError",
    "AudioFormatError",
    "ConfigError",
    "SignalingError",
    "VoicecoreError",
    "__version__",
]

# --- resample ---
from voicecore.dsp.resample import Resampler  # noqa: E402

__all__ += ["Resampler"]
# --- vad ---
from voicecore.dsp.vad import FrameVad  # noqa: E402
from voicecore.vad import (  # noqa: E402
    SileroVad,
    SileroVadBatch,
    SpeechDetector,
    SpeechEnded,
    SpeechEvent,
    SpeechStarted,
)

__all__ += [
    "FrameVad",
    "SileroVad",
    "SileroVadBatch",
    "SpeechDetector",
    "SpeechEnded",
    "SpeechEvent",
    "SpeechStarted",
]
# --- aec ---
from voicecore.dsp.aec import EchoCanceller, EchoCancellerStats  # noqa: E402

__all__ += ["EchoCanceller", "EchoCancellerStats"]
# --- jitter ---
from voicecore.codecs.opus import OpusDecoder, OpusEncoder  # noqa: E402
from voicecore.dsp.jitter import JitterBuffer, JitterFrame, JitterStats  # noqa: E402

__all__ += ["JitterBuffer", "JitterFrame", "JitterStats", "OpusDecoder", "OpusEncoder"]
