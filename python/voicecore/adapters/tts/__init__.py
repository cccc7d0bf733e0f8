"""TTS providers: ``piper`` (offline neural), ``espeak`` (offline formant) and ``openai``."""
