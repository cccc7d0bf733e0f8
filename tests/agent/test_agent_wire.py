"""Remote adapters against local aiohttp servers speaking each wire protocol over a real socket.

The servers implement the OpenAI-compatible endpoints (chat completions over SSE, audio
transcriptions, audio speech) and Anthropic's Messages API (SSE events), including the failure
modes a voice agent meets: 429 with Retry-After, 5xx, 4xx, a stall (timeout) and a connection
dropped mid-stream.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web  # noqa: E402

from voicecore.adapters.base import ConnOptions  # noqa: E402
from voicecore.adapters.fallback import FallbackLLM  # noqa: E402
from voicecore.adapters.llm.anthropic import AnthropicLLM  # noqa: E402
from voicecore.adapters.llm.openai import OpenAILLM  # noqa: E402
from voicecore.adapters.llm.rules import RulesLLM  # noqa: E402
from voicecore.adapters.stt.openai import OpenAISTT  # noqa: E402
from voicecore.adapters.tts.openai import OpenAITTS  # noqa: E402
from voicecore.agent.context import ChatContext, FunctionTool  # noqa: E402
from voicecore.audio import AudioFrame  # noqa: E402
from voicecore.errors import AdapterError  # noqa: E402

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAST = ConnOptions(timeout_s=2.0, max_retries=2, retry_interval_s=0.01)


class Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application()
        self.runner: web.AppRunner | None = None
        self.port = 0

    def route(self, path: str, handler: Handler) -> None:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            body: Any
            if request.content_type == "application/json":
                body = await request.json()
            else:
                body = None
            self.requests.append({"path": request.path, "headers": dict(request.headers), "json": body})
            return await handler(request)

        self.app.router.add_post(path, wrapped)

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}/v1"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    yield s
    await s.stop()


async def sse(
    request: web.Request, events: list[str], *, drop_after: int | None = None, delay_s: float = 0.0
) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for i, ev in enumerate(events):
        if drop_after is not None and i == drop_after:
            assert request.transport is not None
            request.transport.close()  # connection dropped mid-stream
            return resp
        await resp.write(ev.encode())
        if delay_s:
            await asyncio.sleep(delay_s)
    await resp.write_eof()
    return resp


def oa_chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    return (
        "data: " + json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"
    )


def oa_text_events(words: list[str]) -> list[str]:
    evs = [oa_chunk({"role": "assistant", "content": ""})]
    evs += [oa_chunk({"content": w}) for w in words]
    evs += [oa_chunk({}, "stop"), "data: [DONE]\n\n"]
    return evs


def ctx_with(text: str) -> ChatContext:
    ctx = ChatContext()
    ctx.add("system", "be brief")
    ctx.add("user", text)
    return ctx


TIME_TOOL = FunctionTool(
    "get_time", "current time", {"type": "object", "properties": {"tz": {"type": "string"}}}
)


# ------------------------------------------------------------------------------- OpenAI chat


async def test_openai_streams_text_and_sends_the_request_shape(server: Server) -> None:
    async def h(request: web.Request) -> web.StreamResponse:
        return await sse(request, oa_text_events(["Hel", "lo", " there"]))

    server.route("/v1/chat/completions", h)
    base = await server.start()
    async with OpenAILLM(base_url=base, api_key="sk-test", model="m1", conn=FAST) as llm:
        chunks = [c async for c in llm.chat(ctx_with("hi"), tools=[TIME_TOOL])]
    assert "".join(c.text for c in chunks) == "Hello there"
    assert chunks[-1].finish_reason == "stop"
    req = server.requests[0]
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    assert req["json"]["stream"] is True
    assert req["json"]["model"] == "m1"
    assert req["json"]["messages"][-1] == {"role": "user", "content": "hi"}
    assert req["json"]["tools"][0]["function"]["name"] == "get_time"


async def test_openai_tool_call_arguments_are_assembled_from_fragments(server: Server) -> None:
    evs = [
        oa_chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": ""},
                    }
                ]
            }
        ),
        oa_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"tz": '}}]}),
        oa_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"UTC"}'}}]}),
        oa_chunk({}, "tool_calls"),
        "data: [DONE]\n\n",
    ]

    async def h(request: web.Request) -> web.StreamResponse:
        return await sse(request, evs)

    server.route("/v1/chat/completions", h)
    base = await server.start()
    async with OpenAILLM(base_url=base, conn=FAST) as llm:
        text, calls = await llm.chat(ctx_with("what time is it"), tools=[TIME_TOOL]).collect()
    assert text == ""
    assert len(calls) == 1
    assert (calls[0].id, calls[0].name, calls[0].parsed_arguments()) == ("call_9", "get_time", {"tz": "UTC"})


async def test_openai_429_is_retried_after_retry_after(server: Server) -> None:
    hits = {"n": 0}

    async def h(request: web.Request) -> web.StreamResponse:
        hits["n"] += 1
        if hits["n"] == 1:
            return web.json_response(
                {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.2"}
            )
        return await sse(request, oa_text_events(["ok"]))

    server.route("/v1/chat/completions", h)
    base = await server.start()
    t0 = time.monotonic()
    async with OpenAILLM(base_url=base, conn=FAST) as llm:
        text, _ = await llm.chat(ctx_with("hi")).collect()
    assert text == "ok"
    assert hits["n"] == 2
    assert time.monotonic() - t0 >= 0.2  # honoured Retry-After, not the 10 ms backoff


async def test_openai_5xx_exhausts_retries_and_4xx_is_not_retried(server: Server) -> None:
    hits = {"500": 0, "400": 0}

    async def h500(request: web.Request) -> web.StreamResponse:
        hits["500"] += 1
        return web.json_response({"error": {"message": "boom"}}, status=500)

    async def h400(request: web.Request) -> web.StreamResponse:
        hits["400"] += 1
        return web.json_response({"error": {"message": "bad model"}}, status=400)

    server.route("/v1/chat/completions", h500)
    server.route("/bad/chat/completions", h400)
    base = await server.start()
    async with OpenAILLM(base_url=base, conn=FAST) as llm:
        with pytest.raises(AdapterError, match="HTTP 500"):
            await llm.chat(ctx_with("hi")).collect()
    assert hits["500"] == FAST.max_retries + 1
    async with OpenAILLM(base_url=base.replace("/v1", "/bad"), conn=FAST) as llm:
        with pytest.raises(AdapterError, match="HTTP 400") as info:
            await llm.chat(ctx_with("hi")).collect()
    assert hits["400"] == 1
    assert info.value.retryable is False


async def test_openai_stall_times_out(server: Server) -> None:
    release = asyncio.Event()

    async def h(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await asyncio.wait([asyncio.ensure_future(release.wait())], timeout=5)  # stalls until the test ends
        return resp

    server.route("/v1/chat/completions", h)
    base = await server.start()
    t0 = time.monotonic()
    async with OpenAILLM(base_url=base, conn=ConnOptions(timeout_s=0.3, max_retries=0)) as llm:
        with pytest.raises(AdapterError, match="no data"):
            await llm.chat(ctx_with("hi")).collect()
    assert time.monotonic() - t0 < 2.0
    release.set()


async def test_openai_connection_dropped_mid_stream_then_fallback_completes(server: Server) -> None:
    async def h(request: web.Request) -> web.StreamResponse:
        return await sse(request, oa_text_events(["one", " two", " three"]), drop_after=2)

    server.route("/v1/chat/completions", h)
    base = await server.start()
    primary = OpenAILLM(base_url=base, conn=ConnOptions(timeout_s=2.0, max_retries=0))
    with pytest.raises(AdapterError, match="dropped|before"):
        await primary.chat(ctx_with("hi")).collect()
    fb = FallbackLLM([primary, RulesLLM()])
    async with fb:
        text, _ = await fb.chat(ctx_with("hello")).collect()
    # The partial text of the failed provider was streamed, then the fallback's full reply.
    assert text.startswith("one")
    assert "Hello! I am the voicecore demo agent" in text
    assert fb.failovers == 1


# ------------------------------------------------------------------------------- Anthropic


def an_event(kind: str, payload: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload})}\n\n"


def an_text_events(parts: list[str]) -> list[str]:
    evs = [
        an_event("message_start", {"message": {"id": "msg_1", "role": "assistant", "content": []}}),
        an_event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ": ping comment\n\n",
    ]
    evs += [
        an_event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": p}})
        for p in parts
    ]
    evs += [
        an_event("content_block_stop", {"index": 0}),
        an_event("message_delta", {"delta": {"stop_reason": "end_turn"}}),
        an_event("message_stop", {}),
    ]
    return evs


async def test_anthropic_streams_text_with_its_headers_and_message_shape(server: Server) -> None:
    async def h(request: web.Request) -> web.StreamResponse:
        return await sse(request, an_text_events(["Bon", "jour"]))

    server.route("/v1/messages", h)
    base = await server.start()
    ctx = ctx_with("hi")
    ctx.add("assistant", "hello")
    ctx.add("user", "again")
    async with AnthropicLLM(base_url=base, api_key="k-test", model="claude-x", conn=FAST) as llm:
        chunks = [c async for c in llm.chat(ctx)]
    assert "".join(c.text for c in chunks) == "Bonjour"
    assert chunks[-1].finish_reason == "end_turn"
    req = server.requests[0]
    assert req["headers"]["x-api-key"] == "k-test"
    assert req["headers"]["anthropic-version"] == "2023-06-01"
    body = req["json"]
    assert body["system"] == "be brief"
    assert body["stream"] is True
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


async def test_anthropic_tool_use_and_tool_result_round_trip(server: Server) -> None:
    evs = [
        an_event("message_start", {"message": {"id": "msg_2", "role": "assistant", "content": []}}),
        an_event(
            "content_block_start",
            {
                "index": 0,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {}},
            },
        ),
        an_event(
            "content_block_delta",
            {"index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"tz"'}},
        ),
        an_event(
            "content_block_delta",
            {"index": 0, "delta": {"type": "input_json_delta", "partial_json": ': "CET"}'}},
        ),
        an_event("content_block_stop", {"index": 0}),
        an_event("message_delta", {"delta": {"stop_reason": "tool_use"}}),
        an_event("message_stop", {}),
    ]
    hits = {"n": 0}

    async def h(request: web.Request) -> web.StreamResponse:
        hits["n"] += 1
        return await sse(request, evs if hits["n"] == 1 else an_text_events(["It is noon."]))

    server.route("/v1/messages", h)
    base = await server.start()
    async with AnthropicLLM(base_url=base, conn=FAST) as llm:
        ctx = ctx_with("time?")
        _, calls = await llm.chat(ctx, tools=[TIME_TOOL]).collect()
        assert [(c.id, c.name, c.parsed_arguments()) for c in calls] == [
            ("toolu_1", "get_time", {"tz": "CET"})
        ]
        ctx.add("assistant", "", tool_calls=calls)
        ctx.add("tool", "12:00", tool_call_id="toolu_1")
        text, _ = await llm.chat(ctx, tools=[TIME_TOOL]).collect()
    assert text == "It is noon."
    second = server.requests[1]["json"]
    assert second["tools"][0]["input_schema"]["properties"]["tz"]["type"] == "string"
    assert second["messages"][-2]["content"][-1] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_time",
        "input": {"tz": "CET"},
    }
    assert second["messages"][-1]["content"][-1] == {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": "12:00",
    }


async def test_anthropic_overloaded_error_event_is_retried_and_dropped_stream_fails(server: Server) -> None:
    hits = {"n": 0}

    async def h(request: web.Request) -> web.StreamResponse:
        hits["n"] += 1
        if hits["n"] == 1:
            return await sse(
                request, [an_event("error", {"error": {"type": "overloaded_error", "message": "busy"}})]
            )
        if hits["n"] == 2:
            return web.json_response(
                {"type": "error", "error": {"type": "rate_limit_error"}},
                status=429,
                headers={"Retry-After": "0"},
            )
        return await sse(request, an_text_events(["fine"]))

    async def dropped(request: web.Request) -> web.StreamResponse:
        return await sse(request, an_text_events(["par", "tial"]), drop_after=4)

    server.route("/v1/messages", h)
    server.route("/drop/messages", dropped)
    base = await server.start()
    async with AnthropicLLM(base_url=base, conn=FAST) as llm:
        text, _ = await llm.chat(ctx_with("hi")).collect()
    assert text == "fine"
    assert hits["n"] == 3
    async with AnthropicLLM(base_url=base.replace("/v1", "/drop"), conn=ConnOptions(max_retries=0)) as llm:
        with pytest.raises(AdapterError, match="dropped|before message_stop"):
            await llm.chat(ctx_with("hi")).collect()


# ------------------------------------------------------------------------------- OpenAI audio


async def test_openai_transcriptions_uploads_wav_per_segment(server: Server) -> None:
    seen: list[tuple[int, int, str]] = []

    async def h(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        f = form["file"]
        assert isinstance(f, web.FileField)
        with wave.open(io.BytesIO(f.file.read())) as w:
            seen.append((w.getframerate(), w.getnframes(), str(form["model"])))
        if len(seen) == 1:
            return web.json_response({"error": {"message": "busy"}}, status=503)
        return web.json_response({"text": f" segment of {seen[-1][1]} samples "})

    server.route("/v1/audio/transcriptions", h)
    base = await server.start()
    async with OpenAISTT(base_url=base, model="whisper-x", conn=FAST) as stt:
        stream = stt.stream()
        for _ in range(30):
            stream.push_frame(AudioFrame(np.full(160, 0.1, np.float32), 16000))
        stream.flush()
        stream.end_input()
        results = [ev async for ev in stream]
        await stream.aclose()
    assert [(r.text, r.is_final) for r in results] == [("segment of 4800 samples", True)]
    assert seen[-1] == (16000, 4800, "whisper-x")
    assert len(seen) == 2  # 503 retried once


async def test_openai_speech_streams_pcm_frames(server: Server) -> None:
    tone = (np.sin(2 * np.pi * 440 * np.arange(24000) / 24000) * 8000).astype("<i2")

    async def h(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        assert body["response_format"] == "pcm"
        assert body["input"] == "Hello."
        resp = web.StreamResponse(headers={"Content-Type": "audio/pcm"})
        await resp.prepare(request)
        raw = tone.tobytes()
        for i in range(0, len(raw), 1001):  # odd chunk sizes split samples across writes
            await resp.write(raw[i : i + 1001])
        await resp.write_eof()
        return resp

    server.route("/v1/audio/speech", h)
    base = await server.start()
    async with OpenAITTS(base_url=base, conn=FAST) as tts:
        frames = [f async for f in tts.synthesize("Hello.")]
    assert {f.sample_rate_hz for f in frames} == {24000}
    audio = np.concatenate([f.samples for f in frames])
    np.testing.assert_allclose(audio, tone.astype(np.float32) / 32768.0, atol=1e-6)
