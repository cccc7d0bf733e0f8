"""Sequence handling: wrap-around, duplicates, reordering, late packets, DTX, packet sizes, restart."""

from __future__ import annotations

import numpy as np
import pytest
from jitter_helpers import RATE, aligned_snr_db, packetize, play, voiced

import voicecore
from voicecore.dsp.jitter import l16_payload

PKT = 960


def _stream(n: int, seq0: int = 0, ts0: int = 0, delay_ms: float = 40.0):
    x = voiced(n * PKT)
    pk = packetize(x, [PKT] * n, seq0, ts0)
    return x, [(s, t, p, i * 20.0 + delay_ms) for i, (s, t, p) in enumerate(pk)]


def _expands_before(kinds: list[str], stamps: list[int], ts0: int, end: int) -> int:
    """Concealed frames before the media position `end` (the stream's own end underruns)."""
    n = 0
    for k, t in zip(kinds, stamps, strict=False):
        if (t - ts0) % 2**32 >= end:
            break
        n += k == "expand"
    return n


def test_wraparound_of_sequence_and_timestamp_is_seamless() -> None:
    seq0, ts0 = 65536 - 40, 2**32 - 30 * PKT  # both wrap in the first second
    x, pk = _stream(150, seq0, ts0)
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, _ = play(jb, pk, until_ms=3500)
    st = jb.stats
    assert st.packets_lost == 0
    assert st.packets_late == 0
    assert st.resyncs == 0
    assert _expands_before(kinds, stamps, ts0, 149 * PKT) == 0
    assert aligned_snr_db(x, out, stamps, ts0, kinds) > 60.0
    # every media frame of the stream played exactly once, in order
    media = [(t - ts0) % 2**32 for t, k in zip(stamps, kinds, strict=False) if k == "normal"]
    assert media == sorted(media)
    assert media[-1] >= 148 * PKT


def test_duplicates_are_counted_and_ignored() -> None:
    x, pk = _stream(100)
    dup = pk + [(s, t, p, a + 3.0) for s, t, p, a in pk]
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, _ = play(jb, dup, until_ms=2500)
    assert jb.stats.packets_duplicate == 100
    assert jb.stats.packets_lost == 0
    assert aligned_snr_db(x, out, stamps, 0, kinds) > 60.0


def test_reordered_packets_play_in_order() -> None:
    x, pk = _stream(100)
    # every fourth packet arrives 5 ms after its successor
    pk = [(s, t, p, a + (25.0 if (i % 4 == 0) else 0.0)) for i, (s, t, p, a) in enumerate(pk)]
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, _ = play(jb, pk, until_ms=2500)
    st = jb.stats
    assert st.packets_reordered >= 20
    assert st.packets_lost == 0
    assert st.packets_late <= 1
    # once the target has learnt the reordering (after 1 s) the audio is bit-exact
    later = [k if i >= 100 else "skip" for i, k in enumerate(kinds)]
    assert later.count("normal") > 80
    assert aligned_snr_db(x, out, stamps, 0, later, ("normal",)) > 60.0


def test_late_packet_is_counted_dropped_and_concealed() -> None:
    x, pk = _stream(100)
    pk[50] = (pk[50][0], pk[50][1], pk[50][2], pk[50][3] + 600.0)  # far beyond any target
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, _ = play(jb, pk, until_ms=2000)  # stop before the stream's end underrun
    st = jb.stats
    assert st.packets_late == 1
    assert st.packets_lost == 0  # it did arrive: counted late, not lost
    # its 20 ms were concealed (partly skipped when above target), nothing else
    assert 5.0 <= st.concealed_ms <= 40.0
    assert "expand" in kinds


def test_dtx_gap_resumes_without_stall_or_loss() -> None:
    x = voiced(100 * PKT)
    pk = packetize(x, [PKT] * 100)
    # 50 packets, then the sender is silent for 2 s (ts jumps, seq continues)
    gap = 2 * RATE
    arrivals = []
    for i, (s, t, p) in enumerate(pk):
        shift = gap if i >= 50 else 0
        arrivals.append((s, (t + shift) % 2**32, p, i * 20.0 + 40.0 + shift * 1000 / RATE))
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, times = play(jb, arrivals, until_ms=5000)
    st = jb.stats
    assert st.packets_lost == 0
    assert st.packets_late == 0
    # the first packet after the pause plays within 60 ms of its arrival (no stall behind the gap)
    first_after = next(
        tm for tm, ts, k in zip(times, stamps, kinds, strict=False) if k == "normal" and ts >= 50 * PKT + gap
    )
    assert first_after - arrivals[50][3] <= 60.0
    # and everything after it is back to the original audio
    assert (
        aligned_snr_db(
            np.concatenate([x[: 50 * PKT], np.zeros(gap, np.float32), x[50 * PKT :]]), out, stamps, 0, kinds
        )
        > 40.0
    )
    assert st.comfort_noise_ms > 1000.0  # the pause itself is comfort noise, not concealment


