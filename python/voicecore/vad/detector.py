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

from voicecore import _core
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
# takes ~100 ms to fall below 0.5 after it, so its fall is seen from 0.9. FrameVad's temporal
# features decay over 100-200 ms after speech; from 0.8 its median offset at 10 dB drops from
# 525-740 ms to 445-535 ms (generated scenes, seeds 9600/9700) with fewer merged utterances, at
# the cost of a few more split ones in bike noise (false starts 1-3 -> 2-5 per scene).
RELEASE_THRESHOLD: dict[str, float] = {"frame": 0.8, "silero": 0.9, "cascade": 0.9}
HELD_CAP = 0.85
MIN_INPUT_RATE_HZ = 8000
MAX_INPUT_RATE_HZ = 192000
# Float samples at or beyond this magnitude are not audio in any scale (int16-scaled float peaks at
# 32768); the echo canceller and the resampler reject them too, so a push is refused whatever its rate.
MAX_FLOAT_SAMPLE = 65536.0


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


def _whole_chunks(ms: int) -> int:
    """A replay of ``ms`` at the analysis rate, in whole Silero chunks (at least one)."""
    return max(SILERO_CHUNK, ms * ANALYSIS_RATE_HZ // 1000 // SILERO_CHUNK * SILERO_CHUNK)


class StreamingVad:
    """Per-10 ms speech probability at 16 kHz for the three modes (the engine of SpeechDetector).

    ``"frame"``: FrameVad only. ``"silero"``: Silero on every 32 ms chunk; each hop reports the latest
    chunk's probability. ``"cascade"``: FrameVad scores every hop and Silero runs only where its
    answer could differ from the one it last gave. Silero's latest answer (its *verdict*) stands,
    without running Silero, while:

    * FrameVad is sure of speech (probability at least ``confident_threshold``); Silero still runs
      one chunk every ``refresh_ms`` there, so its recurrent state follows the utterance;
    * the verdict is speech (at least ``hold_threshold``), at most ``hold_ms`` old, and FrameVad still
      leans to speech (at least ``hold_floor``; at low SNR also its ~300 ms level at least
      ``hold_level``, see below);
    * the verdict is non-speech (below ``reject_threshold``), at most ``recheck_ms`` old, and
      FrameVad has not risen: its smoothed probability is at most ``rise`` above its level where
      Silero last rejected the audio (a *relative* rise: steady babble, dishes or bike noise that
      Silero already rejected does not call it again, however speech-like FrameVad finds it);
    * or FrameVad is sure of silence (below ``gate_threshold``) and the verdict is not speech.

    Otherwise Silero runs on every chunk. In particular, after a speech verdict it keeps running
    until it rejects the audio (it *drains*): Silero's recurrent state only leaves speech when it
    sees the fall continuously; resumed in a pause with a stale speech state it can stay at speech
    through babble for seconds. When Silero resumes after skipped audio it replays the last
    ``warmup_ms`` (its recurrent state kept: a zeroed state misjudges the first chunks far more
    often) with their true preceding samples as context, and the gate stays open for
    ``gate_hangover_ms`` after the last hop that needed it. Hops where Silero runs or a non-speech
    verdict stands report Silero's probability, except that hops FrameVad is sure of (confident
    speech or silence, also while Silero drains) report FrameVad's; held speech reports the larger
    of FrameVad's and the verdict (capped at HELD_CAP, below the release threshold). While Silero
    drains after a clear utterance (FrameVad's ~300 ms level peaked at ``fresh_peak`` or above),
    hops FrameVad scores below ``drain_quiet`` report FrameVad's too: Silero's stale speech state
    otherwise reported speech in the first ~500 ms of bike and dishes pauses at 5-10 dB (generated
    dev scenes, seeds 94xx-98xx: mean cascade-minus-Silero F1 on the 40 regular bike/dishes scenes
    -0.0043 -> -0.0030, on the 40 white/babble ones +0.0073 -> +0.0088, on the 68 half-silence ones
    +0.0070 -> +0.0083, at the same Silero share). Without the peak condition it cost up to 0.017
    F1 at 0 dB, where FrameVad dips inside the speech.

    Likewise, while a speech verdict is held after a clear utterance (FrameVad's ~300 ms level
    peaked at ``held_quiet_peak`` or above), hops FrameVad scores below ``held_quiet`` report
    FrameVad's rather than the held verdict: the verdict, up to ``hold_ms`` old, reported speech
    60-260 ms into bike and dishes pauses where Silero run throughout had already let go. Only the
    report changes (Silero runs the same chunks). On the dev scenes (seeds 94xx-98xx, 148 scenes)
    the mean cascade-minus-Silero F1 went +0.0105 -> +0.0121, the mean of the 10 worst -0.0186 ->
    -0.0168, scenes below -0.02 from 3 to 1; on the shared bike mixes at 5 and 10 dB -0.021 ->
    -0.018 and -0.021 -> -0.019. With the drain's settings (0.5, peak 0.93) it cost up to 0.03 F1
    on 0 dB dishes scenes; ``held_quiet=0`` restores the always-answering hold.

    *Fresh drains*: in babble Silero rejects the pause after an utterance only if it heard the
    whole utterance; run sparsely through it, it keeps a speech state in the following babble for
    seconds, even when run on every chunk of the pause. From a zero state it rejects babble as it
    does at a stream start. So when Silero resumes to drain a stale speech verdict after an
    utterance (FrameVad's ~300 ms level peaked at ``fresh_peak`` or above since Silero last rejected
    the audio and has fallen below ``fresh_level``), its recurrent state is cleared, it replays
    ``drain_warmup_ms``, and for ``fresh_probation_chunks`` chunks it runs while FrameVad answers (a
    zero state needs 4-8 chunks to recognise an utterance already under way). ``fresh_drain=False``
    keeps the state instead. On the generated dev scenes (seeds 94xx-98xx, 128 scenes) this took the
    worst half-silence babble loss from -0.19 to -0.07 F1 at the same Silero share; the peak
    condition (0.93; 0.85 cost up to 0.05 F1 on regular 0 dB white and dishes scenes) keeps it away
    from low-SNR utterances, where FrameVad's level dips inside the speech.

    *Contested rejections*: a Silero rejection while FrameVad's ~20 ms level is at least
    ``contested_level`` (0.85: FrameVad leans to speech) is not held as silence. Held, a single chunk
    of the sparsely run Silero, whose state may have drifted from the utterance, reported silence
    for up to ``recheck_ms`` of what FrameVad scored as speech. Instead, on hops FrameVad is not sure
    of, Silero runs on every chunk until it stops rejecting or FrameVad is sure of silence, and those
    hops report the larger of the two probabilities. On 80 regular mixes from fresh seed bases
    12000-16000 (Silero's chunk grid at 4 phases) the mean cascade-minus-Silero F1 went +0.0105 ->
    +0.0120 at phase 0 (+0.0112 -> +0.0123 averaged over phases), scenes below -0.02 5 -> 4 (4 -> 3),
    the worst -0.054 -> -0.040 (-0.052 -> -0.027); on the dev scenes (seeds 94xx-98xx, 165) 2 -> 1
    (2 -> 2), on the shared mixes 0 -> 0 (1 -> 1, -0.025 -> -0.020), on 48 mixes of seed bases
    17000-19000 that no tuning saw 1 -> 1 (0 -> 0), at 23.9 % -> 24.1 % of Silero's chunks on the dev
    half-silence scenes. Running Silero on every chunk also while FrameVad is sure of speech did
    worse (shared bike at 0 dB -0.005 -> -0.038: the extra chunks moved Silero's state, which then
    stayed between 0.15 and 0.5 through seconds of speech). ``contested_level=None`` holds such a
    rejection like any other.

    The level was 0.97 at first; at 0.85 Silero also runs through rejections where FrameVad only
    leans to speech, and its drifted state catches up with the audio (at 0 dB a rejection held after
    a 64 ms replay stood at 0.05-0.13 through 1.7 s of speech that Silero run throughout scored
    0.8-0.97). Such a contest reports Silero's probability; only once FrameVad's level reached
    ``contested_report_level`` (0.97) during it do its hops report the larger of the two (at 0.9 with
    the larger everywhere, FrameVad's lean to speech in 0 dB bike and 20 dB babble pauses put two dev
    half-silence scenes below -0.02 at phase 0, one phase-averaged). Phase-averaged over 4 chunk alignments
    (``bench/cascade_sweep.py``), contested_level 0.97 -> 0.85, scenes below -0.02 (at phase 0 in
    brackets), mean, worst: dev (165) 0 (0) -> 0 (0), +0.0151 -> +0.0141, -0.019 -> -0.019; fresh
    seeds 12000-16000 (80) 2 (3) -> 0 (2), +0.0112 -> +0.0119, -0.029 -> -0.019; confirmation seeds
    17000-19000 (48) 0 (2) -> 1 (2), +0.0158 -> +0.0152, -0.019 -> -0.021; seeds 21000-23000 (48) 1
    (1) -> 0 (0), +0.0125 -> +0.0121, -0.025 -> -0.016; shared (16) 0 (0) -> 0 (0), +0.0013 ->
    +0.0027, -0.014 -> -0.015; Silero's share on the dev half-silence scenes 27.8 % -> 28.2 %. The
    dev mean fell on 0 dB half-silence bike and dishes scenes where the cascade was far above Silero
    (one +0.077 -> +0.024). Not monotonic in the level: 0.9 and 0.93 put a 0 dB dishes scene of seed
    23000 at -0.095 / -0.088 (from -0.025), 0.8 did as 0.85 on dev and fresh.

    *Contest restarts*: the first rejection of a contest while FrameVad is sure of speech (its ~20 ms
    level at least ``contested_report_level``) restarts Silero from a zero state over the last
    ``contest_restart_ms`` (192 ms), and for ``fresh_probation_chunks`` chunks it runs while
    FrameVad answers. Such a rejection means Silero's state drifted from the speech while it ran
    sparsely; run even on every chunk from there, it stayed at 0.1-0.5 through 2 s of 0 dB dishes
    speech that Silero run throughout scored 0.7-0.99. Phase-averaged over 4 chunk alignments,
    without -> with, scenes below -0.02 (at phase 0), mean, worst: dev 0 (0) -> 0 (1), +0.0141 ->
    +0.0154, -0.019 -> -0.019; fresh 0 (2) -> 1 (2), +0.0119 -> +0.0123, -0.019 -> -0.022;
    confirmation 1 (2) -> 0 (1), +0.0152 -> +0.0156, -0.021 -> -0.011; seeds 21000-23000 0 (0) -> 0
    (0), +0.0121 -> +0.0136, -0.016 -> -0.013; shared 0 (0) -> 0 (0), +0.0027 -> +0.0033, -0.015 ->
    -0.015; seeds 24000-26000 (48, looked at once before and once after) 1 (0) -> 0 (0), +0.0152 ->
    +0.0154, -0.031 -> -0.018; test seeds 9200-9209 (80, 0 and 10 dB) 0 -> 1, +0.0172 -> +0.0182,
    -0.019 -> -0.024 (0 dB bike of 9201). Dev half-silence Silero share 28.2 % -> 28.5 %. A 96 ms
    replay did worse (dev 1 (2), fresh 1 (2)), so did 192 ms without probation (dev 0 (1) at phase
    0 -0.053). ``contest_restart_ms=None`` disables.

    *Low-SNR drains*: a drain that keeps Silero's state (not a fresh drain) replays
    ``low_snr_warmup_ms`` (192 ms) instead of ``warmup_ms`` while FrameVad's estimate of the talker's
    peak level over the noise floor is below ``low_snr_db`` (15 dB; also before any talker has been
    heard). In loud noise the sparsely run Silero, resumed on 64 ms after an utterance, misread its
    end (a held verdict stood up to 400 ms into the pause of 10 dB bike, where FrameVad scores the
    noise 0.5-0.8 and cannot end the hold); the 192 ms it cost everywhere (0.46x Silero's CPU on
    half-silence audio) now goes only to noisy scenes. Same runs, phase-averaged over 4 chunk
    alignments (``bench/cascade_sweep.py``), without -> with: dev and fresh sets (245 scenes) mean
    +0.0130 -> +0.0138, below -0.02 5 -> 2, worst -0.030 -> -0.029; confirmation seeds 17000-19000
    and seeds 21000-23000 that no setting was chosen on (96) +0.0127 -> +0.0142, 1 -> 1, -0.032 ->
    -0.025; shared mixes +0.0029 -> +0.0013, 1 -> 0, -0.020 -> -0.014; half-silence CPU in
    bench/eval_vad.py 0.35x -> 0.37x (held-out seeds 9650..: 0.34x -> 0.37x). Not everywhere better:
    on the fresh set alone the mean fell +0.0123 -> +0.0112 (0 dB bike and 10 dB bike cleared, 0 dB
    dishes of seed 15000 newly -0.029), and at phase 0 the confirmation set has 2 below instead of 1.
    12 and 20 dB did about as well (3 below on dev and fresh), so did drain replays of 128 and 160 ms
    (2 below), but 128 ms put a confirmation scene and the shared 0 dB bike below: single scenes move
    by up to 0.04 with the replay length, so it is not tuned finer. The long replay on every low-SNR
    resume, not only drains, cleared dev and fresh but cost 0.40-0.41x, and on resumes after a
    rejection only it did worse (4 below). ``low_snr_db=None`` replays ``warmup_ms`` everywhere
    (and holds regardless of ``hold_level``).

    *Burst holds at low SNR*: where FrameVad's talker-over-noise estimate is below ``low_snr_db``, a
    speech verdict is held only while FrameVad's ~300 ms level is at least ``hold_level`` (0.5);
    otherwise Silero runs on as in a drain. At 0 dB a burst of noise that FrameVad scored high for
    50-100 ms resumed Silero, whose verdict on its first chunks (0.75-0.95 where Silero run
    throughout said 0.2) was then held for 400 ms of noise. Phase-averaged over 4 chunk alignments
    (``bench/cascade_sweep.py``), hold_level 0 -> 0.5, scenes below -0.02 (at phase 0), mean, worst:
    dev 0 (1) -> 0 (0), +0.0154 -> +0.0164, -0.019 -> -0.019; fresh 1 (2) -> 0 (2), +0.0123 ->
    +0.0136, -0.022 -> -0.018; confirmation 0 (1) -> 0 (1), +0.0156 -> +0.0182, -0.011 -> -0.010;
    seeds 21000-23000 0 (0) -> 0 (0), +0.0136 -> +0.0153, -0.013 -> -0.014; shared 0 (0) -> 0 (0),
    +0.0033 -> +0.0033, -0.015 -> -0.012; seeds 24000-26000 0 (0) -> 0 (0), +0.0154 -> +0.0155,
    -0.018 -> -0.020 (0 dB dishes of 25000, -0.0178 -> -0.0198); test seeds 9200-9215 0 -> 0, +0.0128
    -> +0.0132. Dev half-silence Silero share 28.5 % -> 28.9 % (babble 40.2 % -> 41.3 %). At every
    SNR (the level condition alone) the dev mean rose further (0.4 / 0.5 / 0.6 / 0.8: +0.0160 /
    +0.0168 / +0.0179 / +0.0194) at 29.0 / 29.6 / 30.8 / 36.6 % of the chunks, clean scenes included
    (18.7 % -> 21.0 % at 0.5), and 0.6 put the fresh 0 dB bike of 14000 at -0.023; 0.4 put 0 dB
    dishes of 25000 at -0.022. ``hold_level=0`` holds regardless of the level.

    Since FrameVad reads the level against the talker's recent peak, it scores most babble pauses
    at 20-30 dB below ``gate_threshold`` and the gate stays shut there (dev half-silence babble:
    fresh drains still take the worst loss from -0.048 to -0.018 F1, mean +0.015 -> +0.032).

    Known limit: the held speech verdict still covers the first ~400 ms of a babble pause, and where
    FrameVad finds the babble as speech-like as speech the cascade follows a stale Silero, so at
    20 dB babble the cascade can still lose up to ~0.04 F1 against Silero alone on some scenes
    (13 test-seed scenes 9213-9225, measured before FrameVad's peak feature waited for a talker:
    -0.042 to +0.039, two below -0.02; bench/eval_vad.py half-silence babble now: worst +0.006 on
    the evaluation seeds, -0.010 on the held-out seeds 9650.., -0.004 on seeds 9950..).

    Known limit: Silero run only on the gated chunks does not keep the recurrent state it has run
    throughout, and at 0 dB (sometimes 10-30 dB) the two part for seconds, either way. On 80 regular
    mixes from fresh seed bases 12000-16000 (``bench/eval_vad.py --extra-seed0``) the cascade is
    -0.040 to +0.128 F1 against Silero alone, 4 below -0.02 (0 dB dishes/bike 2, 0 dB babble 1,
    10 dB bike 1); half-silence seeds 12050.. and 13050.. had one (30 dB white, -0.040, measured
    before contested rejections). Replaying the gate's decisions with Silero-alone's answers put
    every one of these within 0.006 of Silero, so the gate's decisions are not the cause. Over the
    309 dev, fresh, confirmation and shared mixes of ``bench/cascade_sweep.py``, 6 are below -0.02
    (8 before contested rejections); longer replays on resuming, denser refreshes, more frequent
    rechecks and rechecks of held speech at low SNR left 8-15 of 361 below (the longest replay at
    25 % more Silero chunks), and a cleared state on every resume 106. With contested rejections in
    place, replaying 96 / 128 / 160 / 192 ms on every resume ran 27 / 31 / 34 / 36 % of Silero's
    chunks on the dev half-silence scenes (24 % without them); only 192 ms left no set with a
    phase-averaged loss below -0.02, at 0.46x Silero's CPU on the half-silence scenes of
    bench/eval_vad.py (0.34x without, same run; low-SNR drains above keep part of it). A 192 ms
    replay only after 0.5-1 s without Silero, or on all drains (30 %), a 64 ms replay on refreshes,
    holds of 200-300 ms and a check of the held verdict whenever FrameVad leaves confident speech
    did no better (the last three worse: each extra chunk from a stale state is another chance to
    misjudge).

    Variants tried and not kept, with their figures: ``docs/vad_cascade_experiments.md``.

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
        hold_floor: float = 0.25,
        hold_level: float = 0.5,
        hold_ms: int = 400,
        reject_threshold: float = 0.15,
        rise: float = 0.2,
        drain_quiet: float = 0.5,
        held_quiet: float = 0.4,
        held_quiet_peak: float = 0.97,
        recheck_ms: int = 384,
        refresh_ms: int = 320,
        gate_hangover_ms: int = 50,
        warmup_ms: int = 64,
        refresh_warmup_ms: int = 32,
        fresh_drain: bool = True,
        fresh_peak: float = 0.93,
        fresh_level: float = 0.6,
        fresh_probation_chunks: int = 4,
        drain_warmup_ms: int = 64,
        contested_level: float | None = 0.85,
        contested_report_level: float = 0.97,
        contest_restart_ms: int | None = 192,
        low_snr_db: float | None = 15.0,
        low_snr_warmup_ms: int = 192,
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
        if not 0.0 <= hold_floor <= 1.0 or not 0.0 <= hold_threshold <= 1.0 or not 0.0 <= hold_level <= 1.0:
            raise ConfigError(
                f"hold_threshold, hold_floor and hold_level must be in [0, 1] (1 disables holding), got "
                f"{hold_threshold!r}, {hold_floor!r} and {hold_level!r}"
            )
        if not 0.0 <= reject_threshold <= hold_threshold or rise < 0.0:
            raise ConfigError(
                f"need 0 <= reject_threshold <= hold_threshold and rise >= 0, got {reject_threshold!r}, "
                f"{hold_threshold!r} and {rise!r}"
            )
        if not (0.0 <= held_quiet <= 1.0 and 0.0 <= held_quiet_peak <= 1.0):
            raise ConfigError(
                f"held_quiet and held_quiet_peak must be in [0, 1], got {held_quiet!r} and "
                f"{held_quiet_peak!r}"
            )
        if contested_level is not None and not 0.0 <= contested_level <= 1.0:
            raise ConfigError(f"contested_level must be in [0, 1] or None, got {contested_level!r}")
        if not 0.0 <= contested_report_level <= 1.0:
            raise ConfigError(f"contested_report_level must be in [0, 1], got {contested_report_level!r}")
        durations = {
            "hold_ms": hold_ms,
            "gate_hangover_ms": gate_hangover_ms,
            "warmup_ms": warmup_ms,
            "recheck_ms": recheck_ms,
            "refresh_ms": refresh_ms,
            "refresh_warmup_ms": refresh_warmup_ms,
            "drain_warmup_ms": drain_warmup_ms,
            "fresh_probation_chunks": fresh_probation_chunks,
            "low_snr_warmup_ms": low_snr_warmup_ms,
            "contest_restart_ms": contest_restart_ms or 0,
        }
        negative = {k: v for k, v in durations.items() if v < 0}
        if negative:
            raise ConfigError(f"durations and counts must be >= 0, got {negative!r}")
        self.mode: VadMode = mode
        self._frame = FrameVad(ANALYSIS_RATE_HZ, 10) if mode == "frame" else None
        self._silero = SileroVad(ANALYSIS_RATE_HZ, package=model_package) if mode != "frame" else None
        self._gate: _core.CascadeGate | None = None
        if mode == "cascade":
            assert self._silero is not None
            cfg = _core.CascadeGateConfig()
            cfg.gate_threshold = gate_threshold
            cfg.confident_threshold = confident_threshold
            cfg.hold_threshold = hold_threshold
            cfg.hold_floor = hold_floor
            cfg.hold_level = hold_level
            cfg.reject_threshold = reject_threshold
            cfg.rise = rise
            cfg.drain_quiet = drain_quiet
            cfg.held_quiet = held_quiet
            cfg.held_quiet_peak = held_quiet_peak
            cfg.hold_samples = hold_ms * ANALYSIS_RATE_HZ // 1000
            cfg.recheck_samples = recheck_ms * ANALYSIS_RATE_HZ // 1000
            cfg.refresh_samples = refresh_ms * ANALYSIS_RATE_HZ // 1000
            cfg.hangover_samples = gate_hangover_ms * ANALYSIS_RATE_HZ // 1000
            cfg.warmup_samples = _whole_chunks(warmup_ms)
            cfg.refresh_replay_samples = _whole_chunks(refresh_warmup_ms)
            cfg.fresh_drain = fresh_drain
            cfg.fresh_peak = fresh_peak
            cfg.fresh_level = fresh_level
            cfg.fresh_probation_chunks = fresh_probation_chunks
            cfg.drain_warmup_samples = _whole_chunks(drain_warmup_ms)
            cfg.contested_level = contested_level or 0.0
            cfg.contested_report_level = contested_report_level
            cfg.contest_restart_samples = _whole_chunks(contest_restart_ms) if contest_restart_ms else 0
            cfg.low_snr_db = -100.0 if low_snr_db is None else low_snr_db
            cfg.low_snr_warmup_samples = _whole_chunks(low_snr_warmup_ms)
            # The per-hop gate is C++ (a hop that needs no Silero costs no Python work); it calls
            # back for each Silero chunk, which scores the gate's window buffer in place.
            self._gate = _core.CascadeGate(cfg)
            window = self._gate.window()
            silero = self._silero
            score = silero.process_window_unchecked

            def score_window(fresh: bool) -> float:
                if fresh:
                    silero.reset()
                return score(window)

            self._score_window: Callable[[bool], float] = score_window
        self._clock = clock
        # "silero" mode: ring of recent audio (whole hops, written in place) that Silero reads
        # its chunks from, plus one chunk of slack so a chunk that wraps round is copied.
        self._history = np.zeros(-(-(2 * SILERO_CHUNK + HOP) // HOP) * HOP, np.float32)
        self._wrap = np.zeros(SILERO_CHUNK, np.float32)
        self.reset()

    def reset(self) -> None:
        if self._frame is not None:
            self._frame.reset()
        if self._silero is not None:
            self._silero.reset()
        if self._gate is not None:
            self._gate.reset()
        self._history[:] = 0.0
        self._pos = 0  # samples seen
        self._silero_pos = 0  # next Silero chunk start ("silero" mode)
        self._silero_prob = 0.0
        self._frame_prob = 0.0
        self._silero_chunks = 0
        self.inference_s = 0.0

    @property
    def gate_open(self) -> bool:
        """Whether Silero ran on (or is running through) the latest hop's audio."""
        if self._gate is not None:
            return self._gate.gate_open
        return self.mode == "silero"

    @property
    def silero_chunks(self) -> int:
        """Silero inferences run so far."""
        return self._gate.silero_chunks if self._gate is not None else self._silero_chunks

    @property
    def silero_probability(self) -> float:
        """Silero's latest output (0 before its first chunk; stale while the gate is closed)."""
        return self._gate.silero_probability if self._gate is not None else self._silero_prob

    @property
    def frame_probability(self) -> float:
        """FrameVad's probability for the latest hop (0 in ``"silero"`` mode)."""
        return self._gate.frame_probability if self._gate is not None else self._frame_prob

    def process_hop(self, hop: NDArray[np.float32]) -> float:
        """Consume 160 samples (10 ms at 16 kHz); return the current speech probability."""
        return float(self.process_hops(hop.reshape(1, HOP))[0])

    def process_hops(self, hops: NDArray[np.float32]) -> NDArray[np.float64]:
        """Consume ``hops`` of shape ``(n, 160)`` (n consecutive 10 ms hops, float32); return their n
        probabilities. Same results however the stream is cut into calls; the CPU clock is read
        once per call."""
        t0 = self._clock()
        self._pos += len(hops) * HOP
        if self._gate is not None:
            out = self._gate.process(np.ascontiguousarray(hops, np.float32), self._score_window)
        elif self._frame is not None:
            out = self._frame.process_hops(np.ascontiguousarray(hops, np.float32)).astype(np.float64)
            if len(out):
                self._frame_prob = float(out[-1])
        else:
            out = np.empty(len(hops))
            pos = self._pos - len(hops) * HOP
            for i in range(len(hops)):
                pos += HOP
                out[i] = self._hop_silero(hops[i], pos)
        self.inference_s += self._clock() - t0
        return out

    def _hop_silero(self, hop: NDArray[np.float32], pos: int) -> float:
        size = len(self._history)
        w = (pos - HOP) % size
        self._history[w : w + HOP] = hop
        silero = self._silero
        assert silero is not None
        while self._silero_pos + SILERO_CHUNK <= pos:
            start = self._silero_pos % size
            if start + SILERO_CHUNK <= size:
                chunk = self._history[start : start + SILERO_CHUNK]
            else:
                head = size - start
                self._wrap[:head] = self._history[start:]
                self._wrap[head:] = self._history[: SILERO_CHUNK - head]
                chunk = self._wrap
            self._silero_prob = silero.process_unchecked(chunk)
            self._silero_pos += SILERO_CHUNK
            self._silero_chunks += 1
        return self._silero_prob


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
            about 150 us per chunk), or ``"cascade"`` (default: Silero runs only where its answer
            could change, see :class:`StreamingVad`; figures in bench/eval_vad.py), or a
            configured :class:`StreamingVad`.
        activation_threshold: probability at or above which a hop counts as speech.
        deactivation_threshold: probability below which a hop counts as silence (<= activation).
        release_threshold: the silence countdown starts where the probability fell below this
            (>= activation). Default: 0.9 for ``"silero"`` and ``"cascade"`` (Silero's output starts
            falling from ~1 as soon as speech stops), 0.8 for ``"frame"``.
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
        if samples.dtype == np.float32 and samples.size:
            usable = np.abs(samples) < MAX_FLOAT_SAMPLE  # False for NaN and Inf too
            if not usable.all():
                bad = samples[~usable]
                if not np.isfinite(bad).all():
                    raise AudioFormatError(
                        "samples contain NaN or Inf; clean the audio (np.nan_to_num) first"
                    )
                raise AudioFormatError(
                    f"samples contain the value {float(bad[0]):g} (magnitude {MAX_FLOAT_SAMPLE:g} or more); "
                    "float audio is full scale +-1: pass int16 PCM as int16, or divide it by 32768"
                )

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
            AudioFormatError: wrong dtype/shape, NaN/Inf or a float sample of magnitude 65536 or
                more, or a rate change mid-stream.
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
