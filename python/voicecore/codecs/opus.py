"""Opus through a small ctypes binding to the system libopus (Debian ``libopus0``).

:class:`OpusDecoder` is a :class:`voicecore.dsp.jitter.PayloadDecoder`: besides ``decode`` it
offers libopus' own packet-loss concealment (``opus_decode`` with no data) and in-band FEC
(``decode_fec=1`` on the packet after a loss), which aiortc's PyAV/FFmpeg decoder never uses.
:class:`OpusEncoder` exists for tests and evaluation (in-band FEC, expected loss).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from voicecore.errors import AudioFormatError, ConfigError, VoicecoreError

_OPUS_APPLICATION_VOIP: Final = 2048
_OPUS_APPLICATION_AUDIO: Final = 2049
_OPUS_SET_BITRATE: Final = 4002
_OPUS_SET_COMPLEXITY: Final = 4010
_OPUS_SET_INBAND_FEC: Final = 4012
_OPUS_SET_PACKET_LOSS_PERC: Final = 4014
_OPUS_RESET_STATE: Final = 4028
_RATES: Final = (8000, 12000, 16000, 24000, 48000)
_MAX_PACKET_MS: Final = 120

_lib: ctypes.CDLL | None = None


class CodecClosedError(VoicecoreError, RuntimeError):
    """An :class:`OpusDecoder` or :class:`OpusEncoder` was used after ``close()``."""


def _libopus() -> ctypes.CDLL:
    """Loads libopus once and declares the few functions used."""
    global _lib
    if _lib is not None:
        return _lib
    names = [n for n in (ctypes.util.find_library("opus"), "libopus.so.0", "libopus.0.dylib") if n]
    lib = None
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        raise ConfigError(
            "libopus not found: install the Debian package libopus0 (scripts/install-system-deps.sh)"
        )
    c_int, c_int32, vp = ctypes.c_int, ctypes.c_int32, ctypes.c_void_p
    u8p, f32p, ip = ctypes.POINTER(ctypes.c_ubyte), ctypes.POINTER(ctypes.c_float), ctypes.POINTER(c_int)
    lib.opus_decoder_create.argtypes = [c_int32, c_int, ip]
    lib.opus_decoder_create.restype = vp
    lib.opus_decoder_destroy.argtypes = [vp]
    lib.opus_decoder_destroy.restype = None
    lib.opus_decode_float.argtypes = [vp, u8p, c_int32, f32p, c_int, c_int]
    lib.opus_decode_float.restype = c_int
    lib.opus_decoder_ctl.restype = c_int
    lib.opus_packet_get_nb_samples.argtypes = [u8p, c_int32, c_int32]
    lib.opus_packet_get_nb_samples.restype = c_int
    lib.opus_encoder_create.argtypes = [c_int32, c_int, c_int, ip]
    lib.opus_encoder_create.restype = vp
    lib.opus_encoder_destroy.argtypes = [vp]
    lib.opus_encoder_destroy.restype = None
    lib.opus_encode_float.argtypes = [vp, f32p, c_int, u8p, c_int32]
    lib.opus_encode_float.restype = c_int32
    lib.opus_encoder_ctl.restype = c_int
    lib.opus_strerror.argtypes = [c_int]
    lib.opus_strerror.restype = ctypes.c_char_p
    _lib = lib
    return lib


def _err(lib: ctypes.CDLL, code: int) -> str:
    msg = lib.opus_strerror(code)
    return msg.decode() if isinstance(msg, bytes) else str(code)


def _u8(payload: bytes) -> Any:
    return ctypes.cast(ctypes.c_char_p(payload), ctypes.POINTER(ctypes.c_ubyte))


def _check_format(sample_rate_hz: int, num_channels: int) -> None:
    if sample_rate_hz not in _RATES:
        raise ConfigError(f"Opus: sample_rate_hz={sample_rate_hz} unsupported; use one of {_RATES}")
    if num_channels not in (1, 2):
        raise ConfigError(f"Opus: num_channels={num_channels} unsupported; use 1 or 2")


class OpusDecoder:
    """Opus decoder with libopus PLC and in-band FEC. Not thread-safe (one per stream)."""

    __slots__ = ("_buf", "_lib", "_num_channels", "_quantum", "_sample_rate_hz", "_st")

    def __init__(self, sample_rate_hz: int = 48000, num_channels: int = 1) -> None:
        _check_format(sample_rate_hz, num_channels)
        self._lib = _libopus()
        err = ctypes.c_int(0)
        self._st = self._lib.opus_decoder_create(sample_rate_hz, num_channels, ctypes.byref(err))
        if not self._st or err.value != 0:
            raise ConfigError(f"opus_decoder_create failed: {_err(self._lib, err.value)}")
        self._sample_rate_hz = sample_rate_hz
        self._num_channels = num_channels
        self._quantum = sample_rate_hz // 400  # PLC/FEC sizes must be multiples of 2.5 ms
        self._buf = np.zeros(sample_rate_hz * _MAX_PACKET_MS // 1000 * num_channels, dtype=np.float32)

    @property
    def sample_rate_hz(self) -> int:
        return self._sample_rate_hz

    @property
    def num_channels(self) -> int:
        return self._num_channels

    def _shape(self, pcm: NDArray[np.float32]) -> NDArray[np.float32]:
        return pcm if self._num_channels == 1 else pcm.reshape(-1, self._num_channels)

    def _run(self, payload: bytes | None, frame_size: int, fec: int) -> NDArray[np.float32]:
        if not self._st:
            raise CodecClosedError("OpusDecoder is closed (close() was called): create a new OpusDecoder")
        data = _u8(payload) if payload else None
        n = self._lib.opus_decode_float(
            self._st,
            data,
            len(payload) if payload else 0,
            self._buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            frame_size,
            fec,
        )
        if n < 0:
            what = "the packet is not valid Opus" if payload else "concealment failed"
            raise AudioFormatError(
                f"opus_decode failed: {_err(self._lib, n)} ({what}); drop this packet and call "
                "conceal(num_samples) for its duration (voicecore.JitterBuffer does so and counts it lost)"
            )
        return self._buf[: n * self._num_channels].copy()

    def _max_frame(self) -> int:
        return self._sample_rate_hz * _MAX_PACKET_MS // 1000

    def decode(self, payload: bytes) -> NDArray[np.float32]:
        """Decodes one packet to float32 PCM, shape (n,) or (n, channels)."""
        if not payload:
            raise AudioFormatError("OpusDecoder.decode: empty payload; call conceal() for a lost packet")
        return self._shape(self._run(bytes(payload), self._max_frame(), 0))

    def _rounded(self, num_samples: int) -> int:
        if num_samples <= 0 or num_samples > self._max_frame():
            raise AudioFormatError(f"Opus: num_samples={num_samples} must be in 1..{self._max_frame()}")
        q = self._quantum
        return -(-num_samples // q) * q

    def conceal(self, num_samples: int) -> NDArray[np.float32]:
        """libopus PLC for ``num_samples`` missing samples per channel."""
        pcm = self._run(None, self._rounded(num_samples), 0)
        return self._shape(pcm[: num_samples * self._num_channels])

    def decode_fec(self, next_payload: bytes, num_samples: int) -> NDArray[np.float32]:
        """Recovers the ``num_samples`` before ``next_payload`` from its in-band FEC.

        libopus falls back to PLC when the packet carries no FEC. The decoder state advances
        as after the lost packet; ``next_payload`` itself must still be decoded afterwards.
        """
        size = self._rounded(num_samples)
        pcm = self._run(bytes(next_payload), size, 1)
        return self._shape(pcm[(size - num_samples) * self._num_channels :])

    def packet_samples(self, payload: bytes) -> int | None:
        """Samples per channel in ``payload`` without decoding (None if malformed)."""
        if not payload:
            return None
        n = self._lib.opus_packet_get_nb_samples(_u8(bytes(payload)), len(payload), self._sample_rate_hz)
        return int(n) if n > 0 else None

    def reset(self) -> None:
        if self._st:
            self._lib.opus_decoder_ctl(ctypes.c_void_p(self._st), ctypes.c_int(_OPUS_RESET_STATE))

    def close(self) -> None:
        if getattr(self, "_st", None):
            self._lib.opus_decoder_destroy(self._st)
            self._st = None

    def __del__(self) -> None:
        self.close()


class OpusEncoder:
    """Opus encoder (tests, evaluation, loopback senders). Not thread-safe."""

    __slots__ = ("_buf", "_lib", "_num_channels", "_sample_rate_hz", "_st")

    def __init__(
        self,
        sample_rate_hz: int = 48000,
        num_channels: int = 1,
        *,
        bitrate: int = 24000,
        inband_fec: bool = True,
        packet_loss_perc: int = 10,
        complexity: int = 5,
        application: str = "voip",
    ) -> None:
        _check_format(sample_rate_hz, num_channels)
        if application not in ("voip", "audio"):
            raise ConfigError(f"OpusEncoder: application={application!r}; use 'voip' or 'audio'")
        self._lib = _libopus()
        app = _OPUS_APPLICATION_VOIP if application == "voip" else _OPUS_APPLICATION_AUDIO
        err = ctypes.c_int(0)
        self._st = self._lib.opus_encoder_create(sample_rate_hz, num_channels, app, ctypes.byref(err))
        if not self._st or err.value != 0:
            raise ConfigError(f"opus_encoder_create failed: {_err(self._lib, err.value)}")
        for request, value in (
            (_OPUS_SET_BITRATE, bitrate),
            (_OPUS_SET_INBAND_FEC, int(inband_fec)),
            (_OPUS_SET_PACKET_LOSS_PERC, packet_loss_perc),
            (_OPUS_SET_COMPLEXITY, complexity),
        ):
            rc = self._lib.opus_encoder_ctl(
                ctypes.c_void_p(self._st), ctypes.c_int(request), ctypes.c_int(value)
            )
            if rc != 0:
                raise ConfigError(f"opus_encoder_ctl({request}, {value}) failed: {_err(self._lib, rc)}")
        self._sample_rate_hz = sample_rate_hz
        self._num_channels = num_channels
        self._buf = (ctypes.c_ubyte * 4000)()

    def frame_sizes(self) -> tuple[int, ...]:
        """The frame lengths (samples per channel) libopus accepts: 2.5/5/10/20/40/60 ms."""
        return tuple(self._sample_rate_hz * tenths // 400 for tenths in (1, 2, 4, 8, 16, 24))

    def encode(self, pcm: NDArray[np.float32]) -> bytes:
        """Encodes one 2.5/5/10/20/40/60 ms frame of float32 PCM into one packet.

        Mono: shape ``(n,)`` or ``(n, 1)``. Stereo: shape ``(n, 2)`` (interleaved rows).
        Raises :class:`AudioFormatError` for another dtype or shape, NaN/Inf samples or a
        frame length libopus does not accept.
        """
        if not self._st:
            raise CodecClosedError("OpusEncoder is closed (close() was called): create a new OpusEncoder")
        if not isinstance(pcm, np.ndarray):
            raise AudioFormatError(
                f"OpusEncoder.encode: expected a numpy float32 array, got {type(pcm).__name__}; "
                "convert with np.asarray(x, dtype=np.float32)"
            )
        if pcm.dtype != np.float32:
            raise AudioFormatError(
                f"OpusEncoder.encode: dtype {pcm.dtype} is not float32; convert with .astype(np.float32)"
            )
        channels = self._num_channels
        if channels == 1 and pcm.ndim == 1:
            n = pcm.shape[0]
        elif pcm.ndim == 2 and pcm.shape[1] == channels:
            n = pcm.shape[0]
        else:
            want = "(n,) or (n, 1)" if channels == 1 else "(n, 2)"
            raise AudioFormatError(
                f"OpusEncoder.encode: shape {pcm.shape} does not match a {channels}-channel encoder; "
                f"pass shape {want} (samples x channels)"
            )
        sizes = self.frame_sizes()
        if n not in sizes:
            raise AudioFormatError(
                f"OpusEncoder.encode: frame of {n} samples per channel; at {self._sample_rate_hz} Hz "
                f"use one of {sizes} (2.5/5/10/20/40/60 ms)"
            )
        if not np.all(np.isfinite(pcm)):
            raise AudioFormatError(
                "OpusEncoder.encode: samples contain NaN or Inf; replace them (e.g. np.nan_to_num) "
                "or drop the frame"
            )
        arr = np.ascontiguousarray(pcm)
        size = self._lib.opus_encode_float(
            self._st, arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n, self._buf, len(self._buf)
        )
        if size < 0:
            raise AudioFormatError(
                f"opus_encode failed: {_err(self._lib, size)} for a frame of {n} samples per channel; "
                f"at {self._sample_rate_hz} Hz use one of {sizes}"
            )
        return bytes(self._buf[:size])

    def close(self) -> None:
        if getattr(self, "_st", None):
            self._lib.opus_encoder_destroy(self._st)
            self._st = None

    def __del__(self) -> None:
        self.close()


__all__ = ["CodecClosedError", "OpusDecoder", "OpusEncoder"]
