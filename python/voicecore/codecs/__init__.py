"""Codecs for the receive path (libopus through ctypes)."""

from voicecore.codecs.opus import OpusDecoder, OpusEncoder

__all__ = ["OpusDecoder", "OpusEncoder"]
