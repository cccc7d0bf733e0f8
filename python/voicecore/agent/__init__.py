"""The agent runtime: chat context, events, and :class:`AgentSession`."""

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
from voicecore.agent.session import AgentSession, InterruptionOptions, SessionOptions, Tool

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
