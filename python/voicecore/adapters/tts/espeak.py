"""``espeak``: espeak-ng formant synthesis (Debian package ``espeak-ng``), the light offline fallback.

Runs the ``espeak-ng`` program as an asyncio subprocess and reads 16-bit WAV from its stdout.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import numpy as np

from voicecore.adapters.base import DEFAULT_CONN, TTS, ConnOptions
from voicecore.audio import AudioFrame, int16_to_float32
from voicecore.errors import AdapterError, ConfigError

__all__ = ["EspeakTTS"]


class EspeakTTS(TTS):
    provider = "espeak"
    sample_rate_hz = 22050

    def __init__(
        self,
        *,
        voice: str = "en-us",
        words_per_minute: int = 175,
        executable: str | None = None,
        conn: ConnOptions = DEFAULT_CONN,
    ) -> None:
        super().__init__(conn=conn)
        exe = executable or shutil.which("espeak-ng") or shutil.which("espeak")
        if exe is None:
            raise ConfigError(
                "espeak-ng is not installed; apt-get install espeak-ng (scripts/system-packages.txt)"
            )
        self._exe = exe
        self.voice = voice
        self.words_per_minute = words_per_minute

    async def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        proc = await asyncio.create_subprocess_exec(
            self._exe,
            "-v",
            self.voice,
            "-s",
            str(self.words_per_minute),
            "--stdout",
            text,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if proc.returncode != 0 or len(out) < 44:
            raise AdapterError(f"espeak-ng failed ({proc.returncode}): {err.decode(errors='replace')[:200]}")
        rate = int.from_bytes(out[24:28], "little")
        data_at = out.find(b"data") + 8
        pcm = np.frombuffer(out[data_at : data_at + ((len(out) - data_at) // 2) * 2], dtype="<i2")
        samples = int16_to_float32(pcm)
        step = rate // 5  # 200 ms frames
        for i in range(0, samples.size, step):
            yield AudioFrame(samples[i : i + step], rate)
