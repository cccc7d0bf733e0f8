"""Voice activity detection: Silero second stage and the SpeechDetector state machine.

FrameVad (the C++ first stage) lives in :mod:`voicecore.dsp.vad`; all are re-exported from
:mod:`voicecore`.
"""

from __future__ import annotations

from voicecore.vad.detector import (
    SpeechDetector,
    SpeechEnded,
    SpeechEvent,
    SpeechStarted,
    StreamingVad,
    VadMode,
)
from voicecore.vad.silero import SileroVad, SileroVadBatch

__all__ = [
    "SileroVad",
    "SileroVadBatch",
    "SpeechDetector",
    "SpeechEnded",
    "SpeechEvent",
    "SpeechStarted",
    "StreamingVad",
    "VadMode",
]
