"""SpeechDetector: the speech start/end state machine that agent code drives frame by frame.

Typical use (one detector per incoming audio stream)::

    detector = voicecore.SpeechDetector(vad="cascade", min_silence_ms=500)
    for frame in incoming_frames:                      # any length, any supported rate
        for event in detector.push(frame.samples, frame.sample_rate_hz):
            if isinstance(event, voicecore.SpeechStarted):
                ...                                     # user started talking (barge-in, STT start)
            elif isinstance(event, voicecore.SpeechEnded):
                stt.transcribe(event.audio, event.sample_rate_hz)
    detector.flush()                                    # at end of stream: closes an open segment

Everything is synchronous and pure (no event loop, no threads, no clock): time is the stream time
implied by the samples pushed so far, so results are deterministic and replayable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from voicecore.dsp.vad import FrameVad
from voicecore.errors import AudioFormatError, ConfigError
from voicecore.vad.silero import MODEL_PACKAGE, SileroVad

VadMode = Literal["frame", "silero", "cascade"]


class _Resampler(Protocol):
    def process(self, samples: NDArray[np.float32]) -> NDArray[np.float32]: ...

ANALYSIS_RATE_HZ = 16000
HOP = 160  # 10 ms at the analysis rate
SILERO_CHUNK = 512
# Default release threshold per VAD (see SpeechDetector). Silero sits near 1 through speech and
# takes ~100 ms to fall below 0.5 after it, so its fall is seen from 0.9; FrameVad dips inside
# words, so a release above the activation threshold would split utterances.
HELD_CAP = 0.85
RELEASE_THRESHOLD: dict[str, float] = {"frame": 0.0, "silero": 0.9, "cascade": 0.9}
MIN_INPUT_RATE_HZ = 8000
MAX_INPUT_RATE_HZ = 192000


@dataclass(frozen=True)
class SpeechStarted:
    """The user started speaking.

    Attributes:
        start_s: stream time (s) of the first speech frame (the onset, not the decision time).
        detected_s: stream time (s) at which the detector decided (``start_s + min_speech_ms`` or later).
        audio: float32 mono audio at ``sample_rate_hz`` from ``start_s - prefix_padding_ms`` up to
            ``detected_s`` (the speech so far, for streaming STT).
        sample_rate_hz: rate of ``audio`` (always the detector's analysis rate, 16000).
        inference_s: CPU time spent in VAD inference since the previous event (or the start).
    """

    start_s: float
    detected_s: float
    audio: NDArray[np.float32] = field(repr=False)
    sample_rate_hz: int
    inference_s: float


@dataclass(frozen=True)
class SpeechEnded:
    """The user stopped speaking (``min_silence_ms`` of silence, or :meth:`SpeechDetector.flush`).

    Attributes:
        start_s: stream time (s) of the segment's first speech frame.
        end_s: stream time (s) of the end of the last speech frame (where the silence began).
        detected_s: stream time (s) at which the detector decided (about ``end_s + min_silence_ms``).
        audio: float32 mono audio at ``sample_rate_hz`` from ``start_s - prefix_padding_ms`` to ``end_s``.
        sample_rate_hz: rate of ``audio`` (16000).
        inference_s: CPU time spent in VAD inference from the SpeechStarted to this event.
        truncated: True if the segment outgrew ``max_buffered_speech_s`` and ``audio`` holds only its
            first ``max_buffered_speech_s`` seconds.
    """

    start_s: float
    end_s: float
    detected_s: float
    audio: NDArray[np.float32] = field(repr=False)
    sample_rate_hz: int
    inference_s: float
    truncated: bool = False


SpeechEvent = SpeechStarted | SpeechEnded


class StreamingVad:
    """Per-10 ms speech probability at 16 kHz for the three modes (the engine of SpeechDetector).

    ``"frame"``: FrameVad only. ``"silero"``: Silero on every 32 ms chunk; each hop reports the latest
    chunk's probability. ``"cascade"``: FrameVad runs on every hop and decides when Silero is needed.
    A hop is settled without Silero when FrameVad is confident (probability below ``gate_threshold``:
    clear silence, or at least ``confident_threshold``: clear speech), or when Silero's latest answer
    said speech (at least ``hold_threshold``) no more than ``hold_ms`` ago and FrameVad still leans to
    speech (at least ``hold_floor``): inside an utterance Silero has already spoken, so it need not run
    again until FrameVad sees a possible end or the answer grows stale (in babble FrameVad leans to
    speech in the pauses too, so only Silero can end the utterance). A confident-silence hop clears
    the held answer. Otherwise the gate
    opens: Silero catches up on the audio since it last ran (at most ``warmup_ms``, its recurrent state
    kept: after a closed gate it restarts from where it left off, which costs far less than a cold
    restart with a long replay and is as accurate here), and it keeps running while hops need it and
    for ``gate_hangover_ms`` after. Uncertain hops report Silero's probability, confident hops
    FrameVad's, held hops the larger of the two.

    Not thread-safe; one per stream. ``inference_s`` accumulates the CPU time (``time.process_time``) of
    both models and of this class's own per-hop work.
    """

    def __init__(
        self,
        mode: VadMode = "cascade",
        *,
        gate_threshold: float = 0.2,
        confident_threshold: float = 0.97,
        hold_threshold: float = 0.7,
        hold_floor: float = 0.3,
        hold_ms: int = 400,
        gate_hangover_ms: int = 50,
        warmup_ms: int = 64,
        model_package: str = MODEL_PACKAGE,
        clock: Callable[[], float] = time.process_time,
    ) -> None:
        if mode not in ("frame", "silero", "cascade"):
            raise ConfigError(f"vad mode must be 'frame', 'silero' or 'cascade', got {mode!r}")
        if not 0.0 <= gate_threshold <= confident_threshold:
            raise ConfigError(
                f"need 0 <= gate_threshold <= confident_threshold, got {gate_threshold!r} and "
                f"{confident_threshold!r}"
            )
        if not 0.0 <= hold_floor <= 1.0 or not 0.0 <= hold_threshold <= 1.0:
            raise ConfigError(
                f"hold_threshold and hold_floor must be in [0, 1] (1 disables holding), got "
                f"{hold_threshold!r} and {hold_floor!r}"
            )
        if min(hold_ms, gate_hangover_ms, warmup_ms) < 0:
            raise ConfigError(
                f"hold_ms, gate_hangover_ms and warmup_ms must be >= 0, got {hold_ms!r}, "
                f"{gate_hangover_ms!r} and {warmup_ms!r}"
            )
        self.mode: VadMode = mode
        self._frame = FrameVad(ANALYSIS_RATE_HZ, 10) if mode != "silero" else None
        self._silero = SileroVad(ANALYSIS_RATE_HZ, package=model_package) if mode != "frame" else None
        self._gate_threshold = gate_threshold
        self._confident = confident_threshold
        self._hold_threshold = hold_threshold
        self._hold_floor = hold_floor
        self._hold = hold_ms * ANALYSIS_RATE_HZ // 1000
        self._hangover = gate_hangover_ms * ANALYSIS_RATE_HZ // 1000
        warmup = (warmup_ms * ANALYSIS_RATE_HZ // 1000) // SILERO_CHUNK * SILERO_CHUNK
        self._warmup = max(SILERO_CHUNK, warmup)
        self._clock = clock
        # Ring of recent audio (whole hops, written in place) that Silero reads its chunks from,
        # plus one chunk of slack so a chunk that wraps round is copied into a fixed buffer.
        self._history = np.zeros(-(-(self._warmup + SILERO_CHUNK + HOP) // HOP) * HOP, np.float32)
        self._wrap = np.zeros(SILERO_CHUNK, np.float32)
        self.reset()

    @classmethod
    def economy(cls, *, model_package: str = MODEL_PACKAGE) -> StreamingVad:
        """A cascade that runs Silero less than the default, for quiet rooms: wider confident bands
        (below 0.3 silence, from 0.9 speech), held speech from Silero >= 0.6 for up to 600 ms.
        Measured on half-silence scenes (bench/eval_vad.py): 0.23x Silero's CPU in white noise and
        0.35x in clean audio within 0.022 F1 of Silero, but it loses up to 0.07-0.21 F1 in babble,
        dishes and bike noise, where FrameVad's confident speech is wrong more often."""
        return cls(
            "cascade",
            gate_threshold=0.3,
            confident_threshold=0.9,
            hold_threshold=0.6,
            hold_floor=0.25,
            hold_ms=600,
            gate_hangover_ms=30,
            warmup_ms=64,
            model_package=model_package,
        )

    def reset(self) -> None:
        if self._frame is not None:
            self._frame.reset()
        if self._silero is not None:
            self._silero.reset()
        self._history[:] = 0.0
        self._pos = 0  # samples seen
        self._silero_pos = 0  # next Silero chunk start (absolute sample index)
        self._silero_prob = 0.0
        self._held = 0.0  # Silero's latest answer, cleared by a confident-silence hop
        self._gate_until = -1  # absolute sample index; gate open while pos <= this
        self._gate_open = self.mode == "silero"
        self.frame_probability = 0.0
        self.silero_chunks = 0
        self.inference_s = 0.0

    @property
    def gate_open(self) -> bool:
        return self._gate_open

    def process_hop(self, hop: NDArray[np.float32]) -> float:
        """Consume 160 samples (10 ms at 16 kHz); return the current speech probability."""
        t0 = self._clock()
        prob = self._hop(hop)
        self.inference_s += self._clock() - t0
        return prob

    def process_hops(self, hops: NDArray[np.float32]) -> NDArray[np.float64]:
        """Consume ``hops`` of shape ``(n, 160)`` (n consecutive 10 ms hops); return their n
        probabilities. Same results as n :meth:`process_hop` calls, with the CPU clock read once
        per call instead of twice per hop (a clock read costs about 1 us, a few % of a hop)."""
        t0 = self._clock()
        out = np.empty(len(hops))
        hop_fn = self._hop
        for i in range(len(hops)):
            out[i] = hop_fn(hops[i])
        self.inference_s += self._clock() - t0
        return out

    def _hop(self, hop: NDArray[np.float32]) -> float:
        w = self._pos % len(self._history)
        self._history[w : w + HOP] = hop
        self._pos += HOP
        if self.mode == "silero":
            self._run_silero()
            return self._silero_prob
        assert self._frame is not None
        fp = self._frame.process(hop)
        self.frame_probability = fp
        if self.mode == "frame":
            return fp
        if fp < self._gate_threshold:
            need = False
            self._held = 0.0
        elif fp >= self._confident:
            need = False
        else:
            need = not (
                self._held >= self._hold_threshold
                and fp >= self._hold_floor
                and self._pos - self._silero_pos <= self._hold
            )
        if need:
            self._gate_until = self._pos + self._hangover
            if not self._gate_open:
                self._open_gate()
        elif self._gate_open and self._pos > self._gate_until:
            self._gate_open = False
        if self._gate_open:
            self._run_silero()
            self._held = self._silero_prob
        if need:
            prob = self._silero_prob
        elif self._gate_threshold <= fp < self._confident:
            # Held speech: at least the activation level, but below the release threshold
            # (HELD_CAP), so SpeechDetector's silence countdown can start in the held tail of an
            # utterance instead of at the next Silero run.
            prob = max(fp, min(self._held, HELD_CAP))
        else:
            prob = fp
        return prob

    def _run_silero(self) -> None:
        silero = self._silero
        assert silero is not None
        while self._silero_pos + SILERO_CHUNK <= self._pos:
            self._silero_prob = silero.process_unchecked(self._chunk_at(self._silero_pos))
            self._silero_pos += SILERO_CHUNK
            self.silero_chunks += 1

    def _chunk_at(self, pos: int) -> NDArray[np.float32]:
        size = len(self._history)
        start = pos % size
        if start + SILERO_CHUNK <= size:
            return self._history[start : start + SILERO_CHUNK]
        head = size - start
        self._wrap[:head] = self._history[start:]
        self._wrap[head:] = self._history[: SILERO_CHUNK - head]
        return self._wrap

    def _open_gate(self) -> None:
        assert self._silero is not None
        earliest = max(0, self._pos - self._warmup)
        if self._silero_pos < earliest:
            # Silero skipped audio while the gate was closed. Its recurrent state is kept (it
            # summarises the stream up to where it stopped) and it resumes on the last warm-up
            # chunks, with their true preceding samples as its context.
            self._silero_pos = earliest
            ctx = self._silero.context_size
            if self._silero_pos >= ctx:
                self._silero.set_context(self._samples_before(self._silero_pos, ctx))
        self._gate_open = True

    def _samples_before(self, pos: int, count: int) -> NDArray[np.float32]:
        size = len(self._history)
        idx = np.arange(pos - count, pos) % size
        return self._history[idx]


class SpeechDetector:
    """Turns a stream of audio frames into SpeechStarted / SpeechEnded events.

    Push audio of any length at any integer rate from 8 to 192 kHz with :meth:`push`; it is resampled
    to 16 kHz (``voicecore.Resampler``, quality "high": its ~4 ms latency delays the analysis, not the
    timestamps' scale), cut into 10 ms hops, scored by the chosen VAD, and run through a hysteresis
    state machine:

    * not speaking -> speaking when the probability stays >= ``activation_threshold`` for
      ``min_speech_ms`` (a hop below ``deactivation_threshold`` restarts the count);
    * speaking -> not speaking when it stays < ``release_threshold`` for ``min_silence_ms`` and is
      then < ``deactivation_threshold``. The silence, and ``SpeechEnded.end_s``, start where the
      probability fell below ``release_threshold``: its fall from there to
      ``deactivation_threshold`` is the model's decay after the speech (50-100 ms for Silero), not
      speech. A probability hovering between the thresholds never ends a segment by itself.

    Args:
        vad: ``"frame"`` (FrameVad only: cheapest), ``"silero"`` (Silero every 32 ms: most accurate,
            about 150 us per chunk), or ``"cascade"`` (default: FrameVad settles the hops it is
            sure of and Silero runs only where it is not; on half-silence audio 0.3x Silero's CPU
            in white noise, 0.5-0.7x in babble, dishes and bike noise, at Silero's F1 within 0.02
            except in loud babble), or a configured :class:`StreamingVad` such as
            ``StreamingVad.economy()`` (cheaper cascade for quiet rooms).
        activation_threshold: probability at or above which a hop counts as speech.
        deactivation_threshold: probability below which a hop counts as silence (<= activation).
        release_threshold: the silence countdown starts where the probability fell below this
            (>= activation). Default: 0.9 for ``"silero"`` and ``"cascade"`` (Silero's output starts
            falling from ~1 as soon as speech stops), ``activation_threshold`` for ``"frame"``.
        min_speech_ms: speech needed before SpeechStarted (filters clicks).
        min_silence_ms: silence needed before SpeechEnded (bridges pauses inside a sentence).
        prefix_padding_ms: audio kept before the onset and included in the events' ``audio``.
        max_buffered_speech_s: cap on a segment's buffered audio (the rest is dropped, ``truncated``).
        model_package: package holding Silero's ONNX file (see :class:`SileroVad`).

    Raises:
        ConfigError: bad parameter, or Silero requested but onnxruntime / the model is missing.
    """

    def __init__(
        self,
        vad: VadMode | StreamingVad = "cascade",
        *,
        activation_threshold: float = 0.5,
        deactivation_threshold: float = 0.35,
        release_threshold: float | None = None,
        min_speech_ms: int = 50,
        min_silence_ms: int = 500,
        prefix_padding_ms: int = 300,
        max_buffered_speech_s: float = 60.0,
        model_package: str = MODEL_PACKAGE,
    ) -> None:
        if not 0.0 < activation_threshold <= 1.0:
            raise ConfigError(f"activation_threshold must be in (0, 1], got {activation_threshold!r}")
        if not 0.0 <= deactivation_threshold <= activation_threshold:
            raise ConfigError(
                f"deactivation_threshold must be in [0, activation_threshold={activation_threshold}], "
                f"got {deactivation_threshold!r}"
            )
        for name, value in (
            ("min_speech_ms", min_speech_ms),
            ("min_silence_ms", min_silence_ms),
            ("prefix_padding_ms", prefix_padding_ms),
        ):
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value!r}")
        if not max_buffered_speech_s > 0:
            raise ConfigError(f"max_buffered_speech_s must be > 0, got {max_buffered_speech_s!r}")
        self._vad = vad if isinstance(vad, StreamingVad) else StreamingVad(vad, model_package=model_package)
        self.activation_threshold = activation_threshold
        self.deactivation_threshold = deactivation_threshold
        if release_threshold is None:
            release_threshold = max(activation_threshold, RELEASE_THRESHOLD[self._vad.mode])
        if not activation_threshold <= release_threshold <= 1.0:
            raise ConfigError(
                f"release_threshold must be in [activation_threshold={activation_threshold}, 1], "
                f"got {release_threshold!r}"
            )
        self.release_threshold = release_threshold
        self._min_speech_hops = max(1, -(-min_speech_ms // 10))
        self._min_silence_hops = max(1, -(-min_silence_ms // 10))
        self._prefix = prefix_padding_ms * ANALYSIS_RATE_HZ // 1000
        self._max_samples = int(max_buffered_speech_s * ANALYSIS_RATE_HZ)
        # Ring of recent audio for the prefix padding and the not-yet-confirmed onset.
        # (an onset can precede the decision by more than min_speech_ms when the probability
        # hovers between the two thresholds; onsets older than this ring are clipped to it).
        # A ring of whole hops (written in place, never shifted).
        self._recent_len = (-(-self._prefix // HOP) + self._min_speech_hops + 100) * HOP
        self._resampler: _Resampler | None = None
        self.reset()

    # ------------------------------------------------------------------ state
    @property
    def vad_mode(self) -> VadMode:
        return self._vad.mode

    @property
    def speaking(self) -> bool:
        """True between a SpeechStarted and its SpeechEnded."""
        return self._speaking

    @property
    def probability(self) -> float:
        """Speech probability of the latest 10 ms hop."""
        return self._prob

    @property
    def probabilities(self) -> NDArray[np.float64]:
        """Speech probabilities of the 10 ms hops analysed by the latest :meth:`push` (often 0, 1
        or 2 hops; for plots and evaluation)."""
        return self._probs

    @property
    def stream_time_s(self) -> float:
        """Stream time (s) of the audio analysed so far (at 16 kHz)."""
        return self._pos / ANALYSIS_RATE_HZ

    @property
    def inference_s(self) -> float:
        """Total CPU time (s) spent in VAD inference since construction or :meth:`reset`."""
        return self._vad.inference_s

    @property
    def silero_chunks(self) -> int:
        """Silero inferences run so far (0 in ``"frame"`` mode; few in silence in ``"cascade"``)."""
        return self._vad.silero_chunks

    def reset(self) -> None:
        """Forget everything (VAD state, buffered audio, stream time); keep the configuration."""
        self._vad.reset()
        self._rate: int | None = None
        self._resampler = None
        self._pending = np.zeros(0, np.float32)
        self._recent = np.zeros(self._recent_len, np.float32)
        self._pos = 0
        self._prob = 0.0
        self._probs: NDArray[np.float64] = np.zeros(0)
        self._speaking = False
        self._run = 0  # consecutive speech hops (not speaking) or silence hops (speaking)
        self._onset_pos = 0
        self._last_speech_end = 0
        self._segment: list[NDArray[np.float32]] = []
        self._segment_len = 0
        self._truncated = False
        self._inference_mark = 0.0
        self._start_first = 0

    # ------------------------------------------------------------------ input
    def _check(self, samples: NDArray[np.float32] | NDArray[np.int16], sample_rate_hz: int) -> None:
        if not isinstance(samples, np.ndarray):
            raise AudioFormatError(f"samples must be a numpy float32 array, got {type(samples).__name__}")
        if samples.dtype != np.float32 and samples.dtype != np.int16:
            raise AudioFormatError(
                f"samples must be float32 in [-1, 1] (or int16 PCM), got {samples.dtype}; convert with "
                "x.astype(np.float32)"
            )
        if samples.ndim != 1:
            raise AudioFormatError(
                f"samples must be 1-D mono, got shape {samples.shape}; downmix first (x.mean(axis=1))"
            )
        if (
            not isinstance(sample_rate_hz, int)
            or not MIN_INPUT_RATE_HZ <= sample_rate_hz <= MAX_INPUT_RATE_HZ
        ):
            raise ConfigError(
                f"sample_rate_hz {sample_rate_hz!r} is not supported; use an integer rate from "
                f"{MIN_INPUT_RATE_HZ} to {MAX_INPUT_RATE_HZ} Hz"
            )
        if self._rate is not None and sample_rate_hz != self._rate:
            raise AudioFormatError(
                f"sample rate changed mid-stream from {self._rate} to {sample_rate_hz} Hz; "
                "call reset() before switching rates"
            )
        if not np.isfinite(samples).all():
            raise AudioFormatError("samples contain NaN or Inf; clean the audio (np.nan_to_num) first")

    def _to_analysis_rate(self, samples: NDArray[np.float32], sample_rate_hz: int) -> NDArray[np.float32]:
        if sample_rate_hz == ANALYSIS_RATE_HZ:
            return samples
        if self._resampler is None:
            import voicecore

            resampler_cls = getattr(voicecore, "Resampler", None)
            if resampler_cls is None:
                raise ConfigError(
                    f"input at {sample_rate_hz} Hz needs voicecore.Resampler, which this build lacks; "
                    "push 16000 Hz audio"
                )
            self._resampler = resampler_cls(sample_rate_hz, ANALYSIS_RATE_HZ, num_channels=1, quality="high")
        out = self._resampler.process(samples)
        return np.asarray(out, np.float32).reshape(-1)

    def push(
        self, samples: NDArray[np.float32] | NDArray[np.int16], sample_rate_hz: int = ANALYSIS_RATE_HZ
    ) -> list[SpeechEvent]:
        """Feed the next audio of the stream; return the events it completed (often none).

        Args:
            samples: 1-D mono samples, float32 in [-1, 1] or int16 PCM (scaled by 1/32768), any
                length (including 0). Downmix stereo first (e.g. aiortc's 48 kHz s16 stereo frames:
                ``x.reshape(-1, 2).mean(axis=1)``).
            sample_rate_hz: their rate; fixed by the first push until :meth:`reset`.

        Raises:
            AudioFormatError: wrong dtype/shape, NaN/Inf, or a rate change mid-stream.
            ConfigError: unsupported rate.
        """
        self._check(samples, sample_rate_hz)
        self._rate = sample_rate_hz
        f32: NDArray[np.float32] = (
            samples.astype(np.float32) * np.float32(1.0 / 32768.0)
            if samples.dtype == np.int16
            else np.asarray(samples, np.float32)
        )
        audio = self._to_analysis_rate(f32, sample_rate_hz)
        if len(self._pending):
            audio = np.concatenate([self._pending, audio])
        n_hops = len(audio) // HOP
        events: list[SpeechEvent] = []
        hops = np.ascontiguousarray(audio[: n_hops * HOP]).reshape(n_hops, HOP)
        probs = self._vad.process_hops(hops)
        self._probs = probs
        step = self._step
        for i in range(n_hops):
            ev = step(hops[i], float(probs[i]))
            if ev is not None:
                events.append(ev)
        self._pending = audio[n_hops * HOP :].copy()
        return events

    def flush(self) -> list[SpeechEvent]:
        """End of stream: close an open speech segment (SpeechEnded at the current time).

        Samples short of a whole 10 ms hop are dropped. The detector stays usable afterwards.
        """
        self._pending = np.zeros(0, np.float32)
        if not self._speaking:
            return []
        end = self._pos if self._run == 0 else self._last_speech_end
        return [self._end(end)]

    # ------------------------------------------------------------------ state machine
    def _step(self, hop: NDArray[np.float32], p: float) -> SpeechEvent | None:
        self._prob = p
        w = self._pos % self._recent_len
        self._recent[w : w + HOP] = hop
        self._pos += HOP
        if self._speaking:
            self._append_segment(hop)
            if p >= self.release_threshold:
                self._run = 0
                return None
            # The silence is counted from where the probability fell below the release threshold,
            # not from where it reached the deactivation threshold: the model's output decays over
            # 50-100 ms after speech stops, and that decay is already silence. The decision still
            # waits for a hop below deactivation_threshold, so a probability hovering between the
            # thresholds never ends a segment by itself.
            if self._run == 0:
                self._last_speech_end = self._pos - HOP
            self._run += 1
            if self._run >= self._min_silence_hops and p < self.deactivation_threshold:
                return self._end(self._last_speech_end)
            return None
        if p >= self.activation_threshold:
            if self._run == 0:
                self._onset_pos = self._pos - HOP
            self._run += 1
            if self._run >= self._min_speech_hops:
                return self._start()
        elif p < self.deactivation_threshold:
            self._run = 0
        return None

    def _append_segment(self, chunk: NDArray[np.float32]) -> None:
        room = self._max_samples - self._segment_len
        if room <= 0:
            self._truncated = True
            return
        if len(chunk) > room:
            chunk = chunk[:room]
            self._truncated = True
        self._segment.append(chunk.copy())
        self._segment_len += len(chunk)

    def _start(self) -> SpeechStarted:
        self._speaking = True
        self._run = 0
        first = max(0, self._onset_pos - self._prefix, self._pos - len(self._recent))
        back = self._pos - first  # samples to take from the recent ring
        self._segment = []
        self._segment_len = 0
        self._truncated = False
        start = (self._pos - back) % self._recent_len
        if start + back <= self._recent_len:
            self._append_segment(self._recent[start : start + back])
        else:
            wrap = start + back - self._recent_len
            self._append_segment(np.concatenate([self._recent[start:], self._recent[:wrap]]))
        now = self._vad.inference_s
        ev = SpeechStarted(
            start_s=self._onset_pos / ANALYSIS_RATE_HZ,
            detected_s=self._pos / ANALYSIS_RATE_HZ,
            audio=np.concatenate(self._segment),
            sample_rate_hz=ANALYSIS_RATE_HZ,
            inference_s=now - self._inference_mark,
        )
        self._inference_mark = now
        self._start_first = first
        return ev

    def _end(self, end_pos: int) -> SpeechEnded:
        audio = np.concatenate(self._segment) if self._segment else np.zeros(0, np.float32)
        keep = max(0, min(len(audio), end_pos - self._start_first))
        now = self._vad.inference_s
        ev = SpeechEnded(
            start_s=self._onset_pos / ANALYSIS_RATE_HZ,
            end_s=end_pos / ANALYSIS_RATE_HZ,
            detected_s=self._pos / ANALYSIS_RATE_HZ,
            audio=audio[:keep],
            sample_rate_hz=ANALYSIS_RATE_HZ,
            inference_s=now - self._inference_mark,
            truncated=self._truncated,
        )
        self._inference_mark = now
        self._speaking = False
        self._run = 0
        self._segment = []
        self._segment_len = 0
        return ev
