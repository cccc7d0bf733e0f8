"""STT providers: ``pocketsphinx`` (offline, open or grammar/keyword mode) and ``openai``."""
