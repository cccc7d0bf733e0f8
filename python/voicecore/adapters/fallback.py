"""Fallback adapters: move to the next provider on failure without losing the turn.

* LLM: a failure before the first chunk moves to the next provider transparently. A failure after
  some text was streamed also moves on; the next provider then gets the same context and its reply
  is streamed after what was already said (a provider cannot continue another one's sentence).
* STT: the audio of the current segment (since the last ``flush()``) is kept and replayed into the
  next provider's stream, so the user's words are not lost.
* TTS: a segment whose synthesis fails before its first frame is synthesized by the next provider;
  after a partial segment the next provider says the whole segment again.

A provider that failed is skipped for ``cooldown_s`` seconds unless every provider has failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from voicecore.adapters.base import (
    LLM,
    STT,
    TTS,
    Adapter,
    ChatChunk,
    ConnOptions,
    LLMStream,
    STTStream,
)
from voicecore.agent.context import ChatContext, FunctionTool
from voicecore.audio import AudioFrame
from voicecore.errors import AdapterError, ConfigError

__all__ = ["FallbackAdapter", "FallbackLLM", "FallbackSTT", "FallbackTTS"]

_log = logging.getLogger("voicecore.adapters.fallback")
A = TypeVar("A", bound=Adapter)
T = TypeVar("T")


class _Chain:
    def __init__(self, adapters: Sequence[Adapter], cooldown_s: float) -> None:
        if not adapters:
            raise ConfigError("a fallback adapter needs at least one provider")
        self.adapters = list(adapters)
        self.cooldown_s = cooldown_s
        self._failed_at: dict[int, float] = {}
        self.failovers = 0

    def order(self) -> list[int]:
        now = time.monotonic()
        healthy = [
            i for i in range(len(self.adapters)) if now - self._failed_at.get(i, -1e9) > self.cooldown_s
        ]
        rest = [i for i in range(len(self.adapters)) if i not in healthy]
        return healthy + rest

    def mark_failed(self, i: int, exc: BaseException) -> None:
        self._failed_at[i] = time.monotonic()
        self.failovers += 1
        _log.warning("provider %s failed (%s); falling back", self.adapters[i].provider, exc)

    async def first_success(
        self, kind: str, open_stream: Callable[[Any], AsyncIterator[T]]
    ) -> AsyncIterator[T]:
        """Stream from the first provider that completes; a failed one hands over to the next."""
        errors: list[str] = []
        for i in self.order():
            adapter = self.adapters[i]
            it = open_stream(adapter)
            try:
                async for item in it:
                    yield item
                return
            except AdapterError as exc:
                self.mark_failed(i, exc)
                errors.append(f"{adapter.provider}: {exc}")
            finally:
                aclose = getattr(it, "aclose", None)
                if aclose is not None:
                    await aclose()
        raise AdapterError(f"every {kind} provider failed: " + "; ".join(errors), retryable=False)


class _ChainOwner:
    """What every fallback adapter forwards to its providers."""

    _chain: _Chain

    @property
    def failovers(self) -> int:
        return self._chain.failovers

    async def aclose(self) -> None:
        for a in self._chain.adapters:
            await a.aclose()

    async def warm_up(self) -> None:
        for a in self._chain.adapters:
            await a.warm_up()


class FallbackLLM(_ChainOwner, LLM):
    provider = "fallback"

    def __init__(self, llms: Sequence[LLM], *, cooldown_s: float = 30.0) -> None:
        super().__init__()
        self._chain = _Chain(llms, cooldown_s)
        self.provider = "fallback(" + ",".join(a.provider for a in llms) + ")"

    def chat(
        self, ctx: ChatContext, *, tools: Sequence[FunctionTool] = (), conn: ConnOptions | None = None
    ) -> LLMStream:
        ctx = ctx.copy()
        return LLMStream(self._chain.first_success("LLM", lambda llm: llm.chat(ctx, tools=tools, conn=conn)))

    def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        raise NotImplementedError  # chat() is overridden


class FallbackTTS(_ChainOwner, TTS):
    provider = "fallback"

    def __init__(self, ttss: Sequence[TTS], *, cooldown_s: float = 30.0) -> None:
        super().__init__()
        self._chain = _Chain(ttss, cooldown_s)
        # Frames keep their own rate, so providers of different rates mix; the session resamples
        # each frame to its output rate. The first provider's rate is the nominal one.
        self.sample_rate_hz = ttss[0].sample_rate_hz
        self.provider = "fallback(" + ",".join(a.provider for a in ttss) + ")"

    def synthesize(self, text: str, *, conn: ConnOptions | None = None) -> AsyncIterator[AudioFrame]:
        return self._chain.first_success("TTS", lambda tts: tts.synthesize(text, conn=conn))

    def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        raise NotImplementedError  # synthesize() is overridden


class _FallbackSTTStream(STTStream):
    def __init__(self, stt: FallbackSTT) -> None:
        self._fb = stt
        super().__init__(stt, stt.conn)

    async def _run(self, inp: asyncio.Queue[Any], out: asyncio.Queue[Any]) -> None:
        chain = self._fb._chain
        order = chain.order()
        segment: list[AudioFrame] = []  # audio since the last flush, replayed on failover
        pos = 0
        while pos < len(order):
            idx = order[pos]
            stt = chain.adapters[idx]
            assert isinstance(stt, STT)
            inner = stt.stream()
            for f in segment:
                inner.push_frame(f)
            reader = asyncio.get_running_loop().create_task(self._pump(inner, out))
            try:
                while True:
                    getter = asyncio.ensure_future(inp.get())
                    done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                    if reader in done:
                        getter.cancel()
                        reader.result()  # raises the provider's error
                        return
                    item = getter.result()
                    if self.is_end(item):
                        inner.end_input()
                        await reader
                        reader.result()
                        return
                    if self.is_flush(item):
                        segment = []
                        inner.flush()
                    else:
                        segment.append(item)
                        inner.push_frame(item)
            except AdapterError as exc:
                chain.mark_failed(idx, exc)
                pos += 1
                if pos >= len(order):
                    raise AdapterError(f"every STT provider failed; last: {exc}", retryable=False) from exc
            finally:
                if not reader.done():
                    reader.cancel()
                await inner.aclose()

    @staticmethod
    async def _pump(inner: STTStream, out: asyncio.Queue[Any]) -> None:
        async for ev in inner:
            out.put_nowait(ev)


class FallbackSTT(_ChainOwner, STT):
    provider = "fallback"

    def __init__(self, stts: Sequence[STT], *, cooldown_s: float = 30.0) -> None:
        super().__init__()
        self._chain = _Chain(stts, cooldown_s)
        self.sample_rate_hz = stts[0].sample_rate_hz
        self.provider = "fallback(" + ",".join(a.provider for a in stts) + ")"

    def stream(self) -> STTStream:
        return _FallbackSTTStream(self)


def FallbackAdapter(adapters: Sequence[A], *, cooldown_s: float = 30.0) -> A:  # noqa: N802 - factory
    """A fallback over ``adapters`` (all STT, all LLM or all TTS), tried in order."""
    if not adapters:
        raise ConfigError("FallbackAdapter needs at least one adapter")
    if all(isinstance(a, LLM) for a in adapters):
        return FallbackLLM(adapters, cooldown_s=cooldown_s)  # type: ignore[arg-type,return-value]
    if all(isinstance(a, STT) for a in adapters):
        return FallbackSTT(adapters, cooldown_s=cooldown_s)  # type: ignore[arg-type,return-value]
    if all(isinstance(a, TTS) for a in adapters):
        return FallbackTTS(adapters, cooldown_s=cooldown_s)  # type: ignore[arg-type,return-value]
    raise ConfigError("FallbackAdapter: mix of adapter kinds; pass only STTs, only LLMs or only TTSs")
