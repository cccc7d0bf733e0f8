"""Trace-driven simulation shared by bench/eval_jitter.py, bench/bench_jitter.py and tests/jitter.

Packets of 20 ms carry real speech (the 16 kHz corpus sources, upsampled to 48 kHz with
``scipy.signal.resample_poly``) over a delay/loss trace (``seq,send_ms,arrival_ms,lost``).
Receivers are driven with the trace's arrival times on a simulated clock:

* ours: ``voicecore.JitterBuffer`` - every packet is ``put`` at its arrival time and ``get`` is
  called every 10 ms;
* aiortc: its own ``JitterBuffer(capacity=16, prefetch=4)`` fed its own ``RtpPacket`` objects in
  arrival order, the way ``RTCRtpReceiver._handle_rtp_packet`` does; the frames it releases are
  queued (aiortc's decoder thread and unbounded queue) and a real-time sink takes one 20 ms
  frame every 20 ms, playing silence when the queue is empty (aiortc has no concealment);
* fixed: an oracle fixed playout point at the trace's p95 one-way delay; later packets are
  silence.

Speech quality is wide-band PESQ (``pesq`` package, 16 kHz) of the played-out audio against the
original, computed on 10 s chunks of media time (each chunk is located in the output through
the frames' RTP timestamps) and averaged.
"""

from __future__ import annotations

import csv
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

import voicecore
from voicecore.dsp.jitter import l16_payload

RATE = 48000
PTIME_MS = 20.0
PKT = 960  # samples per 20 ms packet at 48 kHz
FRAME = 480  # samples per 10 ms frame
# RTP fields start near their wrap points so every run crosses both wrap-arounds.
SEQ0 = 65536 - 700
TS0 = 2**32 - 48000 * 20


@dataclass
class Trace:
    name: str
    send_ms: NDArray[np.float64]
    arrival_ms: NDArray[np.float64]  # NaN when lost
    lost: NDArray[np.bool_]

    @property
    def n(self) -> int:
        return len(self.send_ms)

    def delays(self) -> NDArray[np.float64]:
        return (self.arrival_ms - self.send_ms)[~self.lost]

    def head(self, n: int) -> Trace:
        return Trace(self.name, self.send_ms[:n], self.arrival_ms[:n], self.lost[:n])

    def segment_quantile_ms(self, q: float = 95.0, segment_s: float = 2.0) -> float:
        """Mean over ``segment_s`` segments of the network's q-th percentile one-way delay.

        The delay an oracle would spend if it re-chose its fixed playout point every segment:
        unlike the whole-trace p95, it follows a route change, so an adaptive buffer is held to
        the network it is on now, and a buffer with a pinned target cannot hide behind the
        slowest part of the trace.
        """
        per = max(1, int(segment_s * 1000 / PTIME_MS))
        d = self.arrival_ms - self.send_ms
        vals = []
        for a in range(0, self.n, per):
            seg = d[a : a + per]
            seg = seg[~np.isnan(seg)]
            if len(seg):
                vals.append(float(np.percentile(seg, q)))
        return float(np.mean(vals)) if vals else float("nan")


def load_trace(path: Path) -> Trace:
    send, arr, lost = [], [], []
    with open(path) as fh:
        for row in csv.DictReader(fh):
            send.append(float(row["send_ms"]))
            is_lost = row["lost"] == "1"
            lost.append(is_lost)
            arr.append(float("nan") if is_lost else float(row["arrival_ms"]))
    return Trace(path.stem, np.array(send), np.array(arr), np.array(lost))


# ----------------------------------------------------------------------------- trace models
# The same models as ../shared/eval/make_corpus.py (section d), drawn with other seeds.
def _gilbert_elliott(rng: np.random.Generator, n: int, p_gb: float, p_bg: float, lg: float, lb: float) -> Any:
    lost = np.zeros(n, bool)
    bad = False
    for i in range(n):
        bad = (rng.random() < p_gb) if not bad else (rng.random() >= p_bg)
        lost[i] = rng.random() < (lb if bad else lg)
    return lost


def _stall(send: Any, delay: Any, t0: float, t1: float, drain_ms: float) -> Any:
    delay = delay.copy()
    q_free = -np.inf
    for i in range(len(send)):
        arr = send[i] + delay[i]
        if t0 <= arr < t1:
            arr = t1
        if arr >= t0 and send[i] < t1 + 2000:
            arr = max(arr, q_free + drain_ms)
            q_free = arr
        delay[i] = arr - send[i]
    return delay


