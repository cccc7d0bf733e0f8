"""``pocketsphinx``: offline CMU PocketSphinx (the en-us model ships in the ``pocketsphinx`` wheel).

Open-vocabulary mode uses the bundled 3-gram LM (~29 % WER on real speech here). For commands and
deterministic tests, pass a JSGF ``grammar`` (or a ``keyphrase`` for keyword spotting): much more
reliable. Decoding runs in a worker thread (the C decoder releases the GIL), one decoder per stream.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from voicecore.adapters.base import DEFAULT_CONN, STT, ConnOptions, SpeechData, STTStream
from voicecore.audio import AudioFrame, float32_to_int16
from voicecore.errors import AdapterError, ConfigError

__all__ = ["PocketsphinxSTT"]


class _PsStream(STTStream):
    def __init__(self, stt: PocketsphinxSTT) -> None:
        self._ps = stt
        self._working = False
        super().__init__(stt, stt.conn)

    @property
    def busy(self) -> bool:
        return self._working or not self._input.empty()

    async def _run(self, inp: asyncio.Queue[Any], out: asyncio.Queue[Any]) -> None:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pocketsphinx")
        try:
            decoder = await loop.run_in_executor(executor, self._ps.make_decoder)
            in_utt = False
            since_interim = 0
            while True:
                item = await inp.get()
                self._working = True
                try:
                    batch: list[AudioFrame] = []
                    control: object | None = None
                    while True:
                        if isinstance(item, AudioFrame):
                            batch.append(item)
                        else:
                            control = item
                            break
                        if inp.empty():
                            break
                        item = inp.get_nowait()
                    if batch:
                        pcm = float32_to_int16(np.concatenate([f.mono() for f in batch])).tobytes()
                        if not in_utt:
                            await loop.run_in_executor(executor, decoder.start_utt)
                            in_utt = True
                        await loop.run_in_executor(executor, decoder.process_raw, pcm, False, False)
                        since_interim += len(batch)
                        if since_interim >= self._ps.interim_every_frames:
                            since_interim = 0
                            hyp = decoder.hyp()
                            if hyp is not None and hyp.hypstr.strip():
                                out.put_nowait(SpeechData(hyp.hypstr.strip(), is_final=False))
                    if control is not None:
                        if self.is_flush(control) or self.is_end(control):
                            text = ""
                            if in_utt:
                                await loop.run_in_executor(executor, decoder.end_utt)
                                in_utt = False
                                hyp = decoder.hyp()
                                text = hyp.hypstr.strip() if hyp is not None else ""
                            since_interim = 0
                            if self.is_flush(control):
                                out.put_nowait(SpeechData(text, is_final=True))
                        if self.is_end(control):
                            return
                finally:
                    self._working = False
        finally:
            executor.shutdown(wait=False, cancel_futures=True)


class PocketsphinxSTT(STT):
    """Offline STT. ``grammar``: a JSGF grammar string; ``keyphrase``: keyword spotting."""

    provider = "pocketsphinx"
    sample_rate_hz = 16000

    def __init__(
        self,
        *,
        grammar: str | None = None,
        keyphrase: str | None = None,
        interim_every_ms: int = 300,
        conn: ConnOptions = DEFAULT_CONN,
    ) -> None:
        super().__init__(conn=conn)
        try:
            import pocketsphinx  # noqa: F401
        except ImportError as exc:
            raise ConfigError("pocketsphinx is not installed: pip install 'voicecore[agent]'") from exc
        if grammar is not None and keyphrase is not None:
            raise ConfigError("pocketsphinx: pass grammar or keyphrase, not both")
        self.grammar = grammar
        self.keyphrase = keyphrase
        self.interim_every_frames = max(1, interim_every_ms // 10)

    def make_decoder(self) -> Any:
        from pocketsphinx import Decoder

        try:
            decoder = Decoder(samprate=self.sample_rate_hz, loglevel="FATAL")
            if self.grammar is not None:
                decoder.add_jsgf_string("grammar", self.grammar)
                decoder.activate_search("grammar")
            elif self.keyphrase is not None:
                decoder.add_keyphrase("kws", self.keyphrase)
                decoder.activate_search("kws")
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"pocketsphinx could not load the model/grammar: {exc}") from exc
        return decoder

    def stream(self) -> STTStream:
        return _PsStream(self)
