"""Adaptive jitter buffer for one remote audio stream.

``JitterBuffer`` reorders RTP packets, keeps a playout delay that follows the network's
measured jitter (a forgetting histogram of packet delays and its 98th percentile, forgotten
within about 1.5 s once a route change makes every packet arrive well below it), drains
excess delay by pitch-synchronous time stretching (never by dropping packets), waits up to
10 ms (concealing, media clock held) for a packet missing while later ones are already here
(usually a reordered packet, not a loss), and conceals lost packets: with the codec's own
PLC/FEC when the decoder offers it (see :class:`voicecore.OpusDecoder`), otherwise with
voicecore's pitch-repetition concealment that fades into comfort noise.

Use one instance per remote audio track: call :meth:`JitterBuffer.put` (or
:meth:`JitterBuffer.put_rtp` with aiortc's ``RtpPacket``) for every received packet with its
arrival time, and :meth:`JitterBuffer.get` every 10 ms with the same clock (milliseconds of a
monotonic clock, e.g. ``time.monotonic() * 1000``). Both are cheap enough to call on the event
loop; the object is not thread-safe, so call it from one thread. To replace aiortc's fixed buffer,
the receive path forwards each packet (``RTCRtpReceiver`` hands ``RtpPacket`` objects to its
private ``__jitter_buffer.add``) and a paced track pulls ``get()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from voicecore import _core
from voicecore.errors import AudioFormatError, ConfigError

FrameKindName = Literal["normal", "expand", "accelerate", "decelerate", "comfort_noise", "silence"]

_KINDS: Final[tuple[FrameKindName, ...]] = (
    "normal",
    "expand",
    "accelerate",
    "decelerate",
    "comfort_noise",
    "silence",
)
_PUT_RESULTS: Final[tuple[str, ...]] = ("accepted", "duplicate", "late", "malformed")


class PayloadDecoder(Protocol):
    """What :class:`JitterBuffer` needs from a codec (``decoder=``).

    The buffer stores payloads and calls ``decode`` in sequence order at playout time, so a
    stateful codec sees its packets in order. ``conceal(num_samples)`` is called for a lost
    packet (codec PLC). Optional extras, used when present: ``decode_fec(next_payload,
    num_samples)`` recovers the audio just before ``next_payload`` from its in-band FEC (return
    None when there is none), ``packet_samples(payload)`` gives a packet's duration without
    decoding, ``reset()`` is called on a sender restart. Arrays are float32 in [-1, 1] (or
    int16), shape ``(n,)`` for mono or ``(n, num_channels)``. An exception inside the codec is
    counted in ``stats.decoder_errors`` and the packet is concealed.
    """

    def decode(self, payload: bytes) -> NDArray[Any]: ...

    def conceal(self, num_samples: int) -> NDArray[Any]: ...


class RtpLike(Protocol):
    """The RTP header fields :meth:`JitterBuffer.put_rtp` reads (aiortc's ``RtpPacket`` has them)."""

    sequence_number: int
    timestamp: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class JitterFrame:
    """10 ms of played-out audio.

    ``samples`` is float32, shape ``(n,)`` (mono) or ``(n, num_channels)``; ``kind`` says how
    it was made; ``timestamp`` is the RTP timestamp of its first sample (0 before playout starts).
    """

    samples: NDArray[np.float32]
    kind: FrameKindName
    timestamp: int


@dataclass(frozen=True, slots=True)
class JitterStats:
    """Counters since construction or :meth:`JitterBuffer.reset`.

    ``packets_lost`` counts packets that never arrived before playout passed them (a loss that
    later arrives moves to ``packets_late``). Durations are milliseconds of output of each kind;
    ``current_delay_ms`` / ``target_delay_ms`` are buffering delays over the network's fastest
    recent path.
    """

    packets_received: int
    packets_late: int
    packets_lost: int
    packets_duplicate: int
    packets_reordered: int
    packets_malformed: int
    decoder_errors: int
    resyncs: int
    concealed_ms: float
    comfort_noise_ms: float
    accelerated_ms: float
    decelerated_ms: float
    played_ms: float
    current_delay_ms: float
    target_delay_ms: float


class JitterBuffer:
    """Adaptive jitter buffer with concealment and time stretching. Not thread-safe.

    Args:
        sample_rate_hz: output rate (8000, 16000, 24000, 32000, 44100 or 48000); L16 payloads
            must be at this rate.
        num_channels: 1..8; L16 payloads are interleaved.
        min_delay_ms, max_delay_ms: bounds of the adaptive buffering delay.
        decoder: ``None`` for raw L16 payloads (RFC 3551: big-endian 16-bit PCM) with
            voicecore's concealment, or a :class:`PayloadDecoder` such as
            :class:`voicecore.OpusDecoder`.
    """

    __slots__ = ("_impl", "_num_channels", "_sample_rate_hz")

    def __init__(
        self,
        sample_rate_hz: int = 48000,
        num_channels: int = 1,
        min_delay_ms: int = 0,
        max_delay_ms: int = 1000,
        decoder: PayloadDecoder | None = None,
    ) -> None:
        for name, value in (
            ("sample_rate_hz", sample_rate_hz),
            ("num_channels", num_channels),
            ("min_delay_ms", min_delay_ms),
            ("max_delay_ms", max_delay_ms),
        ):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"JitterBuffer: {name} must be an int, got {value!r}")
        self._impl = _core.JitterBuffer(sample_rate_hz, num_channels, min_delay_ms, max_delay_ms, decoder)
        self._sample_rate_hz = sample_rate_hz
        self._num_channels = num_channels

    @property
    def sample_rate_hz(self) -> int:
        return self._sample_rate_hz

    @property
    def num_channels(self) -> int:
        return self._num_channels

    @property
    def frame_samples(self) -> int:
        """Samples per channel in every frame :meth:`get` returns (10 ms)."""
        return self._impl.frame_samples

    def put(
        self, seq: int, timestamp: int, payload: bytes | bytearray | memoryview, arrival_ms: float
    ) -> str:
        """Hands over one received RTP packet.

        Returns "accepted", "duplicate", "late" (arrived after its playout time; dropped and
        counted) or "malformed" (empty, oversized or, for L16, not whole samples; counted).
        Raises AudioFormatError for an out-of-range ``seq``/``timestamp`` or a NaN, infinite or
        negative ``arrival_ms``.
        """
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise AudioFormatError(
                "JitterBuffer.put: payload must be bytes, bytearray or memoryview, "
                f"got {type(payload).__name__}"
            )
        if not isinstance(seq, int) or not isinstance(timestamp, int):
            raise AudioFormatError("JitterBuffer.put: seq and timestamp must be ints (RTP header fields)")
        return _PUT_RESULTS[self._impl.put(seq, timestamp, payload, float(arrival_ms))]

    def put_rtp(self, packet: RtpLike, arrival_ms: float) -> str:
        """:meth:`put` for an RTP packet object (``sequence_number``, ``timestamp``, ``payload``),
        e.g. aiortc's ``RtpPacket`` as its receiver hands it to its own jitter buffer."""
        return self.put(packet.sequence_number, packet.timestamp, packet.payload, arrival_ms)

    def get(self, now_ms: float) -> JitterFrame:
        """Returns the next 10 ms of audio; call every 10 ms with the clock ``put`` used."""
        kind, samples, timestamp = self._impl.get(float(now_ms))
        return JitterFrame(samples, _KINDS[kind], timestamp)

    @property
    def stats(self) -> JitterStats:
        return JitterStats(**self._impl.stats())

    @property
    def last_decoder_error(self) -> str:
        """The message of the decoder's most recent failure ("" if none)."""
        return self._impl.last_decoder_error()

    def reset(self) -> None:
        """Forgets all packets, audio and statistics; keeps the configuration."""
        self._impl.reset()


def l16_payload(samples: NDArray[Any]) -> bytes:
    """Packs float32 samples in [-1, 1] (or int16) as an RFC 3551 L16 payload (big-endian)."""
    arr = np.asarray(samples)
    if arr.dtype == np.int16:
        pcm = arr
    elif arr.dtype in (np.float32, np.float64):
        if not np.all(np.isfinite(arr)):
            raise AudioFormatError(
                "l16_payload: samples contain NaN or Inf; replace them (e.g. np.nan_to_num) or do not "
                "send this packet (the receiver conceals a missing one)"
            )
        pcm = np.clip(np.round(arr * 32768.0), -32768, 32767).astype(np.int16)
    else:
        raise AudioFormatError(
            f"l16_payload: dtype {arr.dtype} is not float32/float64/int16; convert with .astype(np.float32)"
        )
    return pcm.astype(">i2").tobytes()


__all__ = ["JitterBuffer", "JitterFrame", "JitterStats", "PayloadDecoder", "RtpLike", "l16_payload"]
