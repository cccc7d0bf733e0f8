"""``anthropic``: Anthropic's Messages API, streamed server-sent events with tool use."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

from voicecore.adapters.base import DEFAULT_CONN, LLM, ChatChunk, ConnOptions, conn_options
from voicecore.adapters.http import HttpClient, RemoteError, iter_sse, loads
from voicecore.agent.context import ChatContext, FunctionTool, ToolCall

__all__ = ["AnthropicLLM", "to_anthropic_messages"]

API_VERSION = "2023-06-01"


def to_anthropic_messages(ctx: ChatContext) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages) in the Messages API shape; tool results become user turns."""
    system: list[str] = []
    out: list[dict[str, Any]] = []

    def append(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:  # the API wants alternating roles: merge neighbours
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for m in ctx.messages:
        if m.role == "system":
            system.append(m.content)
        elif m.role == "user":
            append("user", [{"type": "text", "text": m.content}])
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.parsed_arguments()}
                for c in m.tool_calls
            ]
            if blocks:
                append("assistant", blocks)
        elif m.role == "tool":
            append(
                "user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}]
            )
    return "\n".join(system), out


class AnthropicLLM(LLM):
    provider = "anthropic"

    def __init__(
        self,
        *,
        model: str = "claude-3-5-haiku-latest",
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int = 512,
        temperature: float | None = None,
        conn: ConnOptions = DEFAULT_CONN,
        timeout_s: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        super().__init__(conn=conn_options(conn, timeout_s, max_retries))
        self.model = model
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com/v1")
        key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY", "")
        headers = {"anthropic-version": API_VERSION, "content-type": "application/json"}
        if key:
            headers["x-api-key"] = key
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._http = HttpClient(self.base_url, headers, provider=f"anthropic {self.base_url}")

    def request_body(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> dict[str, Any]:
        system, messages = to_anthropic_messages(ctx)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": messages,
            "stream": True,
        }
        if system:
            body["system"] = system
        if tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools
            ]
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    async def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        resp = await self._http.post("/messages", json_body=self.request_body(ctx, tools))
        blocks: dict[int, ToolCall] = {}
        stop_reason: str | None = None
        finished = False
        async for event, data in iter_sse(resp, self.provider):
            obj = loads(data, self.provider)
            kind = obj.get("type", event)
            if kind == "error":
                err = obj.get("error") or {}
                etype = err.get("type", "error")
                raise RemoteError(
                    f"anthropic: {etype}: {err.get('message', '')}",
                    status=None,
                    retryable=etype in ("overloaded_error", "api_error", "rate_limit_error"),
                )
            if kind == "content_block_start":
                block = obj.get("content_block") or {}
                if block.get("type") == "tool_use":
                    blocks[int(obj["index"])] = ToolCall(id=block.get("id", ""), name=block.get("name", ""))
                elif block.get("type") == "text" and block.get("text"):
                    yield ChatChunk(text=block["text"])
            elif kind == "content_block_delta":
                delta = obj.get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    yield ChatChunk(text=delta["text"])
                elif delta.get("type") == "input_json_delta":
                    call = blocks.get(int(obj["index"]))
                    if call is not None:
                        call.arguments += delta.get("partial_json", "")
            elif kind == "message_delta":
                stop_reason = (obj.get("delta") or {}).get("stop_reason") or stop_reason
            elif kind == "message_stop":
                finished = True
                break
        if not finished:
            raise RemoteError(
                "anthropic: stream ended before message_stop (connection dropped?)",
                status=None,
                retryable=True,
            )
        if blocks:
            for c in blocks.values():
                try:
                    json.loads(c.arguments or "{}")
                except json.JSONDecodeError as exc:
                    raise RemoteError(
                        f"anthropic: malformed tool input for {c.name}", status=None, retryable=True
                    ) from exc
            yield ChatChunk(tool_calls=tuple(blocks[i] for i in sorted(blocks)), finish_reason="tool_calls")
        else:
            yield ChatChunk(finish_reason=stop_reason or "stop")

    async def aclose(self) -> None:
        await self._http.aclose()
