"""Scripted, deterministic adapters for session-logic tests (local fakes, not remote APIs).

FakeTTS speaks with a *real* recording (sliced to the text length), so the VAD and the echo canceller
see speech, not tones, when the agent's voice comes back through the simulated room.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicecore.adapters.base import LLM, STT, TTS, ChatChunk, ConnOptions, SpeechData, STTStream
from voicecore.agent.context import ChatContext, FunctionTool
from voicecore.audio import AudioFrame
from voicecore.errors import AdapterError

NO_RETRY = ConnOptions(timeout_s=5.0, max_retries=0)


def clip(name: str) -> NDArray[np.float32]:
    ref = resources.files("voicecore").joinpath(f"data/demo/{name}.wav")
    with resources.as_file(ref) as p, wave.open(str(p)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


class _FakeSTTStream(STTStream):
    def __init__(self, stt: FakeSTT) -> None:
        self._f = stt
        super().__init__(stt, stt.conn)

    async def _run(self, inp: asyncio.Queue[Any], out: asyncio.Queue[Any]) -> None:
        frames = 0
        while True:
            item = await inp.get()
            if isinstance(item, AudioFrame):
                frames += 1
                if self._f.interim_after_frames and frames == self._f.interim_after_frames:
                    text = self._f.peek()
                    if text:
                        out.put_nowait(SpeechData(text.split()[0], is_final=False))
                continue
            if self.is_flush(item):
                frames = 0
                await asyncio.sleep(self._f.final_delay_s)
                out.put_nowait(SpeechData(self._f.next_text(), is_final=True))
            else:
                return


class FakeSTT(STT):
    """Returns ``texts[i]`` as the final transcript of the i-th flushed segment ("" when exhausted)."""

    provider = "fake-stt"

    def __init__(
        self,
        texts: Sequence[str],
        *,
        interim_after_frames: int = 20,
        final_delay_s: float = 0.0,
        fail: bool = False,
    ) -> None:
        super().__init__(conn=NO_RETRY)
        self.texts = list(texts)
        self.i = 0
        self.interim_after_frames = interim_after_frames
        self.final_delay_s = final_delay_s
        self.fail = fail

    def peek(self) -> str:
        return self.texts[self.i] if self.i < len(self.texts) else ""

    def next_text(self) -> str:
        t = self.peek()
        self.i += 1
        return t

    def stream(self) -> STTStream:
        if self.fail:
            return _FailingSTTStream(self, self.conn)
        return _FakeSTTStream(self)


class _FailingSTTStream(STTStream):
    async def _run(self, inp: asyncio.Queue[Any], out: asyncio.Queue[Any]) -> None:
        await inp.get()
        raise AdapterError("fake stt: connection lost", retryable=True)


class FakeLLM(LLM):
    """Streams ``replies[i]`` word by word for the i-th call; ``fail_first`` raises before any token."""

    provider = "fake-llm"

    def __init__(self, replies: Sequence[str], *, fail: bool = False, token_delay_s: float = 0.0) -> None:
        super().__init__(conn=NO_RETRY)
        self.replies = list(replies)
        self.calls: list[ChatContext] = []
        self.fail = fail
        self.token_delay_s = token_delay_s

    async def _generate(self, ctx: ChatContext, tools: Sequence[FunctionTool]) -> AsyncIterator[ChatChunk]:
        self.calls.append(ctx)
        if self.fail:
            raise AdapterError("fake llm: HTTP 503", retryable=True)
        text = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        for i, w in enumerate(text.split(" ")):
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            yield ChatChunk(text=w if i == 0 else " " + w)
        yield ChatChunk(finish_reason="stop")


class FakeTTS(TTS):
    """``seconds_per_word`` of a real speech recording per word, at ``sample_rate_hz``."""

    provider = "fake-tts"

    def __init__(
        self,
        *,
        seconds_per_word: float = 0.3,
        voice: str = "librivox_ss_0920",
        sample_rate_hz: int = 16000,
        fail: bool = False,
        gain: float = 1.0,
    ) -> None:
        super().__init__(conn=NO_RETRY)
        self.sample_rate_hz = sample_rate_hz
        self.seconds_per_word = seconds_per_word
        base = clip(voice) * gain
        if sample_rate_hz != 16000:
            idx = np.arange(int(base.size * sample_rate_hz / 16000)) * 16000 / sample_rate_hz
            base = np.interp(idx, np.arange(base.size), base).astype(np.float32)
        self.voice = base
        self.fail = fail
        self.texts: list[str] = []

    def samples_for(self, text: str) -> int:
        return int(len(text.split()) * self.seconds_per_word * self.sample_rate_hz)

    async def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        if self.fail:
            raise AdapterError("fake tts: HTTP 500", retryable=True)
        self.texts.append(text)
        n = self.samples_for(text)
        reps = int(np.ceil(n / self.voice.size))
        audio = np.tile(self.voice, reps)[:n].astype(np.float32)
        step = self.sample_rate_hz // 10
        for i in range(0, n, step):
            await asyncio.sleep(0)
            yield AudioFrame(audio[i : i + step], self.sample_rate_hz)


def make_vad() -> Any:
    """voicecore's SpeechDetector (frame VAD: cheap and deterministic) as the session uses it."""
    from voicecore.agent.kernels import make_speech_detector

    return make_speech_detector("frame", min_silence_ms=250, prefix_padding_ms=300)


def resampler_factory() -> Any:
    return None  # the session uses voicecore.Resampler


def trim(x: NDArray[np.float32], threshold_dbfs: float = -40.0) -> NDArray[np.float32]:
    """Cut leading/trailing low-energy audio (10 ms frames) of a recording."""
    n = x.size // 160
    db = 10 * np.log10(np.mean(x[: n * 160].reshape(n, 160).astype(np.float64) ** 2, axis=1) + 1e-12)
    idx = np.flatnonzero(db > threshold_dbfs)
    return x[idx[0] * 160 : (idx[-1] + 1) * 160].copy() if idx.size else x
