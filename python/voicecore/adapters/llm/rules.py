"""``rules``: a small built-in responder used when no language model is installed.

It is not a language model. It answers from a few keyword rules and otherwise repeats back what
it heard, which is enough to exercise turn-taking, streaming and interruptions offline. Replies
are streamed word by word like a real model's tokens, and the ``get_time`` tool is called when the
user asks for the time, so tool plumbing is exercised too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence

from voicecore.adapters.base import DEFAULT_CONN, LLM, ChatChunk, ConnOptions
from voicecore.agent.context import ChatContext, FunctionTool, ToolCall

__all__ = ["RulesLLM"]

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(hello|hi|hey)\b"), "Hello! I am the voicecore demo agent. What can I do for you?"),
    (re.compile(r"\b(forward|go|move)\b"), "Understood, moving forward. Tell me when to stop."),
    (re.compile(r"\b(stop|wait|enough)\b"), "Okay, stopping now."),
    (re.compile(r"\b(thanks|thank you)\b"), "You are welcome."),
    (re.compile(r"\b(bye|goodbye)\b"), "Goodbye, talk to you soon."),
]


class RulesLLM(LLM):
    """Keyword rules plus an echo of the user's words; streams words with a small per-token delay."""

    provider = "rules"

    def __init__(self, *, token_delay_s: float = 0.0, conn: ConnOptions = DEFAULT_CONN) -> None:
        super().__init__(conn=conn)
        self.token_delay_s = token_delay_s

    def reply_for(self, ctx: ChatContext) -> str:
        user = ctx.last("user")
        heard = (user.content if user else "").strip().lower()
        if not heard:
            return "Sorry, I did not catch that. Could you say it again?"
        for pattern, answer in _RULES:
            if pattern.search(heard):
                return answer
        return (
            f"You said: {heard}. I am a simple rule-based responder, so I can only repeat it back. "
            "Install the llm-local extra for a real language model."
        )

    async def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        last = ctx.messages[-1] if ctx.messages else None
        user = ctx.last("user")
        wants_time = user is not None and "time" in user.content.lower()
        if wants_time and any(t.name == "get_time" for t in tools) and (last is None or last.role != "tool"):
            yield ChatChunk(tool_calls=(ToolCall(id="call_rules_0", name="get_time", arguments="{}"),))
            yield ChatChunk(finish_reason="tool_calls")
            return
        text = f"It is {last.content}." if last is not None and last.role == "tool" else self.reply_for(ctx)
        words = text.split(" ")
        for i, w in enumerate(words):
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            yield ChatChunk(text=w if i == 0 else " " + w)
        yield ChatChunk(finish_reason="stop")
