"""End-of-turn detection: VAD silence plus an end-of-turn model (audio: Smart Turn v3.2 ONNX; text:
a heuristic on the transcript). The policy waits ``min_endpointing_ms`` after the last speech when the
model says the turn is complete and up to ``max_endpointing_ms`` when it says it is not."""

from voicecore.turn.detector import (
    EndOfTurnModel,
    EndpointingOptions,
    TextHeuristicModel,
    TurnDetector,
    VadOnlyModel,
)
from voicecore.turn.mel import whisper_log_mel
from voicecore.turn.smart_turn import SmartTurnModel, find_smart_turn_model

__all__ = [
    "EndOfTurnModel",
    "EndpointingOptions",
    "SmartTurnModel",
    "TextHeuristicModel",
    "TurnDetector",
    "VadOnlyModel",
    "find_smart_turn_model",
    "whisper_log_mel",
]
