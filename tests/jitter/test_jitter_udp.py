"""Real packets over loopback UDP through an impairing relay, into the JitterBuffer in real time.

sender --UDP--> relay (drops / delays / reorders per a generated Pareto + loss trace) --UDP--> receiver.
The receiver stamps each datagram with the monotonic clock when the event loop hands it over (as
aiortc does) and puts it into the buffer; a playout task calls get() every 10 ms on the same clock.
Everything stays on 127.0.0.1 and finishes in about 4 s (hard limit 10 s).
"""

from __future__ import annotations

import asyncio
import struct
import time

import numpy as np
from jitter_helpers import voiced

import voicecore
from voicecore.dsp.jitter import l16_payload

PKT = 960
N = 150  # 3 s of 20 ms packets
HEADER = struct.Struct("!HI")  # RTP's sequence number and timestamp, network order


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, jb: voicecore.JitterBuffer, t0: float) -> None:
        self.jb, self.t0, self.count = jb, t0, 0
        self.offsets_ms: list[float] = []  # arrival time - media time, as the buffer saw it

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        arrival_ms = (time.monotonic() - self.t0) * 1000.0
        seq, ts = HEADER.unpack_from(data)
        self.jb.put(seq, ts, data[HEADER.size :], arrival_ms)
        self.offsets_ms.append(arrival_ms - ts / 48.0)
        self.count += 1


class _Relay(asyncio.DatagramProtocol):
    """Forwards datagram i after delay_ms[i], or drops it when lost[i]."""

    def __init__(self, target: tuple[str, int], delay_ms: np.ndarray, lost: np.ndarray) -> None:
        self.target, self.delay_ms, self.lost = target, delay_ms, lost
        self.transport: asyncio.DatagramTransport | None = None
        self.forwarded = 0
        self.dropped = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        i = HEADER.unpack_from(data)[0]
        if self.lost[i]:
            self.dropped += 1
            return
        asyncio.get_running_loop().call_later(self.delay_ms[i] / 1000.0, self._forward, data)

    def _forward(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data, self.target)
        self.forwarded += 1


async def _session(x: np.ndarray, delay_ms: np.ndarray, lost: np.ndarray):
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    jb = voicecore.JitterBuffer()
    recv_t, recv = await loop.create_datagram_endpoint(lambda: _Receiver(jb, t0), local_addr=("127.0.0.1", 0))
    relay_t, relay = await loop.create_datagram_endpoint(
        lambda: _Relay(recv_t.get_extra_info("sockname"), delay_ms, lost), local_addr=("127.0.0.1", 0)
    )
    send_t, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=relay_t.get_extra_info("sockname")
    )
    frames: list[tuple[float, object]] = []  # (scheduled tick in ms, frame)

    async def playout() -> None:
        next_tick = time.monotonic()
        while True:
            now_ms = (time.monotonic() - t0) * 1000.0
            frames.append(((next_tick - t0) * 1000.0, jb.get(now_ms)))
            next_tick += 0.010
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))

    async def send() -> None:
        for i in range(N):
            await asyncio.sleep(max(0.0, t0 + i * 0.020 - time.monotonic()))
            send_t.sendto(HEADER.pack(i, i * PKT) + l16_payload(x[i * PKT : (i + 1) * PKT]))

    player = asyncio.create_task(playout())
    try:
        await send()
        await asyncio.sleep(float(delay_ms.max()) / 1000.0 + 0.6)  # let the tail arrive and play
    finally:
        player.cancel()
        try:
            await player
        except asyncio.CancelledError:
            pass
        for t in (send_t, relay_t, recv_t):
            t.close()
    return jb, recv, relay, frames


def test_real_udp_loopback_through_impairing_relay() -> None:
    rng = np.random.default_rng(2024)
    delay_ms = 30.0 + 6.0 * rng.pareto(2.5, N)  # Pareto jitter
    delay_ms[20::25] += 35.0  # and some packets overtaken in flight (reordering)
    lost = rng.random(N) < 0.03
    lost[:3] = False
    x = voiced(N * PKT, seed=4)
    jb, recv, relay, frames = asyncio.run(asyncio.wait_for(_session(x, delay_ms, lost), timeout=10.0))

    st = jb.stats
    assert relay.dropped == int(lost.sum())
    assert relay.dropped > 0
    assert recv.count == relay.forwarded == N - relay.dropped  # loopback itself lost nothing
    assert st.packets_received == recv.count
    assert st.packets_reordered > 0  # the relay's delays really reordered datagrams
    # every dropped packet is accounted for as lost (or late, if it were late)
    assert st.packets_lost + st.packets_late >= relay.dropped
    assert st.packets_late <= 0.03 * N
    kinds = [f.kind for _, f in frames]  # type: ignore[attr-defined]
    played = [k for k in kinds if k != "silence"]
    assert played.count("normal") > 0.75 * len(played)
    # the audio that played is the audio that was sent
    audio = np.concatenate([f.samples for _, f in frames if f.kind != "silence"])  # type: ignore[attr-defined]
    stamps = [f.timestamp for _, f in frames if f.kind != "silence"]  # type: ignore[attr-defined]
    exact = 0
    for i, (ts, k) in enumerate(zip(stamps, played, strict=True)):
        if k == "normal" and ts + 480 <= len(x):
            exact += bool(np.max(np.abs(audio[i * 480 : (i + 1) * 480] - x[ts : ts + 480])) < 1e-4)
    assert exact > 0.7 * len(played)  # bit-exact L16 (frames next to a concealment are crossfaded)
    # Playout delay follows the arrivals the buffer actually saw. Both sides are measured on this
    # run, so a loaded machine (late sends, late timers, late get() calls) moves them together:
    # offsets are arrival minus media time (sender and relay lateness included), and each frame's
    # delay is taken at its scheduled 10 ms tick (one frame per tick), so a late get() call does not
    # count against the buffer. Target: about the offsets' 98th percentile plus a frame margin.
    offsets = np.asarray(recv.offsets_ms)
    delays = np.array([tick - f.timestamp / 48.0 for tick, f in frames if f.kind == "normal"])  # type: ignore[attr-defined]
    lo, hi = float(np.percentile(offsets, 50)), float(np.percentile(offsets, 98))
    assert np.median(delays) < hi + 40.0, (np.median(delays), lo, hi)
    # and it buffers: most frames play after the typical packet has arrived
    assert np.median(delays) > lo, (np.median(delays), lo, hi)
