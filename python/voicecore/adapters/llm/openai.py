"""``openai``: the OpenAI-compatible chat-completions wire protocol (streamed over SSE, tool calls).

The same adapter talks to OpenAI, Gemini's OpenAI-compatible endpoint
(``base_url = "https://generativelanguage.googleapis.com/v1beta/openai"``), and local servers such as
llama.cpp's ``llama-server``, vLLM or Ollama (``base_url = "http://127.0.0.1:11434/v1"``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from voicecore.adapters.base import DEFAULT_CONN, LLM, ChatChunk, ConnOptions, conn_options
from voicecore.adapters.http import RemoteError, iter_sse, loads, openai_compatible_client
from voicecore.agent.context import ChatContext, FunctionTool, ToolCall

__all__ = ["OpenAILLM"]


class OpenAILLM(LLM):
    provider = "openai"

    def __init__(
        self,
        *,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        conn: ConnOptions = DEFAULT_CONN,
        timeout_s: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        super().__init__(conn=conn_options(conn, timeout_s, max_retries))
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._http = openai_compatible_client(base_url, api_key, "")
        self.base_url = self._http.base_url

    def request_body(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": ctx.to_dicts(), "stream": True}
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in tools
            ]
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body

    async def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        resp = await self._http.post("/chat/completions", json_body=self.request_body(ctx, tools))
        calls: dict[int, ToolCall] = {}
        done = False
        async for _event, data in iter_sse(resp, self.provider):
            if data.strip() == "[DONE]":
                done = True
                break
            obj = loads(data, self.provider)
            if "error" in obj:
                err = obj["error"]
                msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
                raise RemoteError(f"openai: error in stream: {msg}", status=None, retryable=True)
            for choice in obj.get("choices", []):
                delta = choice.get("delta") or {}
                text = delta.get("content")
                for tc in delta.get("tool_calls") or []:
                    idx = int(tc.get("index", 0))
                    call = calls.setdefault(idx, ToolCall(id="", name=""))
                    call.id = tc.get("id") or call.id
                    fn = tc.get("function") or {}
                    call.name = fn.get("name") or call.name
                    call.arguments += fn.get("arguments") or ""
                finish = choice.get("finish_reason")
                if text:
                    yield ChatChunk(text=text)
                if finish:
                    if calls:
                        for c in calls.values():
                            _check_json(c)
                        yield ChatChunk(
                            tool_calls=tuple(calls[i] for i in sorted(calls)), finish_reason=finish
                        )
                        calls = {}
                    else:
                        yield ChatChunk(finish_reason=finish)
        if not done:
            raise RemoteError(
                "openai: stream ended before [DONE] (connection dropped?)", status=None, retryable=True
            )

    async def aclose(self) -> None:
        await self._http.aclose()


def _check_json(call: ToolCall) -> None:
    try:
        json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        raise RemoteError(
            f"openai: tool call {call.name} has malformed arguments", status=None, retryable=True
        ) from exc
