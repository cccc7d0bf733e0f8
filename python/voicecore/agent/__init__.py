"""The agent runtime: chat context, events, and :class:`AgentSession`."""

from typing import TYPE_CHECKING

from voicecore.agent.context import ChatContext, ChatMessage, FunctionTool, ToolCall
from voicecore.agent.events import (
    AgentEvent,
    AgentStateChanged,
    AgentTranscript,
    ErrorEvent,
    Interrupted,
    TurnMetrics,
    UserSpeechEnded,
    UserSpeechStarted,
    UserTranscript,
)

# The session imports the adapters, whose base imports this package's context module: load the
# session lazily so either side can be imported first.
_LAZY = {"AgentSession", "InterruptionOptions", "SessionOptions", "Tool"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from voicecore.agent import session

        return getattr(session, name)
    raise AttributeError(f"module 'voicecore.agent' has no attribute {name!r}")


__all__ = [
    "AgentEvent",
    "AgentSession",
    "AgentStateChanged",
    "AgentTranscript",
    "ChatContext",
    "ChatMessage",
    "ErrorEvent",
    "FunctionTool",
    "Interrupted",
    "InterruptionOptions",
    "SessionOptions",
    "Tool",
    "ToolCall",
    "TurnMetrics",
    "UserSpeechEnded",
    "UserSpeechStarted",
    "UserTranscript",
]

if TYPE_CHECKING:
    from voicecore.agent.session import AgentSession, InterruptionOptions, SessionOptions, Tool
