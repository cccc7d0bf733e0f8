"""EchoCanceller API: bad input, far starvation, burst invariance, dtypes, stats."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import voicecore
from voicecore import EchoCanceller

FRAME = 160


def _signals(seconds: float = 3.0, seed: int = 5, rate: int = 16000) -> tuple[np.ndarray, np.ndarray]:
    """Far = amplitude-modulated noise (speech-like bursts); mic = its echo through a short decaying
    path, 30 ms late, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    ms = rate // 1000
    env = (np.sin(2 * np.pi * 1.3 * np.arange(n) / rate) > -0.2).astype(np.float64)
    far = 0.1 * rng.standard_normal(n) * env
    h = rng.standard_normal(50 * ms) * np.exp(-np.arange(50 * ms) / (7.5 * ms)) * 0.3
    h[0] = 0.6
    echo = np.convolve(far, h)[:n]
    echo = np.concatenate([np.zeros(30 * ms), echo])[:n]
    mic = echo + 1e-3 * rng.standard_normal(n)
    return far.astype(np.float32), mic.astype(np.float32)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (np.zeros(100, np.float32), "multiple of the frame size 160"),
        (np.zeros(0, np.float32), "multiple of the frame size"),
        (np.zeros(160, np.float64), "float32"),
        (np.zeros((160, 2), np.float32), "1-D"),
        (np.full(160, np.nan, np.float32), "NaN or Inf"),
        (np.r_[np.zeros(159, np.float32), np.float32(np.inf)], "NaN or Inf"),
        # Finite but not audio: 3e38 used to pass and turned the next blocks' output into NaN.
        (np.full(160, 3e38, np.float32), "value 3e\\+38 at sample 0 .magnitude 65536"),
        (
            np.r_[np.zeros(10, np.float32), np.float32(-65536.0), np.zeros(149, np.float32)],
            "-65536 at sample 10",
        ),
    ],
)
def test_bad_frames_raise_audio_format_error(frame: np.ndarray, match: str) -> None:
    ec = EchoCanceller()
    with pytest.raises(voicecore.AudioFormatError, match=match):
        ec.process_near(frame)
    with pytest.raises(voicecore.AudioFormatError, match=match):
        ec.push_far(frame)
    # A rejected frame consumed nothing: the canceller still works.
    assert ec.process_near(np.zeros(160, np.float32)).shape == (160,)


def test_int16_scaled_float_frames_are_still_taken() -> None:
    """The magnitude bound sits above int16 scale: a float stream at +-32768 is the caller's scaling
    mistake, not garbage, and is processed (finite output, nothing rejected)."""
    rng = np.random.default_rng(4)
    ec = EchoCanceller()
    for _ in range(50):
        frame = np.clip(rng.standard_normal(160) * 8000, -32768, 32767).astype(np.float32)
        ec.push_far(frame)
        assert np.all(np.isfinite(ec.process_near(frame)))
    assert ec.far_buffered == 0


def test_mismatched_rates_raise() -> None:
    ec = EchoCanceller(sample_rate_hz=16000)
    with pytest.raises(voicecore.AudioFormatError, match="resample"):
        ec.push_far(np.zeros(160, np.float32), sample_rate_hz=8000)
    with pytest.raises(voicecore.AudioFormatError, match="48000 Hz"):
        ec.process_near(np.zeros(160, np.float32), sample_rate_hz=48000)
    # A 10 ms frame at 44.1 kHz has the wrong length for a 16 kHz canceller.
    with pytest.raises(voicecore.AudioFormatError, match="frame size 160"):
        ec.process_near(np.zeros(441, np.float32))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rate_hz": 48000},
        {"sample_rate_hz": 44100},
        {"frame_ms": 0},
        {"frame_ms": 41},
        {"max_delay_ms": -1},
        {"tail_ms": 5},
    ],
)
def test_bad_config_raises_config_error(kwargs: dict[str, int]) -> None:
    with pytest.raises(voicecore.ConfigError):
        EchoCanceller(**kwargs)


