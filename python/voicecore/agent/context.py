"""Chat context: the conversation the LLM sees, including tool calls and interrupted replies."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ChatContext", "ChatMessage", "FunctionTool", "ToolCall"]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class ToolCall:
    """A function call requested by the LLM; ``arguments`` is the raw JSON string."""

    id: str
    name: str
    arguments: str = ""

    def parsed_arguments(self) -> dict[str, Any]:
        value = json.loads(self.arguments or "{}")
        return value if isinstance(value, dict) else {"value": value}


@dataclass(slots=True)
class FunctionTool:
    """A tool the LLM may call: ``parameters`` is a JSON schema object."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(slots=True)
class ChatMessage:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    interrupted: bool = False


class ChatContext:
    """An ordered list of messages. Copies are cheap and independent (used for preemptive replies)."""

    def __init__(self, messages: list[ChatMessage] | None = None) -> None:
        self.messages: list[ChatMessage] = list(messages or [])

    def add(self, role: Role, content: str = "", **kwargs: Any) -> ChatMessage:
        msg = ChatMessage(role=role, content=content, **kwargs)
        self.messages.append(msg)
        return msg

    def copy(self) -> ChatContext:
        return ChatContext(copy.deepcopy(self.messages))

    def last(self, role: Role | None = None) -> ChatMessage | None:
        for msg in reversed(self.messages):
            if role is None or msg.role == role:
                return msg
        return None

    def __len__(self) -> int:
        return len(self.messages)

    def to_dicts(self) -> list[dict[str, Any]]:
        """OpenAI-style message dicts (also the basis of the Anthropic conversion)."""
        out: list[dict[str, Any]] = []
        for m in self.messages:
            d: dict[str, Any] = {"role": m.role, "content": m.content}
            if m.tool_calls:
                d["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in m.tool_calls
                ]
            if m.tool_call_id is not None:
                d["tool_call_id"] = m.tool_call_id
            out.append(d)
        return out
