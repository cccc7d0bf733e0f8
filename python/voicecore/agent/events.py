"""Events an :class:`~voicecore.agent.session.AgentSession` emits (also sent to clients as JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "AgentEvent",
    "AgentState",
    "AgentStateChanged",
    "AgentTranscript",
    "ErrorEvent",
    "Interrupted",
    "TurnMetrics",
    "UserSpeechEnded",
    "UserSpeechStarted",
    "UserTranscript",
    "event_to_dict",
]

AgentState = Literal["idle", "listening", "thinking", "speaking"]


@dataclass(frozen=True, slots=True)
class UserSpeechStarted:
    timestamp_s: float
    type: Literal["user_speech_started"] = "user_speech_started"


@dataclass(frozen=True, slots=True)
class UserSpeechEnded:
    timestamp_s: float
    speech_duration_s: float
    type: Literal["user_speech_ended"] = "user_speech_ended"


@dataclass(frozen=True, slots=True)
class UserTranscript:
    text: str
    is_final: bool
    timestamp_s: float
    type: Literal["user_transcript"] = "user_transcript"


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    old_state: AgentState
    new_state: AgentState
    timestamp_s: float
    type: Literal["agent_state_changed"] = "agent_state_changed"


@dataclass(frozen=True, slots=True)
class AgentTranscript:
    """What the agent said in one reply; ``text`` is only the words actually played when interrupted."""

    text: str
    interrupted: bool
    timestamp_s: float
    full_text: str = ""
    in_reply_to: str = ""
    type: Literal["agent_transcript"] = "agent_transcript"


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The user barged in. ``resumed`` is set on a later event when it was a false interruption."""

    timestamp_s: float
    played_s: float
    resumed: bool = False
    type: Literal["interrupted"] = "interrupted"


@dataclass(frozen=True, slots=True)
class TurnMetrics:
    """Latencies of one turn, in milliseconds (None when a stage did not run)."""

    turn_index: int
    eou_delay_ms: float | None = None
    stt_delay_ms: float | None = None
    llm_ttft_ms: float | None = None
    tts_ttfb_ms: float | None = None
    e2e_latency_ms: float | None = None
    voicecore_overhead_ms: float | None = None
    preemptive: bool = False
    type: Literal["turn_metrics"] = "turn_metrics"

    def as_metrics_dict(self) -> dict[str, float | None]:
        keys = (
            "eou_delay_ms",
            "stt_delay_ms",
            "llm_ttft_ms",
            "tts_ttfb_ms",
            "e2e_latency_ms",
            "voicecore_overhead_ms",
        )
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    source: str
    message: str
    recoverable: bool
    timestamp_s: float
    details: dict[str, Any] = field(default_factory=dict)
    type: Literal["error"] = "error"


AgentEvent = (
    UserSpeechStarted
    | UserSpeechEnded
    | UserTranscript
    | AgentStateChanged
    | AgentTranscript
    | Interrupted
    | TurnMetrics
    | ErrorEvent
)


def event_to_dict(event: AgentEvent) -> dict[str, Any]:
    return asdict(event)
