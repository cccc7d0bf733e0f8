"""Spec tables: passband flatness, THD+N of a 1 kHz sine and alias/stopband rejection.

Every figure is measured through the streaming kernel (resample_metrics). The thresholds
are the issue's targets where it sets one ("high": THD+N and alias <= -120 dB, 0.01 dB
flat to 0.875 x lower Nyquist, latency <= 5 ms with a lower rate >= 16 kHz; "very_high":
<= -150 dB) and the documented preset figures otherwise; a broken filter, a wrong phase
table or a drifting position misses them by tens of dB.
"""

from __future__ import annotations

import numpy as np
import pytest
import resample_metrics as m

from voicecore import Resampler

# Rate pairs of a voice agent: WebRTC 48k, STT/VAD 16k, TTS 22.05k/24k, CD 44.1k, telephony 8k.
PAIRS = [
    (48000, 16000),
    (16000, 48000),
    (44100, 16000),
    (44100, 48000),
    (22050, 16000),
    (24000, 48000),
    (8000, 16000),
    (48000, 8000),
]

# preset -> (flat-to fraction of lower Nyquist, max THD+N dB, max alias dB, min stopband dB)
SPEC = {
    "quick": (0.80, -85.0, -72.0, 70.0),
    "medium": (0.85, -110.0, -95.0, 95.0),
    "high": (0.875, -120.0, -120.0, 120.0),
    "very_high": (0.90, -150.0, -150.0, 150.0),
}


@pytest.mark.parametrize("quality", list(SPEC))
@pytest.mark.parametrize(("in_rate", "out_rate"), PAIRS)
def test_thd_n_of_1khz_sine(quality: str, in_rate: int, out_rate: int) -> None:
    limit = SPEC[quality][1]
    thd = m.thd_n_db(in_rate, out_rate, quality, freq_hz=1000.0, seconds=0.3)
    assert thd <= limit, f"THD+N {thd:.1f} dB > {limit} dB"


@pytest.mark.parametrize("quality", list(SPEC))
@pytest.mark.parametrize(
    ("in_rate", "out_rate", "freq_hz"),
    [
        (48000, 16000, 9000.0),
        (44100, 16000, 9000.0),
        (22050, 16000, 10000.0),
        (48000, 8000, 5000.0),
        (48000, 16000, 20000.0),
        (44100, 16000, 15500.0),
    ],
)
def test_alias_rejection(quality: str, in_rate: int, out_rate: int, freq_hz: float) -> None:
    limit = SPEC[quality][2]
    rej = m.alias_rejection_db(in_rate, out_rate, quality, freq_hz)
    assert rej <= limit, f"{freq_hz} Hz leaks at {rej:.1f} dB > {limit} dB"


@pytest.mark.parametrize("quality", list(SPEC))
@pytest.mark.parametrize(
    ("in_rate", "out_rate"), [(48000, 16000), (16000, 48000), (44100, 16000), (24000, 48000)]
)
def test_passband_flatness(quality: str, in_rate: int, out_rate: int) -> None:
    flat_to = SPEC[quality][0]
    nyq_low = min(in_rate, out_rate) / 2
    for frac in (0.0625, 0.25, 0.5, 0.7, 0.8, flat_to):
        g = m.gain_db(in_rate, out_rate, quality, frac * nyq_low)
        assert abs(g) <= 0.01, f"gain {g:.4f} dB at {frac} x Nyquist"
    # The edge measured on the prototype agrees with the tones.
    assert m.passband_edge(Resampler(in_rate, out_rate, quality=quality)) >= flat_to


@pytest.mark.parametrize("quality", list(SPEC))
@pytest.mark.parametrize(("in_rate", "out_rate"), [(48000, 16000), (16000, 48000), (44100, 16000)])
def test_stopband_attenuation(quality: str, in_rate: int, out_rate: int) -> None:
    att = m.stopband_attenuation_db(Resampler(in_rate, out_rate, quality=quality))
    assert att >= SPEC[quality][3]


def test_high_latency_under_5ms_for_voice_rates() -> None:
    for in_rate, out_rate in [
        (48000, 16000),
        (16000, 48000),
        (44100, 16000),
        (22050, 16000),
        (24000, 48000),
        (44100, 48000),
        (16000, 24000),
    ]:
        r = Resampler(in_rate, out_rate, quality="high")
        assert r.latency_ms <= 5.0, (in_rate, out_rate, r.latency_ms)
    # Latency is the lookahead: output frame 0 (input time 0) appears together with the
    # input frame latency_frames sample periods later.
    r = Resampler(48000, 16000, quality="high")
    assert len(r.process(np.zeros(r.latency_frames, np.float32))) == 0
    assert len(r.process(np.zeros(1, np.float32))) == 1


def test_output_is_time_aligned_with_input() -> None:
    # Delay compensation: a sine resampled matches the same sine sampled at the output rate.
    for in_rate, out_rate in [(48000, 16000), (16000, 48000), (44100, 16000)]:
        x = m.tone(in_rate, 1000.0, 0.2).astype(np.float32)
        y = m.run(Resampler(in_rate, out_rate), x).astype(np.float64)
        ref = m.tone(out_rate, 1000.0, 0.2)[: len(y)]
        skip = 200
        err = y[skip:-skip] - ref[skip:-skip]
        assert 10 * np.log10(np.mean(err**2) / np.mean(ref**2)) < -120


def test_int16_thd_is_at_the_16_bit_floor() -> None:
    # int16 rounding of input and output limits a -6 dBFS sine to about -92 dB (6.02 x 16
    # + 1.76 - 6 dB, plus the share of input noise kept in band); the filter adds nothing.
    thd = m.thd_n_db(48000, 16000, "high", dtype=np.int16)
    assert -96.0 < thd < -90.0


@pytest.mark.parametrize("quality", ["quick", "high", "very_high"])
def test_interpolated_coefficient_mode(quality: str) -> None:
    # 48000 -> 44101 reduces to L = 44101: too many exact phases, so the table is
    # interpolated; its error must stay well under the preset's stopband.
    r = Resampler(48000, 44101, quality=quality)
    assert r.interpolated_phases
    limit = {"quick": -85.0, "high": -120.0, "very_high": -140.0}[quality]
    thd = m.thd_n_db(48000, 44101, quality, seconds=0.2)
    assert thd <= limit