def generate_trace(model: str, seed: int, duration_s: float = 60.0) -> Trace:
    n = int(duration_s * 1000 / PTIME_MS)
    send = np.arange(n) * PTIME_MS
    rng = np.random.default_rng([seed, len(model)])
    dur = duration_s * 1000
    if model == "gilbert_elliott_bursty":
        lost = _gilbert_elliott(rng, n, 0.02, 0.25, 0.005, 0.75)
        delay = 40.0 + np.abs(rng.normal(0, 2.0, n))
    elif model == "pareto_jitter":
        delay = 30.0 + 6.0 * rng.pareto(2.5, n)
        lost = rng.random(n) < 0.01
    elif model == "delay_spike":
        delay = 50.0 + np.abs(rng.normal(0, 3.0, n))
        t0 = dur / 3
        delay = _stall(send, delay, t0, t0 + 600.0, 2.0)
        lost = rng.random(n) < 0.002
    elif model == "route_change":
        a, b = dur * 25 / 60, dur * 45 / 60
        base = np.where(send < a, 40.0, np.where(send < b, 120.0, 60.0))
        sd = np.where(send < a, 2.0, np.where(send < b, 8.0, 3.0))
        delay = base + np.abs(rng.normal(0, 1, n)) * sd
        lost = rng.random(n) < 0.003
    elif model == "combined_mobile":
        lost = _gilbert_elliott(rng, n, 0.01, 0.3, 0.003, 0.6)
        delay = 60.0 + 8.0 * rng.pareto(2.2, n) + np.where(send >= dur * 35 / 60, 40.0, 0.0)
        t0 = dur / 4
        delay = _stall(send, delay, t0, t0 + 400.0, 2.0)
    else:
        raise ValueError(model)
    delay = np.round(delay, 3)
    arrival = np.where(lost, np.nan, send + delay)
    return Trace(f"{model}@seed{seed}", send, arrival, lost)


# ----------------------------------------------------------------------------- speech
def speech_signal(eval_dir: Path, duration_s: float, seed: int = 0) -> tuple[Any, Any]:
    """Real speech of ``duration_s`` seconds: (16 kHz original, 48 kHz float32 for the wire).

    Utterances from the corpus sources in a seeded order, each set to -26 dBFS RMS, with
    150-400 ms pauses between them.
    """
    import soundfile as sf

    files = sorted((eval_dir / "sources" / "speech").glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"no speech under {eval_dir}/sources/speech: set VOICECORE_EVAL_DIR")
    rng = np.random.default_rng([seed, 99])
    order = rng.permutation(len(files))
    need = int(duration_s * 16000)
    parts: list[Any] = []
    total = 0
    for idx in order:
        x, sr = sf.read(files[idx], dtype="float32")
        if x.ndim > 1:
            x = x.mean(axis=1)
        rms = float(np.sqrt(np.mean(x**2))) + 1e-9
        x = x * (10 ** (-26 / 20) / rms)
        gap = np.zeros(int(rng.uniform(0.15, 0.4) * 16000), np.float32)
        parts += [x, gap]
        total += len(x) + len(gap)
        if total >= need:
            break
    x16 = np.clip(np.concatenate(parts)[:need], -1, 1).astype(np.float32)
    x48 = resample_poly(x16, 3, 1).astype(np.float32)
    return x16, x48


# ----------------------------------------------------------------------------- results
@dataclass
class RunResult:
    system: str
    audio: NDArray[np.float32]  # 48 kHz played-out audio, from the first played frame
    frame_ts: NDArray[np.int64]  # media sample index (packet 0 = 0) of each 10 ms output frame; -1 = none
    frame_kind: list[str]
    frame_delay_ms: NDArray[np.float64]  # end-to-end delay of each frame (NaN if not media)
    late: int
    total_packets: int
    net_lost: int
    extra: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        kinds = np.array(self.frame_kind)
        media = ~np.isnan(self.frame_delay_ms)
        delays = self.frame_delay_ms[media]
        n = len(kinds)
        conceal = np.isin(kinds, ["expand", "comfort_noise", "gap"]).sum() / max(n, 1)
        if "stats" in self.extra:  # ours: concealed samples, not frames touched by concealment
            st = self.extra["stats"]
            conceal = (st.concealed_ms + st.comfort_noise_ms) / max(st.played_ms, 1.0)
        stretched = np.isin(kinds, ["accelerate", "decelerate"]).sum()
        return {
            "net_loss": self.net_lost / self.total_packets,
            "late_loss": self.late / self.total_packets,
            "conceal": conceal,
            "mean_delay": float(np.mean(delays)) if len(delays) else float("nan"),
            "p95_delay": float(np.percentile(delays, 95)) if len(delays) else float("nan"),
            "stretched": stretched / max(n, 1),
        }


