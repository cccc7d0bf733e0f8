"""Seeded random malformed input to every kernel: each call either works or raises a typed
``voicecore.VoicecoreError``, what does come out is finite and well-formed, and the object still
answers a valid call afterwards. The per-kernel tests check each named error and its message; this
one checks the mixtures they do not list (an int32 frame, a list, a transposed stereo block, a
3e38 sample, a NaN arrival time, a stray str payload...) and what a rejected call leaves behind."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import voicecore

KINDS = (
    "ok",
    "ok",
    "length",
    "float64",
    "int16",
    "int32",
    "nan",
    "inf",
    "empty",
    "2d",
    "huge",
    "list",
    "strided",
    "none",
    "scalar",
)


def _frame(r: random.Random, rng: np.random.Generator, good_len: int) -> Any:
    kind = r.choice(KINDS)
    n = good_len if kind != "length" else r.choice([1, good_len - 1, good_len + 1, 3 * good_len + 7])
    x = (rng.standard_normal(n) * r.choice([1e-6, 0.01, 0.3, 1.0])).astype(np.float32)
    if kind == "float64":
        return x.astype(np.float64)
    if kind == "int16":
        return (x * 3000).astype(np.int16)
    if kind == "int32":
        return (x * 3000).astype(np.int32)
    if kind == "nan":
        x[r.randrange(n)] = np.nan
    if kind == "inf":
        x[r.randrange(n)] = -np.inf
    if kind == "empty":
        return np.zeros(0, np.float32)
    if kind == "2d":
        return np.stack([x, x], axis=r.choice([0, 1]))
    if kind == "huge":
        return np.full(n, 3e38, np.float32)
    if kind == "list":
        return x.tolist()
    if kind == "strided":
        return np.repeat(x, 2)[::2]
    if kind == "none":
        return None
    if kind == "scalar":
        return np.float32(0.5)
    return x


class Calls:
    """Runs calls; any exception that is not a VoicecoreError is recorded as a defect."""

    def __init__(self) -> None:
        self.defects: list[str] = []
        self.rejected = 0
        self.accepted = 0

    def __call__(self, name: str, f: Callable[..., Any], *args: Any) -> Any:
        try:
            out = f(*args)
        except voicecore.VoicecoreError as e:
            if not str(e):
                self.defects.append(f"{name}({_describe(args)}): a VoicecoreError without a message")
            self.rejected += 1
            return None
        except Exception as e:  # noqa: BLE001 - the point is to catch anything else
            self.defects.append(f"{name}({_describe(args)}): {type(e).__name__}: {e}")
            return None
        self.accepted += 1
        return out

    def assert_clean(self) -> None:
        """No defect, and both paths (accepted and rejected calls) were exercised."""
        assert not self.defects, self.defects[:5]
        assert self.rejected > 0
        assert self.accepted > 0


def _describe(args: tuple[Any, ...]) -> str:
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            parts.append(f"ndarray{a.shape}:{a.dtype}")
        else:
            parts.append(type(a).__name__)
    return ", ".join(parts)


def _finite(out: Any) -> bool:
    return out is None or bool(np.all(np.isfinite(np.asarray(out, dtype=np.float64))))


ROUNDS = 60


@pytest.mark.parametrize("seed", [11, 12])
def test_echo_canceller_survives_malformed_frames(seed: int) -> None:
    r, rng, calls = random.Random(seed), np.random.default_rng(seed), Calls()
    for _ in range(ROUNDS):
        rate = r.choice([8000, 16000])
        ec = voicecore.EchoCanceller(rate, r.choice([10, 20]))
        n = ec.frame_size
        for _ in range(r.randrange(1, 12)):
            if r.random() < 0.5:
                calls("push_far", ec.push_far, _frame(r, rng, n))
            else:
                out = calls("process_near", ec.process_near, _frame(r, rng, n))
                if out is not None:
                    assert out.shape == (n,), "process_near returned a frame of another length"
                    assert _finite(out), "process_near returned NaN/Inf"
        good = (rng.standard_normal(n) * 0.1).astype(np.float32)
        ec.push_far(good)
        out = ec.process_near(good)
        assert out.shape == (n,)
        assert np.all(np.isfinite(out)), "a rejected call left the canceller broken"
        assert np.isfinite(ec.stats["erle_db"])
    calls.assert_clean()


@pytest.mark.parametrize("seed", [11, 12])
def test_resampler_survives_malformed_blocks(seed: int) -> None:
    r, rng, calls = random.Random(seed), np.random.default_rng(seed), Calls()
    for _ in range(ROUNDS):
        channels = r.choice([1, 2])
        in_rate = r.choice([8000, 16000, 44100, 48000])
        rs = voicecore.Resampler(in_rate, r.choice([8000, 16000, 24000, 48000]), channels)
        for _ in range(r.randrange(1, 8)):
            out = calls("process", rs.process, _frame(r, rng, r.choice([160, 480, 441])))
            assert _finite(out), "Resampler.process returned NaN/Inf"
        # A stream keeps one dtype and layout until flush(); after it any valid block is taken.
        assert np.all(np.isfinite(rs.flush()))
        good = (rng.standard_normal((480, channels)) * 0.1).astype(np.float32).squeeze()
        out = rs.process(good)
        assert out.size > 0
        assert np.all(np.isfinite(out)), "a rejected call left the resampler broken"
    calls.assert_clean()


@pytest.mark.parametrize("seed", [11, 12])
def test_vads_survive_malformed_frames(seed: int) -> None:
    r, rng, calls = random.Random(seed), np.random.default_rng(seed), Calls()
    for _ in range(ROUNDS):
        fv = voicecore.FrameVad(r.choice([8000, 16000, 32000, 48000]), r.choice([10, 20, 30]))
        for _ in range(r.randrange(1, 8)):
            p = calls("FrameVad.process", fv.process, _frame(r, rng, fv.frame_size))
            assert p is None or 0.0 <= p <= 1.0
        assert 0.0 <= fv.process(np.zeros(fv.frame_size, np.float32)) <= 1.0
    for _ in range(ROUNDS // 6):
        sv = voicecore.SileroVad(r.choice([8000, 16000]))
        for _ in range(r.randrange(1, 5)):
            p = calls("SileroVad.process", sv.process, _frame(r, rng, sv.chunk_size))
            assert p is None or 0.0 <= p <= 1.0
        assert 0.0 <= sv.process(np.zeros(sv.chunk_size, np.float32)) <= 1.0
    calls.assert_clean()


@pytest.mark.parametrize("mode", ["frame", "cascade"])
def test_speech_detector_survives_malformed_pushes(mode: str) -> None:
    r, rng, calls = random.Random(mode), np.random.default_rng(5), Calls()
    det = voicecore.SpeechDetector(mode)  # type: ignore[arg-type]
    for _ in range(ROUNDS):
        # A stream keeps the rate of its first push; other rates are rejected until reset().
        rate = r.choice([8000, 16000, 22050, 48000, 12345, 0, -1])
        events = calls("push", det.push, _frame(r, rng, r.choice([160, 320, 441, 512])), rate)
        assert events is None or isinstance(events, list)
        if r.random() < 0.2:
            det.reset()
    det.reset()
    det.push(np.zeros(1600, np.float32), 16000)
    assert det.stream_time_s == pytest.approx(0.1)
    for _ in range(ROUNDS // 3):
        calls("push", det.push, _frame(r, rng, 160), 16000)
    accepted = det.stream_time_s
    assert accepted >= 0.1
    assert np.isfinite(accepted)
    for bad in (np.full(160, np.nan, np.float32), np.zeros(160, np.float64), np.zeros(160, np.float32)):
        calls("push", det.push, bad, 8000)  # the rate does not match the stream's: rejected
    assert det.stream_time_s == accepted, "a rejected push moved the detector's clock"
    assert isinstance(det.flush(), list)
    calls.assert_clean()


def test_jitter_buffer_survives_malformed_packets() -> None:
    r, calls = random.Random(3), Calls()
    enc = voicecore.OpusEncoder(48000)
    good = enc.encode(np.zeros(960, np.float32))
    for _ in range(ROUNDS):
        jb = voicecore.JitterBuffer(48000)
        now = 0.0
        for k in range(r.randrange(1, 30)):
            seq = r.choice([k, r.randrange(-5, 70000), 65535])
            ts = r.choice([k * 960, r.randrange(-10, 2**32 + 5)])
            payload = r.choice([good, b"", bytes(r.randrange(1, 300)), b"\xff" * 40, None, "x"])
            arrival = r.choice([now, now - 100.0, float("nan"), -1.0])
            calls("put", jb.put, seq, ts, payload, arrival)
            now += r.choice([0.0, 5.0, 20.0, 40.0, 300.0])
            frame = calls("get", jb.get, r.choice([now, float("nan"), -5.0]))
            if frame is not None:
                assert frame.samples.shape == (jb.frame_samples,)
                assert np.all(np.isfinite(frame.samples))
        frame = jb.get(now + 20.0)
        assert frame.samples.shape == (jb.frame_samples,), "a rejected call left the buffer broken"
    calls.assert_clean()