def test_48k_message_says_resample() -> None:
    with pytest.raises(voicecore.ConfigError, match="resample"):
        EchoCanceller(sample_rate_hz=48000)


def _erle_tail(mic: np.ndarray, out: np.ndarray, lat: int, start: int) -> float:
    o = out[lat:]
    m = mic[: len(o)]
    return float(10 * np.log10(np.sum(m[start:] ** 2) / np.sum(o[start:] ** 2)))


def test_cancels_synthetic_echo_at_8_and_16k() -> None:
    for rate in (16000, 8000):
        far, mic = _signals(rate=rate)
        ec = EchoCanceller(sample_rate_hz=rate)
        f = ec.frame_size
        out = np.concatenate(
            [
                (ec.push_far(far[i : i + f]), ec.process_near(mic[i : i + f]))[1]
                for i in range(0, len(mic) // f * f, f)
            ]
        )
        assert _erle_tail(mic[: len(out)], out, ec.latency_samples, len(out) // 2) > 20.0
        assert ec.stats["converged"]
        assert abs(ec.stats["delay_ms"] - 30.0) <= 12.0  # bulk estimate, 4 ms steps


def test_burst_invariance() -> None:
    """Far pushed in bursts ahead of the near side gives the same output as interleaved pushes."""
    far, mic = _signals(2.0)
    n = len(mic) // FRAME * FRAME
    a = EchoCanceller()
    out_a = []
    for i in range(0, n, FRAME):
        a.push_far(far[i : i + FRAME])
        out_a.append(a.process_near(mic[i : i + FRAME]))
    b = EchoCanceller()
    out_b = []
    burst = 8 * FRAME
    for i in range(0, n, FRAME):
        if i % burst == 0:
            b.push_far(far[i : min(i + burst, n)])  # 80 ms at once, ahead of the mic
        out_b.append(b.process_near(mic[i : i + FRAME]))
    assert np.array_equal(np.concatenate(out_a), np.concatenate(out_b))
    # Near frames in bursts too: one call with several frames equals frame-by-frame calls.
    c = EchoCanceller()
    out_c = []
    chunk = 4 * FRAME
    for i in range(0, n, chunk):
        c.push_far(far[i : i + chunk])
        out_c.append(c.process_near(mic[i : i + chunk]))
    assert np.array_equal(np.concatenate(out_a), np.concatenate(out_c))
    assert b.stats["far_underrun_samples"] == 0


def test_far_stream_that_stops_does_not_freeze_or_corrupt() -> None:
    far, mic = _signals(4.0)
    ec = EchoCanceller()
    n = len(mic) // FRAME * FRAME
    stop = n // 2
    rng = np.random.default_rng(1)
    near_only = (0.05 * rng.standard_normal(n)).astype(np.float32)
    outs = []
    for i in range(0, n, FRAME):
        if i < stop:
            ec.push_far(far[i : i + FRAME])
            outs.append(ec.process_near(mic[i : i + FRAME]))
        else:  # far stream stops; the mic now carries only a near-end talker
            outs.append(ec.process_near(near_only[i : i + FRAME]))
    out = np.concatenate(outs)
    assert np.all(np.isfinite(out))
    assert ec.stats["far_underrun_samples"] == n - stop
    lat = ec.latency_samples
    # After the echo tail has died out the near-end signal passes at its level (no gating).
    tail_out = out[stop + 8000 + lat :]
    tail_in = near_only[stop + 8000 : n - lat]
    ratio_db = 10 * np.log10(np.sum(tail_out**2) / np.sum(tail_in**2))
    assert abs(ratio_db) < 0.5


def test_far_overflow_drops_oldest_and_counts() -> None:
    ec = EchoCanceller(max_delay_ms=100)
    ec.push_far(np.zeros(16000, np.float32))  # 1 s ahead: more than the FIFO holds
    assert ec.stats["far_dropped_samples"] > 0
    assert ec.far_buffered < 16000


def test_far_overflow_keeps_the_newest_samples() -> None:
    """Whatever the push pattern, an overflowing far FIFO drops exactly the oldest samples: every
    pushed sample is either buffered or counted as dropped, one 1 s burst and the same second in
    10 ms frames leave the same count and the same contents, and those contents are the newest
    samples (a canceller given only them cancels identically)."""
    far, mic = _signals(1.5)
    pushed = 16000

    def run(pushes: list[np.ndarray]) -> tuple[EchoCanceller, np.ndarray]:
        ec = EchoCanceller(max_delay_ms=100)
        for p in pushes:
            ec.push_far(p)
        out = np.concatenate([ec.process_near(mic[i : i + FRAME]) for i in range(0, 8000, FRAME)])
        return ec, out

    burst = EchoCanceller(max_delay_ms=100)
    burst.push_far(far[:pushed])
    kept = burst.far_buffered
    assert 0 < kept < pushed
    assert burst.stats["far_dropped_samples"] == pushed - kept
    framed = EchoCanceller(max_delay_ms=100)
    for i in range(0, pushed, FRAME):
        framed.push_far(far[i : i + FRAME])
    assert framed.far_buffered == kept
    assert framed.stats["far_dropped_samples"] == pushed - kept

    a, out_burst = run([far[:pushed]])
    b, out_framed = run([far[i : i + FRAME] for i in range(0, pushed, FRAME)])
    # The newest samples in whole frames: the few oldest of them drop again.
    last = -(-kept // FRAME) * FRAME
    c, out_newest = run([far[pushed - last : pushed]])
    assert c.stats["far_dropped_samples"] == last - kept
    assert np.array_equal(out_burst, out_framed)
    assert np.array_equal(out_burst, out_newest)
    # The far contents matter to the output (the check above is not vacuous).
    _, out_other = run([far[pushed - last - 1600 : pushed - 1600]])
    assert not np.array_equal(out_burst, out_other)


def test_threads_push_and_process_concurrently() -> None:
    """push_far from a playback thread, process_near from a capture thread and stats from a third,
    all at once: the binding's lock keeps the far accounting exact (every pushed sample consumed,
    buffered or dropped) and nothing deadlocks."""

    far, mic = _signals(3.0)
    n = len(mic) // FRAME * FRAME
    ec = EchoCanceller()
    outs: list[np.ndarray] = []
    stop = threading.Event()

    def playback() -> None:
        for i in range(0, n, FRAME):
            ec.push_far(far[i : i + FRAME])

    def capture() -> None:
        for i in range(0, n, FRAME):
            outs.append(ec.process_near(mic[i : i + FRAME]))

    def poll() -> None:
        while not stop.is_set():
            assert ec.stats["blocks"] >= 0

    threads = [threading.Thread(target=t) for t in (playback, capture, poll)]
    for t in threads:
        t.start()
    threads[0].join(timeout=60)
    threads[1].join(timeout=60)
    stop.set()
    threads[2].join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    s = ec.stats
    block = 64
    consumed = s["blocks"] * block - s["far_underrun_samples"]
    assert consumed + ec.far_buffered + s["far_dropped_samples"] == n
    out = np.concatenate(outs)
    assert out.shape == (n,)
    assert np.all(np.isfinite(out))


def test_int16_in_int16_out() -> None:
    far, mic = _signals(1.0)
    ec = EchoCanceller()
    f16 = (far * 32767).astype(np.int16)
    m16 = (mic * 32767).astype(np.int16)
    ec.push_far(f16[:1600])
    out = ec.process_near(m16[:1600])
    assert out.dtype == np.int16
    assert out.shape == (1600,)


def test_stats_and_reset() -> None:
    far, mic = _signals(2.0)
    ec = EchoCanceller()
    for i in range(0, 32000, FRAME):
        ec.push_far(far[i : i + FRAME])
        ec.process_near(mic[i : i + FRAME])
    s = ec.stats
    assert set(s) >= {"delay_ms", "erle_db", "converged", "double_talk"}
    assert s["erle_db"] > 10.0
    ec.reset()
    s = ec.stats
    assert s["delay_ms"] == -1.0
    assert not s["converged"]
    assert s["blocks"] == 0
    assert ec.latency_ms == pytest.approx(6.0)
