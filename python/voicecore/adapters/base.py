"""Small async interfaces for model adapters: streaming STT, streamed LLM chat, streamed TTS.

Shapes follow livekit's stream objects: synchronous ``push_frame()``/``push_text()``/``flush()``/
``end_input()`` on the input side, ``async for`` on the output side, ``aclose()`` and ``async with``
everywhere. Retries and timeouts come from :class:`ConnOptions`; a retry happens only while nothing
has been emitted yet, so a consumer never sees duplicated output from one adapter.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from voicecore.agent.context import ChatContext, FunctionTool, ToolCall
from voicecore.aio import cancel_and_wait
from voicecore.audio import AudioFrame
from voicecore.errors import AdapterError, AudioFormatError

__all__ = [
    "LLM",
    "STT",
    "TTS",
    "Adapter",
    "ChatChunk",
    "ConnOptions",
    "LLMStream",
    "STTStream",
    "SpeechData",
    "SynthesizedAudio",
    "TTSStream",
    "retrying",
    "split_sentences",
]

_log = logging.getLogger("voicecore.adapters")
T = TypeVar("T")
A = TypeVar("A", bound="Adapter")
S = TypeVar("S", bound="_OutputStream")


@dataclass(frozen=True, slots=True)
class ConnOptions:
    """Timeouts and retries for one adapter call.

    ``timeout_s`` bounds the wait for the *next* item of a stream (first token, next chunk), so a
    long answer is fine but a stalled one fails. Retries use exponential backoff from
    ``retry_interval_s`` and apply only to retryable errors raised before any output was emitted.
    """

    timeout_s: float = 10.0
    max_retries: int = 2
    retry_interval_s: float = 0.25

    def backoff_s(self, attempt: int) -> float:
        return float(self.retry_interval_s * (2**attempt))


DEFAULT_CONN = ConnOptions()


class Adapter(abc.ABC):  # noqa: B024 - concrete hooks only; kinds below are abstract
    """Base of every adapter: a provider name, ``aclose()`` and ``async with``."""

    provider: str = "unknown"

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release connections, threads and models."""

    async def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Load models / open connections ahead of the first turn (sessions call it on start)."""

    async def __aenter__(self: A) -> A:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def _next_within(it: AsyncIterator[T], timeout_s: float) -> T:
    # asyncio.timeout (3.11+) does not wrap the awaitable in a new task the way wait_for does,
    # which saves event-loop hops on every streamed item.
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout_s):
            return await it.__anext__()
    return await asyncio.wait_for(it.__anext__(), timeout_s)  # pragma: no cover - Python 3.10


async def retrying(factory: Callable[[], AsyncIterator[T]], conn: ConnOptions, what: str) -> AsyncIterator[T]:
    """Iterate ``factory()`` with per-item timeout; retry retryable failures before the first item."""
    attempt = 0
    while True:
        it = factory()
        emitted = False
        try:
            while True:
                try:
                    item = await _next_within(it, conn.timeout_s)
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    raise AdapterError(
                        f"{what}: no data for {conn.timeout_s:.1f} s; raise ConnOptions.timeout_s or check "
                        "the server",
                        retryable=True,
                    ) from exc
                emitted = True
                yield item
        except AdapterError as exc:
            if emitted or not exc.retryable or attempt >= conn.max_retries:
                raise
            delay = getattr(exc, "retry_after_s", None) or conn.backoff_s(attempt)
            _log.warning(
                "%s failed (%s); retry %d/%d in %.2f s", what, exc, attempt + 1, conn.max_retries, delay
            )
            attempt += 1
            await asyncio.sleep(delay)
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()


# ---------------------------------------------------------------------------------------- STT


class _OutputStream(abc.ABC):
    """The consumer side shared by STT and TTS streams: a producer task fills ``_output`` with items,
    then possibly an exception, then ``_END``; ``async for`` drains it and ``aclose()`` cancels the task.
    Subclasses set ``_item_type`` and start ``_task`` on :meth:`_produce`."""

    _item_type: type
    _output: asyncio.Queue[Any]
    _task: asyncio.Task[None]

    async def _produce(self) -> None:
        try:
            await self._run_producer()
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, not swallowed
            self._output.put_nowait(exc)
        finally:
            self._output.put_nowait(_END)

    @abc.abstractmethod
    async def _run_producer(self) -> None:
        """Put items of ``_item_type`` on ``_output``."""

    def __aiter__(self: S) -> S:
        return self

    async def __anext__(self) -> Any:
        item = await self._output.get()
        if item is _END:
            self._output.put_nowait(_END)  # later iterations end too
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, self._item_type)
        return item

    async def aclose(self) -> None:
        await cancel_and_wait(self._task)

    async def __aenter__(self: S) -> S:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@dataclass(frozen=True, slots=True)
class SpeechData:
    """A transcript: interim hypotheses may change, a final one closes the segment ended by ``flush()``."""

    text: str
    is_final: bool
    confidence: float = 1.0


_FLUSH = object()
_END = object()


class STTStream(_OutputStream):
    """One streaming recognition: ``push_frame()`` audio, ``flush()`` at the end of a user segment,
    ``async for`` transcripts. Every ``flush()`` yields exactly one final :class:`SpeechData` (its text
    may be empty). Frames must keep one sample rate; mono float32."""

    _item_type = SpeechData

    def __init__(self, stt: STT, conn: ConnOptions) -> None:
        self._stt = stt
        self._conn = conn
        self._input: asyncio.Queue[Any] = asyncio.Queue()
        self._output: asyncio.Queue[Any] = asyncio.Queue()
        self._rate: int | None = None
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._produce(), name=f"stt:{stt.provider}")

    def push_frame(self, frame: AudioFrame) -> None:
        if self._closed:
            raise AdapterError("STT stream is closed; open a new one with STT.stream()")
        if self._rate is None:
            self._rate = frame.sample_rate_hz
        elif frame.sample_rate_hz != self._rate:
            raise AudioFormatError(
                f"STT stream started at {self._rate} Hz but got a {frame.sample_rate_hz} Hz frame; "
                "resample before pushing"
            )
        self._input.put_nowait(frame)

    def flush(self) -> None:
        self._input.put_nowait(_FLUSH)

    def end_input(self) -> None:
        self._input.put_nowait(_END)

    async def _run_producer(self) -> None:
        await self._run(self._input, self._output)

    @abc.abstractmethod
    async def _run(self, inp: asyncio.Queue[Any], out: asyncio.Queue[Any]) -> None:
        """Consume frames/_FLUSH/_END from ``inp``; put SpeechData on ``out``."""

    @staticmethod
    def is_flush(item: object) -> bool:
        return item is _FLUSH

    @staticmethod
    def is_end(item: object) -> bool:
        return item is _END

    async def __anext__(self) -> SpeechData:
        item: SpeechData = await super().__anext__()
        return item

    async def aclose(self) -> None:
        self._closed = True
        await super().aclose()


class STT(Adapter):
    """Speech-to-text provider. ``sample_rate_hz`` is the rate its streams expect."""

    sample_rate_hz: int = 16000

    def __init__(self, *, conn: ConnOptions = DEFAULT_CONN) -> None:
        self.conn = conn

    @abc.abstractmethod
    def stream(self) -> STTStream:
        """Open a streaming recognition (must be called from a running event loop)."""


# ---------------------------------------------------------------------------------------- LLM


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """A piece of a streamed reply: text delta and/or complete tool calls."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None