def _wire(x48: Any, n: int, codec: str) -> list[bytes]:
    frames = [x48[i * PKT : (i + 1) * PKT] for i in range(n)]
    frames = [f if len(f) == PKT else np.pad(f, (0, PKT - len(f))) for f in frames]
    if codec == "l16":
        return [l16_payload(f) for f in frames]
    enc = voicecore.OpusEncoder(RATE, 1, bitrate=24000, inband_fec=True, packet_loss_perc=10)
    return [enc.encode(f) for f in frames]


class _DecodeOnly:
    """Opus decoding without codec PLC/FEC: voicecore's generic concealment fills losses."""

    def __init__(self) -> None:
        self._dec = voicecore.OpusDecoder(RATE, 1)

    def decode(self, payload: bytes) -> Any:
        return self._dec.decode(payload)


def run_ours(
    trace: Trace,
    x48: Any,
    codec: str = "l16",
    plc: bool = True,
    payloads: list[bytes] | None = None,
    tail_ms: float = 1000.0,
) -> RunResult:
    """Replays `trace` through voicecore.JitterBuffer; codec 'l16' or 'opus' (plc: libopus PLC/FEC)."""
    payloads = payloads if payloads is not None else _wire(x48, trace.n, codec)
    decoder: Any = None
    if codec == "opus":
        decoder = voicecore.OpusDecoder(RATE, 1) if plc else _DecodeOnly()
    jb = voicecore.JitterBuffer(RATE, 1, decoder=decoder)
    order = np.argsort(np.where(trace.lost, np.inf, trace.arrival_ms), kind="stable")
    order = [int(i) for i in order if not trace.lost[i]]
    end = float(np.nanmax(trace.arrival_ms)) + tail_ms
    last_media = (trace.n - 1) * PKT + PKT
    out, ts_list, kinds, delays = [], [], [], []
    k = 0
    now = 0.0
    while now <= end:
        while k < len(order) and trace.arrival_ms[order[k]] <= now:
            i = order[k]
            jb.put((SEQ0 + i) % 65536, (TS0 + i * PKT) % 2**32, payloads[i], float(trace.arrival_ms[i]))
            k += 1
        f = jb.get(now)
        if f.kind != "silence" or out:
            media = (f.timestamp - TS0) % 2**32
            if media >= last_media and k >= len(order):
                break
            out.append(f.samples)
            ts_list.append(media)
            kinds.append(f.kind)
            is_media = f.kind in ("normal", "accelerate", "decelerate")
            delays.append(now - media / 48.0 if is_media else np.nan)
        now += 10.0
    st = jb.stats
    name = "ours-" + ("l16" if codec == "l16" else ("opus-plc" if plc else "opus-generic"))
    return RunResult(
        name,
        np.concatenate(out) if out else np.zeros(0, np.float32),
        np.array(ts_list, np.int64),
        kinds,
        np.array(delays),
        st.packets_late,
        trace.n,
        int(trace.lost.sum()),
        {"stats": st},
    )


