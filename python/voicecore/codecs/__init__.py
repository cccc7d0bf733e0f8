"""Codecs for the receive path (libopus through ctypes)."""

from voicecore.codecs.opus import CodecClosedError, OpusDecoder, OpusEncoder

__all__ = ["CodecClosedError", "OpusDecoder", "OpusEncoder"]
