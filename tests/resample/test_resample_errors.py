"""Bad input raises typed voicecore errors with a message saying what to do."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import voicecore
from voicecore import AudioFormatError, ConfigError, Resampler


def test_properties() -> None:
    r = Resampler(44100, 16000, num_channels=2, quality="very_high")
    assert (r.in_rate_hz, r.out_rate_hz, r.num_channels, r.quality) == (44100, 16000, 2, "very_high")
    assert r.ratio == Fraction(160, 441)
    assert isinstance(r.ratio, Fraction)
    assert (r.interpolation, r.decimation) == (160, 441)
    assert 0 < r.latency_ms < 20
    assert r.latency_ms == pytest.approx(1000 * r.latency_frames / 44100)
    assert voicecore.Resampler is Resampler
    assert "Resampler(in_rate_hz=44100" in repr(r)
    with pytest.raises(AttributeError):
        r.latency_ms = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("rate", [7999, 192001, 0, -16000, 1_000_000])
def test_unsupported_rate(rate: int) -> None:
    with pytest.raises(ConfigError, match=r"in_rate_hz=.* not supported; use an integer rate from 8000"):
        Resampler(rate, 16000)
    with pytest.raises(ConfigError, match=r"out_rate_hz=.* not supported"):
        Resampler(16000, rate)


def test_non_integer_rate_and_bad_channels() -> None:
    with pytest.raises(ConfigError, match="must be an integer"):
        Resampler(16000.0, 48000)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be an integer"):
        Resampler(16000, 48000, num_channels=True)
    with pytest.raises(ConfigError, match="num_channels=0 is not supported"):
        Resampler(16000, 48000, num_channels=0)


def test_unknown_quality() -> None:
    with pytest.raises(ConfigError, match="unknown resampler quality 'best'; use one of 'quick'"):
        Resampler(16000, 48000, quality="best")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="quality must be one of"):
        Resampler(16000, 48000, quality=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8, np.complex64, np.float16])
def test_wrong_dtype(dtype: type) -> None:
    r = Resampler(48000, 16000)
    with pytest.raises(AudioFormatError, match=r"float32 or int16 .*astype\(np.float32\)"):
        r.process(np.zeros(480, dtype))


def test_non_contiguous_and_bad_layouts() -> None:
    r = Resampler(48000, 16000, num_channels=2)
    x = np.zeros((480, 4), np.float32)
    with pytest.raises(AudioFormatError, match="C-contiguous.*ascontiguousarray"):
        r.process(x[:, ::2])
    with pytest.raises(AudioFormatError, match="C-contiguous"):
        r.process(np.asfortranarray(np.zeros((480, 2), np.float32)))
    with pytest.raises(AudioFormatError, match="1-D but the stream has 2 channels"):
        r.process(np.zeros(480, np.float32))
    with pytest.raises(AudioFormatError, match="has 3 channels but the stream was created with num_chan"):
        r.process(np.zeros((480, 3), np.float32))
    with pytest.raises(AudioFormatError, match="must be 1-D"):
        r.process(np.zeros((2, 480, 2), np.float32))
    mono = Resampler(48000, 16000)
    with pytest.raises(AudioFormatError, match="C-contiguous"):
        mono.process(np.zeros(960, np.float32)[::2])
    with pytest.raises(AudioFormatError, match="must be a numpy array, got list"):
        mono.process([0.0, 1.0])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad_value", "match"),
    [
        (np.nan, "NaN or Inf"),
        (np.inf, "NaN or Inf"),
        (-np.inf, "NaN or Inf"),
        # Finite but not audio: near float's range the filter's sums overflowed (3e38 in, Inf out).
        (3e38, "value 3e\\+38 .magnitude 65536 or more"),
        (-65536.0, "value -65536 .magnitude 65536 or more"),
    ],
)
def test_unusable_samples_are_rejected_before_any_state_change(bad_value: float, match: str) -> None:
    r = Resampler(48000, 16000)
    good = np.ones(4800, np.float32)
    ref = np.concatenate([Resampler(48000, 16000).process(good), Resampler(48000, 16000).flush()])
    bad = good.copy()
    bad[1234] = bad_value
    with pytest.raises(AudioFormatError, match=match):
        r.process(bad)
    got = r.process(good)
    np.testing.assert_array_equal(got, ref[: len(got)])


def test_int16_scaled_float_samples_are_still_taken() -> None:
    out = Resampler(48000, 16000).process(np.full(480, 32768.0, np.float32))
    assert np.all(np.isfinite(out))
    assert np.max(np.abs(out)) > 30000.0


def test_mixed_dtypes_within_a_stream() -> None:
    r = Resampler(48000, 16000)
    r.process(np.zeros(480, np.int16))
    with pytest.raises(AudioFormatError, match="started with int16 samples but got float32; keep one dtype"):
        r.process(np.zeros(480, np.float32))
    tail = r.flush()
    assert tail.dtype == np.int16
    # flush() ended the stream: a new dtype is fine now.
    assert r.process(np.zeros(480, np.float32)).dtype == np.float32
