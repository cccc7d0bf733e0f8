"""SpeechDetector: event timing on labelled speech, cascade vs Silero, streaming invariance, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import voicecore as vc
from voicecore.vad import StreamingVad
from voicecore.vad.metrics import DetectedSegment, f1_score, label_segments, segment_delays
from voicecore.vad.scenes import Scene


def run(det: vc.SpeechDetector, audio: np.ndarray, chunk: int | None = None, seed: int = 0):
    """Push audio (fixed or random chunk sizes); return events and per-10 ms probabilities."""
    events: list[vc.SpeechEvent] = []
    probs: list[float] = []
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(audio):
        n = chunk or int(rng.integers(1, 1200))
        events += det.push(audio[i : i + n], 16000)
        i += n
        probs.append(det.probability)
    events += det.flush()
    return events, probs


def segments(events: list[vc.SpeechEvent]) -> list[DetectedSegment]:
    starts = [e for e in events if isinstance(e, vc.SpeechStarted)]
    ends = [e for e in events if isinstance(e, vc.SpeechEnded)]
    assert len(starts) == len(ends)
    for a, b in zip(starts, ends, strict=True):
        assert a.start_s == b.start_s
        assert a.start_s <= a.detected_s <= b.end_s + 1e-9 <= b.detected_s + 1e-9
    pairs = zip(starts, ends, strict=True)
    return [DetectedSegment(a.start_s, a.detected_s, b.end_s, b.detected_s) for a, b in pairs]


@pytest.mark.parametrize(
    ("mode", "case"),
    [
        ("frame", "white_snr10"),
        ("frame", "dishes_snr10"),
        ("frame", "fresh_bike_snr10"),
        ("cascade", "white_snr10"),
        ("cascade", "dishes_snr10"),
        ("cascade", "fresh_bike_snr10"),
    ],
)
def test_event_timing_on_10db_cases(shared_mix, fresh_scene, mode: str, case: str) -> None:
    min_silence_ms = 500
    if case.startswith("fresh_"):
        sc = fresh_scene(4, "bike", 10.0)
        audio, labels = sc.audio, sc.labels
    else:
        audio, labels = shared_mix(case)
    det = vc.SpeechDetector(mode, min_silence_ms=min_silence_ms)
    events, _ = run(det, audio, chunk=160)
    truth = label_segments(labels, merge_gap_ms=min_silence_ms)
    d = segment_delays(truth, segments(events))
    assert d.missed == 0
    assert d.false_starts <= 2
    # Issue target: onset within 100 ms (median decision latency; met).
    assert d.onset_median_ms <= 100, d.onset_median_ms
    # A detector stuck at speech merges everything into one early "onset": bound it from below.
    assert d.onset_median_ms >= -100, d.onset_median_ms
    assert len(d.onset) >= 0.4 * len(truth)
    # Most utterances get their own segment (a few short gaps are bridged by the hangover).
    assert len(d.onset) >= 0.7 * len(truth)
    # Issue target: offset within min_silence_ms + 50 ms (the silence is counted from where the
    # probability started to fall, see SpeechDetector's release_threshold: 0.8 for FrameVad,
    # 0.9 with Silero). Measured medians: FrameVad 480/430/475 ms, cascade 470/480/350 ms
    # (white, dishes, fresh bike). With FrameVad's old release (0.5) they were 530-635 ms.
    assert d.offset_median_ms <= min_silence_ms + 50, d.offset_median_ms


def test_cascade_f1_close_to_silero_and_cheaper(fresh_scene) -> None:
    sc = fresh_scene(5, "white", 20.0, gap_s=(1.5, 3.5))
    n = len(sc.labels)
    out = {}
    for mode in ("silero", "cascade"):
        vad = StreamingVad(mode)
        p = np.array([vad.process_hop(sc.audio[i * 160 : (i + 1) * 160]) for i in range(n)])
        out[mode] = (f1_score(p >= 0.5, sc.labels), vad.silero_chunks)
    assert out["silero"][0] >= 0.85
    assert out["cascade"][0] >= out["silero"][0] - 0.02
    # Measured: about 20 % of Silero's chunks on this half-silence white-noise scene.
    assert out["cascade"][1] <= 0.35 * out["silero"][1]


def test_streaming_chunk_size_invariance(fresh_scene) -> None:
    audio = fresh_scene(6, "dishes", 10.0).audio[: 16000 * 20]
    ref, _ = run(vc.SpeechDetector("cascade"), audio, chunk=len(audio))
    for seed in (1, 2):
        got, _ = run(vc.SpeechDetector("cascade"), audio, seed=seed)
        key = [(type(e), e.start_s, e.detected_s) for e in got]
        assert key == [(type(e), e.start_s, e.detected_s) for e in ref]
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a.audio, b.audio)
    assert len(ref) >= 4


def test_event_audio_prefix_padding_and_content(fresh_scene) -> None:
    sc = fresh_scene(7, "white", 20.0)
    det = vc.SpeechDetector("frame", prefix_padding_ms=200, min_silence_ms=400)
    events, _ = run(det, sc.audio, chunk=480)
    ends = [e for e in events if isinstance(e, vc.SpeechEnded)]
    starts = [e for e in events if isinstance(e, vc.SpeechStarted)]
    assert ends
    for s, e in zip(starts, ends, strict=True):
        first = max(0.0, e.start_s - 0.2)
        assert len(e.audio) == round((e.end_s - first) * 16000)
        np.testing.assert_array_equal(e.audio, sc.audio[round(first * 16000) : round(e.end_s * 16000)])
        np.testing.assert_array_equal(s.audio, sc.audio[round(first * 16000) : round(s.detected_s * 16000)])
        assert e.sample_rate_hz == 16000
        assert e.inference_s > 0
        assert not e.truncated


def test_max_buffered_speech_and_flush(fresh_scene) -> None:
    sc = fresh_scene(7, "white", 20.0)
    det = vc.SpeechDetector("frame", max_buffered_speech_s=0.5, min_silence_ms=300)
    events, _ = run(det, sc.audio, chunk=160)
    ends = [e for e in events if isinstance(e, vc.SpeechEnded)]
    assert any(e.truncated for e in ends)
    assert all(len(e.audio) <= 8000 for e in ends)
    # flush() closes an open segment; afterwards the detector is idle.
    det.reset()
    first_speech = int(np.flatnonzero(sc.labels)[0]) * 160
    evs = det.push(sc.audio[: first_speech + 16000 // 2])
    assert det.speaking
    assert any(isinstance(e, vc.SpeechStarted) for e in evs)
    tail = det.flush()
    assert len(tail) == 1
    assert isinstance(tail[0], vc.SpeechEnded)
    assert not det.speaking
    assert det.flush() == []


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_other_input_rates(fresh_scene, rate: int) -> None:
    from scipy.signal import resample_poly

    if getattr(vc, "Resampler", None) is None:
        with pytest.raises(vc.ConfigError, match="Resampler"):
            vc.SpeechDetector("frame").push(np.zeros(480, np.float32), rate)
        return
    sc = fresh_scene(7, "white", 20.0)
    audio = sc.audio[: 16000 * 20]
    ref, _ = run(vc.SpeechDetector("frame"), audio, chunk=160)
    resampled = resample_poly(audio.astype(np.float64), rate, 16000).astype(np.float32)
    det = vc.SpeechDetector("frame")
    got: list[vc.SpeechEvent] = []
    step = rate // 50  # 20 ms frames, as a WebRTC track delivers them
    for i in range(0, len(resampled), step):
        got += det.push(resampled[i : i + step], rate)
    got += det.flush()
    ref_starts = [e.start_s for e in ref if isinstance(e, vc.SpeechStarted)]
    got_starts = [e.start_s for e in got if isinstance(e, vc.SpeechStarted)]
    assert len(ref_starts) >= 3
    assert len(got_starts) == len(ref_starts)
    # Same onsets within 30 ms (resampling filters and its ~4 ms latency shift them slightly).
    np.testing.assert_allclose(got_starts, ref_starts, atol=0.03)
    assert all(e.sample_rate_hz == 16000 for e in got)


def test_bad_input_and_config() -> None:
    det = vc.SpeechDetector("frame")
    with pytest.raises(vc.AudioFormatError, match="float32"):
        det.push(np.zeros(160, np.float64))
    with pytest.raises(vc.AudioFormatError, match="float32"):
        det.push(np.zeros(160, np.int32))
    with pytest.raises(vc.AudioFormatError, match="1-D"):
        det.push(np.zeros((160, 2), np.float32))
    with pytest.raises(vc.AudioFormatError, match="NaN or Inf"):
        det.push(np.full(160, np.inf, np.float32))
    # Finite but not audio: refused at every rate (at 16 kHz it used to be taken, at 48 kHz the
    # resampler refused it with a message about "x").
    for rate in (16000, 48000):
        with pytest.raises(vc.AudioFormatError, match="value -70000 .magnitude 65536 or more"):
            vc.SpeechDetector("frame").push(np.r_[np.zeros(9, np.float32), np.float32(-70000.0)], rate)
    with pytest.raises(vc.ConfigError, match="not supported"):
        det.push(np.zeros(160, np.float32), 4000)
    assert det.push(np.zeros(0, np.float32)) == []
    det.push(np.zeros(100, np.float32), 16000)
    with pytest.raises(vc.AudioFormatError, match="changed mid-stream"):
        det.push(np.zeros(100, np.float32), 8000)
    with pytest.raises(vc.ConfigError, match="vad mode"):
        vc.SpeechDetector("webrtc")  # type: ignore[arg-type]
    with pytest.raises(vc.ConfigError, match="deactivation_threshold"):
        vc.SpeechDetector("frame", activation_threshold=0.3, deactivation_threshold=0.5)
    with pytest.raises(vc.ConfigError, match="min_silence_ms"):
        vc.SpeechDetector("frame", min_silence_ms=-1)
    with pytest.raises(vc.ConfigError, match="release_threshold"):
        vc.SpeechDetector("frame", activation_threshold=0.6, release_threshold=0.5)
    with pytest.raises(vc.ConfigError, match="hold_ms"):
        StreamingVad("frame", hold_ms=-1)
    with pytest.raises(vc.ConfigError, match="'drain_warmup_ms': -1"):
        StreamingVad("frame", drain_warmup_ms=-1)
    with pytest.raises(vc.ConfigError, match="hold_threshold"):
        StreamingVad("frame", hold_floor=1.5)
    with pytest.raises(vc.ConfigError, match="drain_quiet"):
        StreamingVad("cascade", drain_quiet=0.1)
    with pytest.raises(vc.ConfigError, match="reject_threshold"):
        StreamingVad("frame", reject_threshold=0.8)
    with pytest.raises(vc.ConfigError, match="held_quiet"):
        StreamingVad("frame", held_quiet_peak=1.5)
    from voicecore import _core

    cfg = _core.CascadeGateConfig()
    cfg.held_quiet = -0.1
    with pytest.raises(vc.ConfigError, match="held_quiet"):
        _core.CascadeGate(cfg)  # the C++ gate checks too (it is reachable without StreamingVad)
    with pytest.raises(vc.ConfigError, match="contested_level"):
        StreamingVad("frame", contested_level=1.5)
    cfg = _core.CascadeGateConfig()
    cfg.contested_level = -0.5
    with pytest.raises(vc.ConfigError, match="contested_level"):
        _core.CascadeGate(cfg)
    with pytest.raises(vc.ConfigError, match="warmup must be a multiple of 512 samples"):
        StreamingVad("cascade", warmup_ms=500)  # more than the gate's audio ring holds
    assert vc.SpeechDetector("frame").release_threshold == 0.8
    assert vc.SpeechDetector("frame", activation_threshold=0.85).release_threshold == 0.85
    assert vc.SpeechDetector("frame", release_threshold=0.8).release_threshold == 0.8


def test_release_threshold_ends_speech_at_the_fall() -> None:
    # A synthetic probability track (through a FrameVad-free path): speech at 0.99, then a decay
    # 0.8, 0.6, 0.45, 0.3 and silence. With release 0.9 the silence (and end_s) starts at the
    # first hop below 0.9; with release = activation (0.5) three hops later.
    track = [0.0] * 20 + [0.99] * 50 + [0.8, 0.6, 0.45, 0.3] + [0.1] * 80

    class Scripted(StreamingVad):
        def process_hops(self, hops: np.ndarray) -> np.ndarray:
            i = self._pos // 160
            self._pos += 160 * len(hops)
            return np.array([track[j] if j < len(track) else 0.0 for j in range(i, i + len(hops))])

    ends = {}
    for release in (0.9, 0.5):
        det = vc.SpeechDetector(Scripted("frame"), min_silence_ms=300, release_threshold=release)
        evs = det.push(np.zeros(160 * len(track), np.float32))
        ends[release] = [e for e in evs if isinstance(e, vc.SpeechEnded)]
    assert len(ends[0.9]) == len(ends[0.5]) == 1
    assert ends[0.9][0].end_s == pytest.approx(0.70)
    assert ends[0.9][0].detected_s == pytest.approx(1.00)
    assert ends[0.5][0].end_s == pytest.approx(0.72)
    assert ends[0.5][0].detected_s == pytest.approx(1.02)


def test_int16_input_matches_float32(fresh_scene) -> None:
    audio = fresh_scene(6, "dishes", 10.0).audio[: 16000 * 8]  # already on the 16-bit grid
    pcm = np.round(audio * 32768).astype(np.int16)
    a, pa = run(vc.SpeechDetector("frame"), audio, chunk=320)
    b, pb = run(vc.SpeechDetector("frame"), pcm, chunk=320)
    assert pa == pb
    assert [(e.start_s, e.detected_s) for e in a] == [(e.start_s, e.detected_s) for e in b]


def test_deterministic(fresh_scene) -> None:
    audio = fresh_scene(6, "dishes", 10.0).audio[: 16000 * 10]
    a, pa = run(vc.SpeechDetector("cascade"), audio, chunk=320)
    b, pb = run(vc.SpeechDetector("cascade"), audio, chunk=320)
    assert [(e.start_s, e.detected_s) for e in a] == [(e.start_s, e.detected_s) for e in b]
    assert pa == pb


@pytest.mark.parametrize(
    ("offset", "noise", "max_share"),
    [(10, "bike", 0.32), (11, "dishes", 0.32), (12, "babble", 0.38), (5, "white", 0.25)],
)
def test_cascade_matches_silero_on_half_silence_at_a_fraction_of_its_invocations(
    fresh_scene, offset: int, noise: str, max_share: float
) -> None:
    # Generated half-silence scenes at 20 dB (seeds 9205, 9210-9212; never tuned on). Measured
    # Silero invocations of the cascade relative to Silero alone: white 0.15, dishes 0.21, bike
    # 0.20, babble 0.32, F1 0.008-0.025 above Silero's (with contests from 0.85 and restarts; an
    # earlier gate: 0.17 / 0.23 / 0.24 / 0.34, F1 within 0.008; the first gate, which ran
    # Silero wherever FrameVad was unsure: 0.43-0.57 outside white noise; an always-open gate: 1.0).
    sc = fresh_scene(offset, noise, 20.0, gap_s=(1.5, 3.5))
    n = len(sc.labels) // 2 * 2
    hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n // 2, 2, 160)
    out = {}
    for mode in ("silero", "cascade"):
        vad = StreamingVad(mode)
        p = np.concatenate([vad.process_hops(h) for h in hops])  # 20 ms pushes
        out[mode] = (f1_score(p >= 0.5, sc.labels[:n]), vad.silero_chunks)
    assert 0.4 <= sc.labels.mean() <= 0.6
    assert out["silero"][0] >= 0.9
    assert out["cascade"][0] >= out["silero"][0] - 0.02
    assert out["cascade"][1] <= max_share * out["silero"][1]
    assert out["cascade"][1] >= 0.1 * out["silero"][1]  # Silero does run (it decides the speech)


def test_cascade_drains_silero_after_each_utterance(fresh_scene) -> None:
    # After a speech verdict Silero keeps running until it rejects the audio, so in every long
    # pause its latest answer is non-speech well before the pause ends. A gate that closes as soon
    # as FrameVad is sure of silence leaves Silero's last (speech) answer standing into the pause,
    # and the next resumption starts from that stale speech state.
    sc = fresh_scene(5, "white", 20.0, gap_s=(1.5, 3.5))
    vad = StreamingVad("cascade")
    n = len(sc.labels)
    silero_p = np.empty(n)
    for i in range(n):
        vad.process_hop(sc.audio[i * 160 : (i + 1) * 160])
        silero_p[i] = vad.silero_probability
    ends = [i for i in range(1, n) if sc.labels[i - 1] == 1 and sc.labels[i] == 0]
    pauses = [e for e in ends if e + 120 <= n and not sc.labels[e : e + 120].any()]
    assert len(pauses) >= 5
    for e in pauses:
        # 1.2 s into the pause: Silero has rejected it.
        assert silero_p[e + 119] < 0.5, (e, silero_p[e : e + 120 : 10])


def test_cascade_rejects_nan_before_any_state_change(fresh_scene) -> None:
    hops = np.ascontiguousarray(fresh_scene(6, "dishes", 10.0).audio[: 16000 * 4]).reshape(-1, 160)
    ref = StreamingVad("cascade")
    expected = np.concatenate([ref.process_hops(hops[i : i + 2]) for i in range(0, len(hops), 2)])
    vad = StreamingVad("cascade")
    got = []
    for i in range(0, len(hops), 2):
        if i == 100:
            bad = hops[i : i + 2].copy()
            bad[1, 7] = np.nan
            with pytest.raises(vc.AudioFormatError, match="NaN or Inf"):
                vad.process_hops(bad)
        got.append(vad.process_hops(hops[i : i + 2]))
    np.testing.assert_array_equal(np.concatenate(got), expected)
    assert vad.silero_chunks == ref.silero_chunks > 0


def test_cascade_fresh_drain_rejects_babble_pauses(fresh_scene) -> None:
    # Half-silence babble at 20 dB (seed 9223, not tuned on). Silero, resumed with the state it had
    # from refresh chunks inside the utterance, keeps calling the following babble speech; a fresh
    # drain restarts it from a zero state once FrameVad's utterance level has fallen. Measured F1
    # (false positives in pauses): Silero 0.916 (288), cascade 0.945 (167), cascade with the stale
    # state (fresh_drain=False) 0.900 (382); Silero chunks 1392 / 573 / 843. Before held speech
    # deferred to FrameVad's lean to silence (held_quiet): 0.941 (185) and 0.885 (458), when the
    # last check read ``1.4 * fp_s < fp_o``; held_quiet trims the stale variant's pauses too, so
    # the check is now against the fresh drain's own count (2.5x then, 2.3x now). The share here
    # (41 %) is above its 30-32 % on the evaluation babble sets: with the level-against-peak feature
    # neutral until a talker is heard (model refit), it ran 393 chunks (28 %). (Since FrameVad reads
    # the level against the talker's peak it keeps the gate shut in most babble pauses, so a fresh
    # drain is rarer: on seed 9215, used here before, both variants now give the same 0.920.)
    # Both variants keep the contest level at 0.97 (where these figures were measured), so this
    # compares fresh drains alone: with the default 0.85 the fresh drain gives 0.937 (188) at 590
    # chunks, the stale one the same 0.900 (382) (Silero's extra chunks in contests moved its state).
    sc = fresh_scene(23, "babble", 20.0, gap_s=(1.5, 3.5))
    n = len(sc.labels)
    hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
    y = sc.labels[:n]
    out = {}
    for name, vad in (
        ("silero", StreamingVad("silero")),
        # Low-SNR drains off on both: a stale drain becomes one of them, and this measures fresh
        # drains alone.
        ("fresh", StreamingVad("cascade", low_snr_db=None, contested_level=0.97)),
        ("stale", StreamingVad("cascade", fresh_drain=False, low_snr_db=None, contested_level=0.97)),
    ):
        p = vad.process_hops(hops)
        out[name] = (f1_score(p >= 0.5, y), int(((p >= 0.5) & (y == 0)).sum()), vad.silero_chunks)
    f1_s, fp_s, ch_s = out["silero"]
    f1_f, fp_f, ch_f = out["fresh"]
    f1_o, fp_o, _ = out["stale"]
    assert f1_f >= f1_s - 0.03
    assert f1_f >= f1_o + 0.04
    assert fp_f <= 1.4 * fp_s
    assert fp_o >= 2 * fp_f
    assert ch_f <= 0.45 * ch_s


def test_cascade_fresh_drain_calls_back_with_reset(fresh_scene) -> None:
    # The gate asks for a state reset (silero(fresh=True)) only to drain a stale speech verdict
    # after an utterance. Measured on seed 9223 (8 utterances): 1 reset in 393 chunks on babble at
    # 20 dB; none on white noise at 0 dB (FrameVad's level never peaks), nor on bike 10 dB or dishes
    # 20 dB (Silero drains there before FrameVad's level falls).
    from voicecore import _core

    for noise, snr, lo, hi in (("babble", 20.0, 1, 16), ("white", 0.0, 0, 0), ("dishes", 20.0, 0, 2)):
        sc = fresh_scene(23, noise, snr, gap_s=(1.5, 3.5))
        cfg = _core.CascadeGateConfig()
        cfg.contest_restart_samples = 0  # fresh drains alone (contest restarts reset Silero too)
        gate = _core.CascadeGate(cfg)
        window = gate.window()
        silero = vc.SileroVad(16000)
        calls: list[bool] = []

        def score(
            fresh: bool, w: np.ndarray = window, s: vc.SileroVad = silero, log: list[bool] = calls
        ) -> float:
            log.append(fresh)
            if fresh:
                s.reset()
            return s.process_window_unchecked(w)

        gate.process(np.ascontiguousarray(sc.audio[: len(sc.labels) * 160]).reshape(-1, 160), score)
        assert len(calls) == gate.silero_chunks > 0
        assert lo <= sum(calls) <= hi, (noise, sum(calls))


def _pause_false_positives(sc: Scene, window_hops: int, *vads: StreamingVad) -> list[tuple[int, float, int]]:
    """Per VAD: speech frames reported in the first ``window_hops`` hops of every pause, frame F1 at
    0.5 and Silero chunks run, over one scene."""
    n = len(sc.labels)
    hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
    y = sc.labels[:n]
    post = np.zeros(n, bool)
    for e in [i for i in range(1, n) if y[i - 1] == 1 and y[i] == 0]:
        post[e : e + window_hops] = True
    post &= y == 0
    out = []
    for vad in vads:
        p = vad.process_hops(hops)
        out.append((int(((p >= 0.5) & post).sum()), f1_score(p >= 0.5, y), vad.silero_chunks))
    return out


@pytest.mark.parametrize(
    ("offset", "noise", "snr", "max_fp"), [(4, "bike", 5.0, 175), (5, "dishes", 5.0, 150)]
)
def test_cascade_drain_reports_framevad_lean_to_silence(
    fresh_scene, offset: int, noise: str, snr: float, max_fp: int
) -> None:
    # While Silero drains after a clear utterance, its stale speech state reported speech in the
    # first 500 ms of the pause; hops FrameVad scores below drain_quiet (0.5) report FrameVad's.
    # Measured false-positive frames in those 500 ms (seeds 9204 bike / 9205 dishes, 5 dB): 163 / 137
    # with drain_quiet=0.5, 173 / 164 with FrameVad answering only below gate_threshold (0.2, the
    # earlier gate), Silero alone 54 / 143; F1 0.899 / 0.931 against 0.897 / 0.925 (Silero alone
    # 0.886 / 0.935). Silero runs the same chunks either way. (Before the level-against-peak feature
    # waited for a talker: 122 / 142 and 132 / 168; the 17-feature model: 89 / 85 and 107 / 104.)
    sc = fresh_scene(offset, noise, snr)
    (fp_new, f1_new, ch_new), (fp_old, f1_old, ch_old) = _pause_false_positives(
        sc, 50, StreamingVad("cascade"), StreamingVad("cascade", drain_quiet=0.2)
    )
    assert fp_new <= min(max_fp, 0.95 * fp_old), (fp_new, fp_old)
    assert f1_new >= f1_old
    assert ch_new == ch_old


@pytest.mark.parametrize(
    ("offset", "noise", "snr", "max_fp"),
    [(4, "bike", 5.0, 115), (4, "bike", 10.0, 145), (5, "dishes", 10.0, 115)],
)
def test_cascade_held_speech_reports_framevad_lean_to_silence(
    fresh_scene, offset: int, noise: str, snr: float, max_fp: int
) -> None:
    # A speech verdict held (up to hold_ms, Silero not running) after a clear utterance reported
    # speech 60-260 ms into the pause, where Silero alone had already let go; hops FrameVad scores
    # below held_quiet (0.4) report FrameVad's. Measured false-positive frames in the first 300 ms
    # of pauses (seeds 9204 bike 5 / 10 dB, 9205 dishes 10 dB): 101 / 134 / 102 with held_quiet=0.4,
    # 142 / 157 / 123 with the hold always answering (held_quiet=0, the earlier gate), Silero alone
    # 54 / 74 / 155; F1 0.906 / 0.929 / 0.952 against 0.899 / 0.925 / 0.946 (Silero alone
    # 0.886 / 0.939 / 0.942). Silero runs the same chunks either way: only the report changes.
    sc = fresh_scene(offset, noise, snr)
    (fp_new, f1_new, ch_new), (fp_old, f1_old, ch_old) = _pause_false_positives(
        sc,
        30,
        StreamingVad("cascade", low_snr_db=None),
        StreamingVad("cascade", held_quiet=0.0, low_snr_db=None),
    )
    assert fp_new <= min(max_fp, 0.9 * fp_old), (fp_new, fp_old)
    assert f1_new >= f1_old + 0.002, (f1_new, f1_old)
    assert ch_new == ch_old


def test_cascade_contested_rejection_is_not_held(fresh_scene) -> None:
    # A Silero rejection where FrameVad's ~20 ms level is at least contested_level (0.97) used to be
    # held as silence for up to recheck_ms; now Silero runs on every chunk FrameVad is not sure of
    # until it stops rejecting or FrameVad is sure of silence, and those hops report the larger of
    # the two.
    from voicecore import _core

    # A Silero that rejects everything: only the contested rule lets FrameVad's speech through.
    # Measured on seed 9203, white noise at 10 dB: recall 0.926 (contested_level 0.97) against 0.733
    # with the rejection held (contested_level 0), FrameVad alone 0.958; 447 chunks against 187.
    sc = fresh_scene(3, "white", 10.0)
    n = len(sc.labels)
    hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
    speech = sc.labels[:n] == 1
    frame_recall = float(np.mean(vc.FrameVad().process_hops(hops)[speech] >= 0.5))
    recall = {}
    chunks = {}
    for level in (0.97, 0.0):
        cfg = _core.CascadeGateConfig()
        cfg.contested_level = level
        gate = _core.CascadeGate(cfg)
        recall[level] = float(np.mean(gate.process(hops, lambda fresh: 0.02)[speech] >= 0.5))
        chunks[level] = gate.silero_chunks
    assert recall[0.97] >= frame_recall - 0.05, (recall, frame_recall)
    assert recall[0.0] <= recall[0.97] - 0.1, recall
    assert chunks[0.97] > chunks[0.0]

    # With the real Silero, on the 0 dB dishes scenes of seeds 9204 / 9205: F1 0.794 / 0.918 against
    # 0.752 / 0.834 held (Silero alone 0.791 / 0.650), at 376 / 310 chunks against 366 / 293 (of 1119
    # / 918).
    for offset in (4, 5):
        sc = fresh_scene(offset, "dishes", 0.0)
        n = len(sc.labels)
        hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
        y = sc.labels[:n]
        # Low-SNR drains off on both (they add chunks of their own at 0 dB): contested rejections alone.
        new = StreamingVad("cascade", low_snr_db=None)
        old = StreamingVad("cascade", contested_level=None, low_snr_db=None)
        f1_new = f1_score(new.process_hops(hops) >= 0.5, y)
        f1_old = f1_score(old.process_hops(hops) >= 0.5, y)
        assert f1_new >= f1_old + 0.03, (offset, f1_new, f1_old)
        assert new.silero_chunks <= 0.45 * n * 160 // 512, new.silero_chunks


def test_cascade_contests_rejections_where_framevad_leans_to_speech(fresh_scene) -> None:
    # A Silero rejection where FrameVad's ~20 ms level is at least contested_level (now 0.85, was
    # 0.97) is contested: not held, Silero runs on every chunk until it stops rejecting, so its
    # drifted state catches up with the speech. Below contested_report_level (0.97) those hops report
    # Silero's probability, not the larger of the two. Measured (test seeds, one chunk phase), F1
    # cascade / Silero alone: 0 dB bike of seed 9203 0.883 (0.97: 0.862) / 0.891, of 9206 0.911
    # (0.904) / 0.928, of 9207 0.892 (0.854) / 0.855; chunks 608 / 445 / 429 of 1249 / 1006 / 1043.
    f1 = {}
    for offset in (3, 6, 7):
        sc = fresh_scene(offset, "bike", 0.0)
        n = len(sc.labels)
        hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
        y = sc.labels[:n]
        # Contest restarts (below) and the low-SNR hold level off on both: this measures the contest
        # level alone.
        new = StreamingVad("cascade", contest_restart_ms=None, hold_level=0.0)
        old = StreamingVad("cascade", contested_level=0.97, contest_restart_ms=None, hold_level=0.0)
        alone = StreamingVad("silero")
        f1[offset] = tuple(f1_score(v.process_hops(hops) >= 0.5, y) for v in (new, old, alone))
        assert new.silero_chunks <= 0.5 * alone.silero_chunks, (offset, new.silero_chunks)
    for offset in (3, 6):
        f_new, f_old, f_alone = f1[offset]
        assert f_new >= f_alone - 0.02 > f_old, (offset, f1[offset])
    assert f1[7][0] >= f1[7][1] + 0.03, f1[7]


def test_cascade_contest_restarts_drifted_silero(fresh_scene) -> None:
    # The first rejection of a contest while FrameVad is sure of speech (~20 ms level >= 0.97)
    # restarts Silero from a zero state over the last 192 ms, with 4 chunks of probation: its state
    # had drifted from the speech (run even on every chunk from there it stayed at 0.1-0.5 through
    # 2 s of 0 dB dishes speech that Silero run throughout scored 0.7-0.99). Measured on the test
    # seeds' 0 dB dishes scenes, F1 with / without restarts (Silero alone), chunks with / without:
    # 9202 0.899 / 0.881 (0.806), 466 / 443; 9204 0.856 / 0.823 (0.791), 541 / 503. Not always
    # better: 9201 bike at 0 dB 0.861 / 0.900 (0.911); over 80 test-seed scenes (seeds 9200-9209,
    # four noises, 0 and 10 dB, 4 chunk phases) the mean cascade-minus-Silero F1 went +0.0172 ->
    # +0.0182, scenes below -0.02 0 -> 1 (that bike scene, -0.024).
    from voicecore import _core

    for offset, gain in ((2, 0.01), (4, 0.025)):
        sc = fresh_scene(offset, "dishes", 0.0)
        n = len(sc.labels)
        hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
        y = sc.labels[:n]
        # The low-SNR hold level off on both: this measures the restarts alone.
        new = StreamingVad("cascade", hold_level=0.0)
        old = StreamingVad("cascade", contest_restart_ms=None, hold_level=0.0)
        f1_new = f1_score(new.process_hops(hops) >= 0.5, y)
        f1_old = f1_score(old.process_hops(hops) >= 0.5, y)
        assert f1_new >= f1_old + gain, (offset, f1_new, f1_old)
        assert new.silero_chunks <= 1.1 * old.silero_chunks, (new.silero_chunks, old.silero_chunks)
    cfg = _core.CascadeGateConfig()
    cfg.contest_restart_samples = 1000
    with pytest.raises(vc.ConfigError, match="contest restart"):
        _core.CascadeGate(cfg)


def test_cascade_low_snr_drain_replays_longer(fresh_scene) -> None:
    # A drain of a held speech verdict replays low_snr_warmup_samples (192 ms) instead of 64 ms only
    # where FrameVad's talker-over-noise estimate is below low_snr_db; elsewhere nothing changes.
    # Silero here is a stand-in that calls loud windows speech, so its verdicts follow the utterances
    # and drains happen as they do with the real model.
    from voicecore import _core

    def run(scene: Scene, low_snr_db: float) -> tuple[np.ndarray, int]:
        n = len(scene.labels)
        hops = np.ascontiguousarray(scene.audio[: n * 160]).reshape(n, 160)
        cfg = _core.CascadeGateConfig()
        cfg.low_snr_db = low_snr_db
        # The contest level these counts were measured at: at the default 0.85 the stand-in's
        # rejections of 0 dB speech are contested, Silero runs through them and there are fewer
        # drains to lengthen (517 / 521 chunks at 0 dB).
        cfg.contested_level = 0.97
        cfg.hold_level = 0.0  # low_snr_db also gates hold_level; this measures the replays alone
        gate = _core.CascadeGate(cfg)
        window = gate.window()
        floor = float(np.mean(scene.audio[:8000] ** 2))

        def silero(fresh: bool) -> float:
            return 0.9 if float(np.mean(window[64:] ** 2)) > 4.0 * floor else 0.05

        return gate.process(hops, silero), gate.silero_chunks

    # Measured on seed 9202 bike: at 30 dB 201 chunks off, 205 on (one drain before the talker's
    # level is known counts as low SNR), 247 with the long replay on every drain; at 0 dB 476 / 484.
    quiet = fresh_scene(2, "bike", 30.0)
    p_off, ch_off = run(quiet, -100.0)
    p_on, ch_on = run(quiet, 15.0)
    _, ch_all = run(quiet, 100.0)
    assert ch_on <= ch_off + 4, (ch_off, ch_on)
    assert ch_all >= ch_off + 20, (ch_off, ch_all)
    assert np.mean(np.abs(p_on - p_off)) < 0.01
    loud = fresh_scene(2, "bike", 0.0)
    _, ch_off = run(loud, -100.0)
    _, ch_on = run(loud, 15.0)
    assert ch_on >= ch_off + 8, (ch_off, ch_on)
    cfg = _core.CascadeGateConfig()
    cfg.low_snr_warmup_samples = 1000
    with pytest.raises(vc.ConfigError, match="low-SNR warmup"):
        _core.CascadeGate(cfg)


def _cascade_gains(fresh_scene, noise: str, **old_settings: Any) -> tuple[list[float], list[float]]:
    """Per 0 dB scene of seeds 9200-9209: cascade F1 minus F1 with old_settings, and the share of
    Silero's chunks the default cascade ran."""
    gains, share = [], []
    for offset in range(10):
        sc = fresh_scene(offset, noise, 0.0)
        n = len(sc.labels)
        hops = np.ascontiguousarray(sc.audio[: n * 160]).reshape(n, 160)
        y = sc.labels[:n]
        new, old = StreamingVad("cascade"), StreamingVad("cascade", **old_settings)
        gains.append(f1_score(new.process_hops(hops) >= 0.5, y) - f1_score(old.process_hops(hops) >= 0.5, y))
        share.append(new.silero_chunks / (n * 160 // 512))
    return gains, share


def test_cascade_low_snr_drains_with_silero(fresh_scene) -> None:
    # With the real Silero on the ten 0 dB bike test scenes (seeds 9200-9209): mean cascade F1
    # 0.8787 against 0.8690 with 64 ms drain replays everywhere (Silero alone 0.8741), per scene
    # -0.020 to +0.039, at 42 % of Silero's chunks on average against 35 % (at most 47 %): the
    # longer replays are the price, paid only in loud noise.
    gains, share = _cascade_gains(fresh_scene, "bike", low_snr_db=None)
    assert np.mean(gains) >= 0.004, gains
    assert max(share) <= 0.5, share


def test_cascade_does_not_hold_speech_on_a_burst_at_low_snr(fresh_scene) -> None:
    # At low SNR (FrameVad's talker-over-noise estimate below low_snr_db) a speech verdict is held only
    # while FrameVad's ~300 ms level is at least hold_level (0.5): a burst of noise FrameVad scored high
    # for 50-100 ms resumed Silero, whose verdict on its first chunks was held for 400 ms of noise.
    # With the real Silero on the ten 0 dB dishes test scenes (seeds 9200-9209): mean cascade F1
    # 0.8892 against 0.8808 with hold_level=0 (Silero alone 0.8077), per scene -0.018 to +0.080, at
    # 49.7 % of Silero's chunks on average against 48.5 % (at most 57 %). On the 0 dB bike scenes
    # 0.8835 against 0.8843, at 10 dB (four noises) within 0.0003 except babble +0.0025.
    gains, share = _cascade_gains(fresh_scene, "dishes", hold_level=0.0)
    assert np.mean(gains) >= 0.005, gains
    assert min(gains) >= -0.03, gains
    assert max(share) <= 0.6, share
    with pytest.raises(vc.ConfigError, match="hold_level"):
        StreamingVad("cascade", hold_level=1.5)
