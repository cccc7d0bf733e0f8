"""Model adapters (STT, LLM, TTS), fallback chains, and selection by configuration."""

from voicecore.adapters.base import (
    LLM,
    STT,
    TTS,
    Adapter,
    ChatChunk,
    ConnOptions,
    LLMStream,
    SpeechData,
    STTStream,
    SynthesizedAudio,
    TTSStream,
)
from voicecore.adapters.fallback import FallbackAdapter, FallbackLLM, FallbackSTT, FallbackTTS
from voicecore.adapters.registry import build_adapters, load_config, register_provider

__all__ = [
    "LLM",
    "STT",
    "TTS",
    "Adapter",
    "ChatChunk",
    "ConnOptions",
    "FallbackAdapter",
    "FallbackLLM",
    "FallbackSTT",
    "FallbackTTS",
    "LLMStream",
    "STTStream",
    "SpeechData",
    "SynthesizedAudio",
    "TTSStream",
    "build_adapters",
    "load_config",
    "register_provider",
]
