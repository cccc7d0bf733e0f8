"""Opus over libopus: round trip, PLC and in-band FEC, and the buffer using them."""

from __future__ import annotations

import numpy as np
import pytest
from jitter_helpers import play

import voicecore

PKT = 960


@pytest.fixture(scope="module")
def speech(eval_dir):  # noqa: ANN001, ANN201
    import jitter_sim as js

    return js.speech_signal(eval_dir, 12.0, seed=3)


def _encode(x48: np.ndarray) -> list[bytes]:
    enc = voicecore.OpusEncoder(48000, 1, bitrate=24000, inband_fec=True, packet_loss_perc=10)
    return [enc.encode(x48[i * PKT : (i + 1) * PKT]) for i in range(len(x48) // PKT)]


def test_roundtrip_and_packet_size(speech) -> None:  # noqa: ANN001
    _, x48 = speech
    pk = _encode(x48)
    dec = voicecore.OpusDecoder()
    assert all(dec.packet_samples(p) == PKT for p in pk[:20])
    y = np.concatenate([dec.decode(p) for p in pk])
    # Opus has 6.5 ms of algorithmic delay (312 samples at 48 kHz)
    d = 312
    err = y[d:] - x48[: len(y) - d]
    snr = 10 * np.log10(np.sum(x48[: len(y) - d] ** 2) / np.sum(err**2))
    assert snr > 5.0


def test_fec_beats_plc_beats_silence_on_lost_packets(speech) -> None:  # noqa: ANN001
    _, x48 = speech
    pk = _encode(x48)
    ref_dec = voicecore.OpusDecoder()
    ref = np.concatenate([ref_dec.decode(p) for p in pk])
    lost = set(range(15, len(pk) - 1, 9))

    def run(mode: str) -> float:
        d = voicecore.OpusDecoder()
        out = []
        for i, p in enumerate(pk):
            if i not in lost:
                out.append(d.decode(p))
            elif mode == "plc":
                out.append(d.conceal(PKT))
            elif mode == "fec":
                out.append(d.decode_fec(pk[i + 1], PKT))
            else:
                out.append(np.zeros(PKT, np.float32))
        y = np.concatenate(out)
        seg = np.concatenate([np.arange(i * PKT, (i + 1) * PKT) for i in lost])
        return float(10 * np.log10(np.sum(ref[seg] ** 2) / np.sum((y[seg] - ref[seg]) ** 2)))

    zero, plc, fec = run("zero"), run("plc"), run("fec")
    assert plc > zero + 1.0, (zero, plc, fec)
    assert fec > plc + 3.0, (zero, plc, fec)


def test_malformed_opus_packet_raises_audio_format_error() -> None:
    dec = voicecore.OpusDecoder()
    with pytest.raises(voicecore.AudioFormatError):
        dec.decode(b"\xff\xff\xff")
    with pytest.raises(voicecore.AudioFormatError):
        dec.decode(b"")
    with pytest.raises(voicecore.ConfigError):
        voicecore.OpusDecoder(sample_rate_hz=44100)


def test_opus_errors_say_what_to_do() -> None:
    from voicecore.codecs import CodecClosedError
    from voicecore.dsp.jitter import l16_payload

    dec = voicecore.OpusDecoder()
    with pytest.raises(voicecore.AudioFormatError, match=r"drop this packet and call conceal"):
        dec.decode(b"\xff\xff\xff")
    dec.close()
    with pytest.raises(CodecClosedError, match="create a new OpusDecoder"):
        dec.conceal(960)
    assert issubclass(CodecClosedError, voicecore.VoicecoreError)
    enc = voicecore.OpusEncoder()
    with pytest.raises(voicecore.AudioFormatError, match=r"NaN or Inf; replace them"):
        enc.encode(np.full(960, np.nan, np.float32))
    enc.close()
    with pytest.raises(CodecClosedError, match="create a new OpusEncoder"):
        enc.encode(np.zeros(960, np.float32))
    with pytest.raises(voicecore.AudioFormatError, match=r"nan_to_num"):
        l16_payload(np.full(960, np.nan, np.float32))


def test_buffer_with_opus_plc_fec_beats_generic_concealment(speech, eval_dir) -> None:  # noqa: ANN001
    """On a generated bursty-loss trace, the PESQ of the played-out speech is higher with libopus
    PLC/FEC than with voicecore's generic concealment over the same Opus packets."""
    import jitter_sim as js

    x16, x48 = speech
    tr = js.generate_trace("gilbert_elliott_bursty", seed=23, duration_s=12.0)
    pk = js._wire(x48, tr.n, "opus")
    plc = js.run_ours(tr, x48, "opus", plc=True, payloads=pk)
    generic = js.run_ours(tr, x48, "opus", plc=False, payloads=pk)
    q_plc, q_gen = js.pesq_chunks(x16, plc, chunk_s=6.0), js.pesq_chunks(x16, generic, chunk_s=6.0)
    assert plc.extra["stats"].packets_lost > 20
    assert q_plc > q_gen + 0.1, (q_plc, q_gen)


def test_opus_decoder_in_buffer_plays_stereo() -> None:
    t = np.arange(48000) / 48000
    x = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], 1).astype(np.float32)
    enc = voicecore.OpusEncoder(48000, 2, bitrate=64000)
    pk = [
        (i, i * PKT, enc.encode(np.ascontiguousarray(x[i * PKT : (i + 1) * PKT])), i * 20.0 + 30.0)
        for i in range(50)
    ]
    jb = voicecore.JitterBuffer(num_channels=2, decoder=voicecore.OpusDecoder(48000, 2))
    out, kinds, _, _ = play(jb, pk, until_ms=1000)
    assert kinds.count("normal") > 80
    y = out.reshape(-1, 2)[2000:40000].astype(np.float64)
    # Each channel carries its own tone (a swapped, duplicated or noise channel fails): the
    # fitted tone holds most of the channel's power and the other channel's tone is absent.
    t_out = np.arange(len(y)) / 48000
    for ch, (own, other) in enumerate(((220.0, 330.0), (330.0, 220.0))):

        def power(f: float, ch: int = ch) -> float:
            basis = np.stack([np.sin(2 * np.pi * f * t_out), np.cos(2 * np.pi * f * t_out)], 1)
            coef = np.linalg.lstsq(basis, y[:, ch], rcond=None)[0]
            return float(np.sum(coef**2) / 2)

        total = float(np.mean(y[:, ch] ** 2))
        assert power(own) > 0.8 * total, (ch, power(own), total)
        assert power(other) < 0.01 * total, (ch, power(other), total)