def run_aiortc(trace: Trace, x48: Any, payloads: list[bytes] | None = None) -> RunResult:
    from aiortc.jitterbuffer import JitterBuffer as AiortcJitterBuffer
    from aiortc.rtp import RtpPacket

    payloads = payloads if payloads is not None else _wire(x48, trace.n, "l16")
    jb = AiortcJitterBuffer(capacity=16, prefetch=4)
    order = [
        int(i)
        for i in np.argsort(np.where(trace.lost, np.inf, trace.arrival_ms), kind="stable")
        if not trace.lost[i]
    ]
    released: deque[tuple[float, int, bytes]] = deque()  # (release time, media ts, data)
    for i in order:
        pkt = RtpPacket(
            payload_type=96,
            sequence_number=(SEQ0 + i) % 65536,
            timestamp=(TS0 + i * PKT) % 2**32,
            payload=payloads[i],
        )
        pkt._data = payloads[i]  # type: ignore[attr-defined]  # what _handle_rtp_packet's depayload sets
        _, frame = jb.add(pkt)
        if frame is not None:
            released.append((float(trace.arrival_ms[i]), (frame.timestamp - TS0) % 2**32, frame.data))
    played_ts = {ts for _, ts, _ in released}
    late = sum(1 for i in order if (i * PKT) not in played_ts)
    # Real-time sink: one 20 ms frame every 20 ms from the first release on.
    out, ts_list, kinds, delays = [], [], [], []
    if released:
        t = released[0][0]
        queue: deque[tuple[int, bytes]] = deque()
        while released or queue:
            while released and released[0][0] <= t:
                _, ts, data = released.popleft()
                queue.append((ts, data))
            if queue:
                ts, data = queue.popleft()
                pcm = np.frombuffer(data, ">i2").astype(np.float32) / 32768.0
                for h in range(2):
                    out.append(pcm[h * FRAME : (h + 1) * FRAME])
                    ts_list.append(ts + h * FRAME)
                    kinds.append("normal")
                    delays.append(t + h * 10 - (ts + h * FRAME) / 48.0)
            else:
                for _ in range(2):
                    out.append(np.zeros(FRAME, np.float32))
                    ts_list.append(-1)
                    kinds.append("gap")
                    delays.append(np.nan)
            t += 20.0
    return RunResult(
        "aiortc",
        np.concatenate(out) if out else np.zeros(0, np.float32),
        np.array(ts_list, np.int64),
        kinds,
        np.array(delays),
        late,
        trace.n,
        int(trace.lost.sum()),
    )


def run_fixed(trace: Trace, x48: Any, delay_ms: float) -> RunResult:
    """Oracle fixed playout: packet i plays at send_i + delay_ms if it has arrived, else silence."""
    out, ts_list, kinds, delays = [], [], [], []
    late = 0
    for i in range(trace.n):
        ok = (not trace.lost[i]) and trace.arrival_ms[i] <= trace.send_ms[i] + delay_ms
        if not trace.lost[i] and not ok:
            late += 1
        seg = x48[i * PKT : (i + 1) * PKT]
        seg = seg if len(seg) == PKT else np.pad(seg, (0, PKT - len(seg)))
        for h in range(2):
            out.append(seg[h * FRAME : (h + 1) * FRAME] if ok else np.zeros(FRAME, np.float32))
            ts_list.append(i * PKT + h * FRAME)
            kinds.append("normal" if ok else "gap")
            delays.append(delay_ms if ok else np.nan)
    return RunResult(
        "fixed-p95",
        np.concatenate(out).astype(np.float32),
        np.array(ts_list, np.int64),
        kinds,
        np.array(delays),
        late,
        trace.n,
        int(trace.lost.sum()),
        {"delay_ms": delay_ms},
    )


# ----------------------------------------------------------------------------- quality
def pesq_chunks(x16: Any, res: RunResult, chunk_s: float = 10.0) -> float:
    """Mean wide-band PESQ over chunk_s chunks of media time (NaN if none could be scored)."""
    from pesq import pesq

    y16 = resample_poly(res.audio, 1, 3).astype(np.float32)
    ts = res.frame_ts
    scores = []
    n_media = len(x16)
    step = int(chunk_s * 16000)
    for a in range(0, n_media - step // 2, step):
        b = min(a + step, n_media)
        # Output frames whose media position falls in [a, b) (media ts at 48 kHz = 3x).
        idx = np.nonzero((ts >= 3 * a) & (ts < 3 * b))[0]
        if len(idx) < 50:
            continue
        lo, hi = idx[0] * FRAME // 3, (idx[-1] + 1) * FRAME // 3
        deg = y16[lo:hi]
        ref = x16[a:b]
        try:
            scores.append(float(pesq(16000, ref, deg, "wb")))
        except Exception:  # noqa: BLE001 - pesq raises on chunks without utterances
            continue
    return float(np.mean(scores)) if scores else float("nan")