def test_variable_packet_durations() -> None:
    sizes = [480, 960, 1920, 2880] * 12  # 10/20/40/60 ms
    x = voiced(sum(sizes))
    pk = packetize(x, sizes)
    arrivals = []
    pos = 0
    for (s, t, p), n in zip(pk, sizes, strict=False):
        pos += n
        arrivals.append((s, t, p, pos * 1000 / RATE + 30.0))  # sent when complete
    for min_delay in (0, 80):
        jb = voicecore.JitterBuffer(min_delay_ms=min_delay)
        out, kinds, stamps, _ = play(jb, arrivals, until_ms=sum(sizes) * 1000 / RATE + 500)
        st = jb.stats
        assert st.packets_lost == 0
        assert st.packets_late == 0
        assert st.packets_malformed == 0
        if min_delay:  # enough buffering for the 60 ms packets from the start: bit-exact
            assert _expands_before(kinds, stamps, 0, sum(sizes) - 2880) == 0
            assert aligned_snr_db(x, out, stamps, 0, kinds, ("normal",)) > 60.0
        assert aligned_snr_db(x, out, stamps, 0, kinds, ("normal", "accelerate", "decelerate")) > 15.0


def test_sender_restart_resynchronises() -> None:
    x1, pk1 = _stream(50, seq0=1000, ts0=5_000_000)
    x2 = voiced(50 * PKT, f0=190.0, seed=3)
    pk2 = [
        (s, t, p, 1000.0 + i * 20.0 + 40.0)
        for i, (s, t, p) in enumerate(packetize(x2, [PKT] * 50, seq0=40000, ts0=3_000_000_000))
    ]
    jb = voicecore.JitterBuffer()
    out, kinds, stamps, times = play(jb, pk1 + pk2, until_ms=2600)
    st = jb.stats
    assert st.resyncs == 1
    assert st.packets_late == 0
    # the new stream starts playing within 60 ms of its first packet and is then intact
    first_new = next(tm for tm, ts in zip(times, stamps, strict=False) if ts >= 3_000_000_000)
    assert first_new - pk2[0][3] <= 60.0
    assert (
        aligned_snr_db(
            x2,
            out,
            stamps,
            3_000_000_000,
            [k if ts >= 3_000_000_000 + 2 * PKT else "skip" for k, ts in zip(kinds, stamps, strict=False)],
        )
        > 40.0
    )


def test_put_rtp_takes_aiortc_packets() -> None:
    from aiortc.rtp import RtpPacket

    x, pk = _stream(30)
    jb = voicecore.JitterBuffer()
    for s, t, p, a in pk:
        assert (
            jb.put_rtp(RtpPacket(payload_type=96, sequence_number=s, timestamp=t, payload=p), a) == "accepted"
        )
    assert jb.stats.packets_received == 30


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (16000, 1), (44100, 2), (48000, 2)])
def test_other_rates_and_channels(rate: int, channels: int) -> None:
    pkt = rate // 50
    n = 100
    t = np.arange(n * pkt) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * (150 + 50 * c) * t) for c in range(channels)], 1)
    x = x.astype(np.float32)
    pk = []
    for i in range(n):
        if i in (40, 41, 70):
            continue  # lost
        pk.append((i, i * pkt, l16_payload(x[i * pkt : (i + 1) * pkt]), i * 20.0 + 35.0 + (i % 3) * 4.0))
    jb = voicecore.JitterBuffer(sample_rate_hz=rate, num_channels=channels)
    out, kinds, stamps, _ = play(jb, pk, until_ms=n * 20.0)
    st = jb.stats
    assert st.packets_lost == 3
    assert st.packets_late == 0
    frame = rate // 100
    y = out.reshape(-1, channels)
    assert y.shape[0] == len(kinds) * frame
    exact = sum(
        bool(np.max(np.abs(y[i * frame : (i + 1) * frame] - x[ts : ts + frame])) < 1e-4)
        for i, (ts, k) in enumerate(zip(stamps, kinds, strict=True))
        if k == "normal" and ts + frame <= len(x)
    )
    assert exact > 0.8 * len(kinds)
