"""``openai``: ``POST /v1/audio/speech`` with ``response_format="pcm"`` (24 kHz PCM16), streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from voicecore.adapters.base import DEFAULT_CONN, TTS, ConnOptions, conn_options
from voicecore.adapters.http import RemoteError, openai_compatible_client
from voicecore.audio import AudioFrame, int16_to_float32

__all__ = ["OpenAITTS"]


class OpenAITTS(TTS):
    provider = "openai"
    sample_rate_hz = 24000

    def __init__(
        self,
        *,
        model: str = "gpt-4o-mini-tts",
        voice: str = "alloy",
        base_url: str | None = None,
        api_key: str | None = None,
        conn: ConnOptions = DEFAULT_CONN,
        timeout_s: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        super().__init__(conn=conn_options(conn, timeout_s, max_retries))
        self.model = model
        self.voice = voice
        self._http = openai_compatible_client(base_url, api_key, "tts")
        self.base_url = self._http.base_url

    async def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        import aiohttp

        body = {"model": self.model, "voice": self.voice, "input": text, "response_format": "pcm"}
        resp = await self._http.post("/audio/speech", json_body=body)
        carry = b""
        try:
            async for chunk in resp.content.iter_chunked(4800):
                data = carry + chunk
                usable = len(data) - (len(data) % 2)
                carry = data[usable:]
                if usable:
                    pcm = np.frombuffer(data[:usable], dtype="<i2")
                    yield AudioFrame(int16_to_float32(pcm), self.sample_rate_hz)
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            raise RemoteError(
                f"openai tts: connection dropped mid-stream: {exc}", status=None, retryable=True
            ) from exc
        finally:
            resp.release()

    async def aclose(self) -> None:
        await self._http.aclose()
