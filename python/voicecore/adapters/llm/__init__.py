"""LLM providers: ``rules`` (built-in, offline), ``llama_cpp`` (SmolLM2 via llama-cpp-python),
``openai`` (any OpenAI-compatible server) and ``anthropic`` (Messages API)."""
