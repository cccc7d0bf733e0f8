"""``openai``: ``POST /v1/audio/transcriptions`` (OpenAI, or any compatible server, e.g. a local
whisper.cpp / faster-whisper server via ``base_url``). Not streaming on the wire: each segment (ended
by ``flush()``) is uploaded as a 16 kHz PCM16 WAV and its text is the final transcript."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from voicecore.adapters.base import (
    DEFAULT_CONN,
    STT,
    ConnOptions,
    SpeechData,
    STTStream,
    conn_options,
    retrying,
)
from voicecore.adapters.http import loads, openai_compatible_client
from voicecore.audio import AudioFrame, float32_to_int16

__all__ = ["OpenAISTT", "wav_bytes"]


def wav_bytes(samples: np.ndarray, sample_rate_hz: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(float32_to_int16(samples.astype(np.float32)).tobytes())
    return buf.getvalue()


class _Stream(STTStream):
    def __init__(self, stt: OpenAISTT) -> None:
        self._o = stt
        self._working = False
        super().__init__(stt, stt.conn)

    @property
    def busy(self) -> bool:
        return self._working or not self._input.empty()

    async def _run(self, inp: asyncio.Queue[Any], out: asyncio.Queue[Any]) -> None:
        frames: list[AudioFrame] = []
        while True:
            item = await inp.get()
            if isinstance(item, AudioFrame):
                frames.append(item)
                continue
            if frames:
                self._working = True
                try:
                    audio = np.concatenate([f.mono() for f in frames])
                    rate = frames[0].sample_rate_hz
                    frames = []
                    text = ""

                    def attempt(
                        a: np.ndarray = audio, r: int = rate, o: OpenAISTT = self._o
                    ) -> AsyncIterator[str]:
                        return o.transcribe_once(a, r)

                    async for t in retrying(attempt, self._conn, "stt openai"):
                        text = t
                finally:
                    self._working = False
            else:
                text = ""
            if self.is_flush(item):
                out.put_nowait(SpeechData(text, is_final=True))
            else:
                return


class OpenAISTT(STT):
    provider = "openai"
    sample_rate_hz = 16000

    def __init__(
        self,
        *,
        model: str = "whisper-1",
        base_url: str | None = None,
        api_key: str | None = None,
        language: str | None = None,
        conn: ConnOptions = DEFAULT_CONN,
        timeout_s: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        super().__init__(conn=conn_options(conn, timeout_s, max_retries))
        self.model = model
        self.language = language
        self._http = openai_compatible_client(base_url, api_key, "stt")
        self.base_url = self._http.base_url

    async def transcribe_once(self, audio: np.ndarray, sample_rate_hz: int) -> AsyncIterator[str]:
        import aiohttp

        form = aiohttp.FormData()
        form.add_field(
            "file", wav_bytes(audio, sample_rate_hz), filename="audio.wav", content_type="audio/wav"
        )
        form.add_field("model", self.model)
        form.add_field("response_format", "json")
        if self.language:
            form.add_field("language", self.language)
        resp = await self._http.post("/audio/transcriptions", data=form)
        try:
            obj = loads(await resp.text(), self.provider)
        finally:
            resp.release()
        yield str(obj.get("text", "")).strip()

    def stream(self) -> STTStream:
        return _Stream(self)

    async def aclose(self) -> None:
        await self._http.aclose()
