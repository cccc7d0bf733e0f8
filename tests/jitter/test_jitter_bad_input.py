"""Bad input: clear voicecore errors for caller bugs, counted drops for bad packets; never stuck."""

from __future__ import annotations

import math

import numpy as np
import pytest
from jitter_helpers import packetize, play, voiced

import voicecore
from voicecore.dsp.jitter import l16_payload

PKT = 960


def _good(i: int) -> bytes:
    return l16_payload(np.zeros(PKT, np.float32) + 0.01 * (i % 7))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rate_hz": 22050},
        {"num_channels": 0},
        {"num_channels": 9},
        {"min_delay_ms": -1},
        {"max_delay_ms": 10},
        {"min_delay_ms": 500, "max_delay_ms": 100},
        {"sample_rate_hz": 48000.0},
    ],
)
def test_bad_config_raises_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(voicecore.ConfigError):
        voicecore.JitterBuffer(**kwargs)  # type: ignore[arg-type]


def test_decoder_without_decode_is_a_config_error() -> None:
    with pytest.raises(voicecore.ConfigError, match="decode"):
        voicecore.JitterBuffer(decoder=object())  # type: ignore[arg-type]


@pytest.mark.parametrize("arrival", [math.nan, -1.0, math.inf])
def test_bad_arrival_time_raises(arrival: float) -> None:
    jb = voicecore.JitterBuffer()
    with pytest.raises(voicecore.AudioFormatError, match="arrival_ms"):
        jb.put(1, 960, _good(1), arrival)
    assert jb.stats.packets_received == 0


@pytest.mark.parametrize("now", [math.nan, -5.0, math.inf])
def test_bad_now_raises(now: float) -> None:
    jb = voicecore.JitterBuffer()
    with pytest.raises(voicecore.AudioFormatError, match="now_ms"):
        jb.get(now)


@pytest.mark.parametrize(("seq", "ts"), [(-1, 0), (65536, 0), (0, -1), (0, 2**32)])
def test_out_of_range_header_fields_raise(seq: int, ts: int) -> None:
    jb = voicecore.JitterBuffer()
    with pytest.raises(voicecore.AudioFormatError):
        jb.put(seq, ts, _good(0), 10.0)


def test_payload_of_wrong_type_raises() -> None:
    jb = voicecore.JitterBuffer()
    with pytest.raises(voicecore.AudioFormatError, match="payload"):
        jb.put(0, 0, np.zeros(10, np.float64), 1.0)  # type: ignore[arg-type]


def test_malformed_l16_payloads_are_counted_and_concealed() -> None:
    x = voiced(60 * PKT)
    pk = [(s, t, p, i * 20.0 + 40.0) for i, (s, t, p) in enumerate(packetize(x, [PKT] * 60))]
    pk[20] = (pk[20][0], pk[20][1], pk[20][2][:-1], pk[20][3])  # odd byte count
    pk[30] = (pk[30][0], pk[30][1], b"", pk[30][3])  # empty
    pk[40] = (pk[40][0], pk[40][1], b"\x00" * 200_000, pk[40][3])  # absurdly large
    jb = voicecore.JitterBuffer()
    results = [jb.put(*p) for p in pk[:1]]
    assert results == ["accepted"]
    jb.reset()
    out, kinds, _, _ = play(jb, pk, until_ms=1250)
    st = jb.stats
    assert st.packets_malformed == 3
    assert st.packets_lost == 3  # they never became audio, so their spans were concealed
    assert kinds.count("expand") >= 3
    assert np.all(np.isfinite(out))


class _Flaky:
    """Decodes L16, raises on every 5th packet, and its concealment raises too."""

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, payload: bytes) -> np.ndarray:
        self.calls += 1
        if self.calls % 5 == 0:
            raise RuntimeError("codec exploded")
        return np.frombuffer(payload, ">i2").astype(np.float32) / 32768.0

    def conceal(self, num_samples: int) -> np.ndarray:
        raise ValueError("no PLC today")


class _Garbage:
    """Returns arrays of the wrong dtype/shape/content."""

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, payload: bytes) -> object:
        self.calls += 1
        return [
            np.zeros((PKT, 3), np.float32),
            np.full(PKT, np.nan, np.float32),
            "pcm",
            np.zeros(PKT, np.complex64),
            np.zeros(0, np.float32),
        ][self.calls % 5]

    def conceal(self, num_samples: int) -> np.ndarray:
        return np.zeros(num_samples + 1, np.float32)  # wrong length


@pytest.mark.parametrize("decoder_cls", [_Flaky, _Garbage])
def test_failing_decoder_is_contained(decoder_cls: type) -> None:
    x = voiced(100 * PKT)
    pk = [(s, t, p, i * 20.0 + 40.0) for i, (s, t, p) in enumerate(packetize(x, [PKT] * 100))]
    jb = voicecore.JitterBuffer(decoder=decoder_cls())
    out, kinds, _, _ = play(jb, pk, until_ms=2100)
    st = jb.stats
    assert st.decoder_errors >= 20
    assert len(kinds) >= 200  # every get() returned a frame: nothing stalled
    assert np.all(np.isfinite(out))
    assert np.max(np.abs(out)) <= 1.5
    assert jb.last_decoder_error != ""
    if decoder_cls is _Flaky:
        assert kinds.count("normal") > 100  # the good packets still play


def test_get_without_any_packet_is_silence_forever() -> None:
    jb = voicecore.JitterBuffer(sample_rate_hz=16000, num_channels=2)
    for i in range(50):
        f = jb.get(i * 10.0)
        assert f.kind == "silence"
        assert f.samples.shape == (160, 2)
        assert f.samples.dtype == np.float32
        assert not f.samples.any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_garbage_stream_never_crashes_or_stalls(seed: int) -> None:
    """Random sequence numbers, timestamps, payload sizes and arrival jumps (restarts, huge
    gaps, duplicates, odd lengths): every get() still returns 10 ms of finite audio."""
    rng = np.random.default_rng(seed)
    jb = voicecore.JitterBuffer(sample_rate_hz=16000)
    now = 0.0
    seq, ts = int(rng.integers(0, 65536)), int(rng.integers(0, 2**32))
    for _ in range(3000):
        r = rng.random()
        if r < 0.05:
            seq, ts = int(rng.integers(0, 65536)), int(rng.integers(0, 2**32))  # jump anywhere
        elif r < 0.9:
            seq, ts = (seq + int(rng.integers(-3, 4))) % 65536, (ts + int(rng.integers(-640, 2000))) % 2**32
        size = int(rng.choice([0, 1, 159, 160, 320, 640, 1920, 5000]))
        payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        jb.put(seq, ts, payload, now + float(rng.exponential(30.0)))
        if rng.random() < 0.6:
            f = jb.get(now)
            assert f.samples.shape == (160,)
            assert np.all(np.isfinite(f.samples))
            now += 10.0 if rng.random() < 0.95 else float(rng.uniform(0, 5000))
    st = jb.stats
    assert st.packets_received + st.packets_malformed == 3000