class LLMStream:
    """An async iterator of :class:`ChatChunk` with ``aclose()``; wraps a provider generator."""

    def __init__(self, gen: AsyncIterator[ChatChunk]) -> None:
        self._gen = gen

    def __aiter__(self) -> LLMStream:
        return self

    async def __anext__(self) -> ChatChunk:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        aclose = getattr(self._gen, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> LLMStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def collect(self) -> tuple[str, list[ToolCall]]:
        text: list[str] = []
        calls: list[ToolCall] = []
        async for chunk in self:
            text.append(chunk.text)
            calls.extend(chunk.tool_calls)
        return "".join(text), calls


class LLM(Adapter):
    """Chat-completion provider: ``chat()`` streams text deltas and tool calls."""

    def __init__(self, *, conn: ConnOptions = DEFAULT_CONN) -> None:
        self.conn = conn

    def chat(
        self, ctx: ChatContext, *, tools: Sequence[FunctionTool] = (), conn: ConnOptions | None = None
    ) -> LLMStream:
        snapshot = ctx.copy()
        return LLMStream(
            retrying(lambda: self._generate(snapshot, tools), conn or self.conn, f"llm {self.provider}")
        )

    @abc.abstractmethod
    def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        """One attempt: an async generator of chunks; raise AdapterError(retryable=...) on failure."""


# ---------------------------------------------------------------------------------------- TTS


@dataclass(frozen=True, slots=True)
class SynthesizedAudio:
    """TTS output: a frame of segment ``segment_id`` whose text is ``segment_text``."""

    frame: AudioFrame
    segment_id: int
    segment_text: str
    is_segment_end: bool = False


_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_CLAUSE_END = re.compile(r"(?<=[.!?;:,])\s+|\n+")


def split_sentences(buffer: str, *, min_chars: int = 12, first: bool = False) -> tuple[list[str], str]:
    """Split complete sentences off ``buffer``; returns (sentences, remainder). With ``first``, the
    first piece may also end at a comma (16 characters at least)."""
    out: list[str] = []
    start = 0
    pattern = _CLAUSE_END if first else _SENTENCE_END
    for m in pattern.finditer(buffer):
        piece = buffer[start : m.start()].strip()
        if len(piece) >= (16 if first and not out else min_chars):
            out.append(piece)
            start = m.end()
    return out, buffer[start:]


class TTSStream(_OutputStream):
    """Streamed text in (``push_text``/``flush``/``end_input``), :class:`SynthesizedAudio` out.

    Text is cut into sentences; each sentence becomes one segment synthesized with
    :meth:`TTS.synthesize`, so audio of the first sentence flows while the LLM is still writing.
    """

    _item_type = SynthesizedAudio

    def __init__(self, tts: TTS, conn: ConnOptions) -> None:
        self._tts = tts
        self._conn = conn
        self._text = ""
        self._segments: asyncio.Queue[str | None] = asyncio.Queue()
        self._output: asyncio.Queue[Any] = asyncio.Queue()
        self._segment_id = 0
        self.num_segments = 0  # sentences handed to synthesis so far
        self._ended = False
        self._task = asyncio.get_running_loop().create_task(self._produce(), name=f"tts:{tts.provider}")

    def push_text(self, text: str) -> None:
        if self._ended:
            raise AdapterError("TTS stream input already ended; open a new stream")
        self._text += text
        # The first segment may end at a comma: a short first segment means earlier first audio.
        sentences, self._text = split_sentences(self._text, first=self.num_segments == 0)
        for s in sentences:
            self.num_segments += 1
            self._segments.put_nowait(s)

    def flush(self) -> None:
        rest = self._text.strip()
        self._text = ""
        if rest:
            self.num_segments += 1
            self._segments.put_nowait(rest)

    def end_input(self) -> None:
        self.flush()
        self._ended = True
        self._segments.put_nowait(None)

    async def _run_producer(self) -> None:
        while (text := await self._segments.get()) is not None:
            seg = self._segment_id
            self._segment_id += 1
            rate = self._tts.sample_rate_hz
            async for frame in self._tts.synthesize(text, conn=self._conn):
                rate = frame.sample_rate_hz
                self._output.put_nowait(SynthesizedAudio(frame, seg, text))  # no holding back
            # An empty frame closes the segment (its length is then known for playout tracking).
            end = AudioFrame(np.zeros(0, np.float32), rate)
            self._output.put_nowait(SynthesizedAudio(end, seg, text, is_segment_end=True))

    async def __anext__(self) -> SynthesizedAudio:
        item: SynthesizedAudio = await super().__anext__()
        return item


class TTS(Adapter):
    """Text-to-speech provider producing mono float32 frames at ``sample_rate_hz``."""

    sample_rate_hz: int = 22050

    def __init__(self, *, conn: ConnOptions = DEFAULT_CONN) -> None:
        self.conn = conn

    def synthesize(self, text: str, *, conn: ConnOptions | None = None) -> AsyncIterator[AudioFrame]:
        """Audio for ``text`` as it is produced (retried only before the first frame)."""
        return retrying(lambda: self._synthesize(text), conn or self.conn, f"tts {self.provider}")

    def stream(self, *, conn: ConnOptions | None = None) -> TTSStream:
        return TTSStream(self, conn or self.conn)

    @abc.abstractmethod
    def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        """One attempt: an async generator of frames."""


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-bound model code off the event loop (models release the GIL in native code)."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def conn_options(
    conn: ConnOptions, timeout_s: float | None = None, max_retries: int | None = None
) -> ConnOptions:
    """``conn`` with ``timeout_s``/``max_retries`` overridden (as given in a configuration file)."""
    return ConnOptions(
        timeout_s=float(timeout_s) if timeout_s is not None else conn.timeout_s,
        max_retries=int(max_retries) if max_retries is not None else conn.max_retries,
        retry_interval_s=conn.retry_interval_s,
    )
