"""Adapter selection by configuration only: a TOML file and/or environment variables.

Configuration (``voicecore.toml``)::

    stt = "pocketsphinx"                  # a provider name ...
    tts = ["piper", "espeak"]             # ... or a list: a FallbackAdapter over them, in order
    [llm]                                 # ... or a table with options for the provider
    provider = "openai"
    base_url = "http://127.0.0.1:8080/v1" # llama.cpp server, vLLM, Ollama, Gemini's OpenAI endpoint
    model = "gpt-4o-mini"

Environment variables override the file: ``VOICECORE_STT=pocketsphinx``, ``VOICECORE_LLM=openai``,
``VOICECORE_LLM_BASE_URL=...``, ``VOICECORE_LLM_MODEL=...``, ``VOICECORE_TTS=espeak,piper`` (comma =
fallback list). ``VOICECORE_CONFIG`` names the TOML file. Secrets (``api_key``) are read from the
provider's usual variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``) by the provider itself.

A third-party package adds a provider with an entry point in the ``voicecore.adapters`` group,
named ``<kind>.<provider>`` (e.g. ``llm.mycloud = "mypkg.llm:MyLLM"``); the object is called with the
provider's options as keyword arguments and must return an adapter of that kind.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from voicecore.adapters.base import LLM, STT, TTS, Adapter
from voicecore.adapters.fallback import FallbackLLM, FallbackSTT, FallbackTTS
from voicecore.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterConfig",
    "ProviderSpec",
    "available_providers",
    "build_adapters",
    "build_llm",
    "build_stt",
    "build_tts",
    "load_config",
    "register_provider",
]

Kind = Literal["stt", "llm", "tts"]
KINDS: tuple[Kind, ...] = ("stt", "llm", "tts")
ENTRY_POINT_GROUP = "voicecore.adapters"

# Built-in providers: "module:Class", imported lazily so optional extras stay optional.
_BUILTIN: dict[str, dict[str, str]] = {
    "stt": {
        "pocketsphinx": "voicecore.adapters.stt.pocketsphinx:PocketsphinxSTT",
        "openai": "voicecore.adapters.stt.openai:OpenAISTT",
    },
    "llm": {
        "rules": "voicecore.adapters.llm.rules:RulesLLM",
        "llama_cpp": "voicecore.adapters.llm.llama_cpp:LlamaCppLLM",
        "openai": "voicecore.adapters.llm.openai:OpenAILLM",
        "anthropic": "voicecore.adapters.llm.anthropic:AnthropicLLM",
    },
    "tts": {
        "piper": "voicecore.adapters.tts.piper:PiperTTS",
        "espeak": "voicecore.adapters.tts.espeak:EspeakTTS",
        "openai": "voicecore.adapters.tts.openai:OpenAITTS",
    },
}
_ALIASES = {"llama.cpp": "llama_cpp", "smollm2": "llama_cpp", "espeak-ng": "espeak", "gemini": "openai"}
_REGISTERED: dict[str, dict[str, Callable[..., Adapter]]] = {k: {} for k in KINDS}

DEFAULTS: dict[Kind, list[str]] = {
    "stt": ["pocketsphinx"],
    # SmolLM2 when the llm-local extra is installed; otherwise the built-in keyword responder.
    "llm": ["llama_cpp", "rules"],
    "tts": ["piper", "espeak"],
}


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AdapterConfig:
    """Resolved configuration: an ordered provider list (fallback order) per kind."""

    stt: list[ProviderSpec]
    llm: list[ProviderSpec]
    tts: list[ProviderSpec]

    def get(self, kind: Kind) -> list[ProviderSpec]:
        return list(getattr(self, kind))


def register_provider(kind: Kind, name: str, factory: Callable[..., Adapter]) -> None:
    """Register a provider in-process (entry points are the way for installed packages)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown adapter kind {kind!r}; use one of {', '.join(KINDS)}")
    _REGISTERED[kind][name] = factory


def _entry_points(kind: Kind) -> dict[str, metadata.EntryPoint]:
    found: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        k, _, name = ep.name.partition(".")
        if k == kind and name:
            found[name] = ep
    return found


def available_providers(kind: Kind) -> list[str]:
    return sorted(set(_BUILTIN[kind]) | set(_REGISTERED[kind]) | set(_entry_points(kind)))


def _resolve_factory(kind: Kind, name: str) -> Callable[..., Adapter]:
    name = _ALIASES.get(name, name)
    if name in _REGISTERED[kind]:
        return _REGISTERED[kind][name]
    if name in _BUILTIN[kind]:
        mod_name, _, attr = _BUILTIN[kind][name].partition(":")
        try:
            module = importlib.import_module(mod_name)
        except ImportError as exc:
            raise ConfigError(
                f"{kind} provider {name!r} needs a package that is not installed ({exc.name}); "
                "install the extra: pip install 'voicecore[agent]' (or 'voicecore[llm-local]' for llama_cpp)"
            ) from exc
        factory: Callable[..., Adapter] = getattr(module, attr)
        return factory
    eps = _entry_points(kind)
    if name in eps:
        loaded: Callable[..., Adapter] = eps[name].load()
        return loaded
    raise ConfigError(
        f"unknown {kind} provider {name!r}; available: {', '.join(available_providers(kind))}. "
        f"Third-party providers register an entry point '{kind}.<name>' in group {ENTRY_POINT_GROUP!r}"
    )


def _parse_entry(kind: Kind, value: Any) -> list[ProviderSpec]:
    if isinstance(value, str):
        return [ProviderSpec(v.strip()) for v in value.split(",") if v.strip()]
    if isinstance(value, Mapping):
        opts = dict(value)
        provider = opts.pop("provider", None)
        fallback = opts.pop("fallback", None)
        if not isinstance(provider, str):
            raise ConfigError(f'[{kind}] table needs provider = "<name>"')
        specs = [ProviderSpec(provider, opts)]
        if fallback is not None:
            specs += _parse_entry(kind, fallback)
        return specs
    if isinstance(value, list):
        out: list[ProviderSpec] = []
        for v in value:
            out += _parse_entry(kind, v)
        return out
    raise ConfigError(f"{kind} must be a provider name, a list, or a table; got {type(value).__name__}")


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> AdapterConfig:
    """Read the TOML file (``path`` or ``$VOICECORE_CONFIG``), then apply ``VOICECORE_*`` variables."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    path = path or env.get("VOICECORE_CONFIG")
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {p} not found; create it or unset VOICECORE_CONFIG") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p} is not valid TOML: {exc}") from exc
        data = data.get("voicecore", data)
    resolved: dict[Kind, list[ProviderSpec]] = {}
    for kind in KINDS:
        specs = _parse_entry(kind, data[kind]) if kind in data else [ProviderSpec(n) for n in DEFAULTS[kind]]
        name = env.get(f"VOICECORE_{kind.upper()}")
        if name:
            specs = _parse_entry(kind, name)
        prefix = f"VOICECORE_{kind.upper()}_"
        overrides = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
        if overrides and specs:
            specs[0] = ProviderSpec(specs[0].name, {**specs[0].options, **overrides})
        if not specs:
            raise ConfigError(f"no {kind} provider configured")
        resolved[kind] = specs
    return AdapterConfig(stt=resolved["stt"], llm=resolved["llm"], tts=resolved["tts"])


def _build(kind: Kind, specs: list[ProviderSpec]) -> Adapter:
    adapters: list[Adapter] = []
    errors: list[str] = []
    for spec in specs:
        try:
            adapter = _resolve_factory(kind, spec.name)(**spec.options)
        except ConfigError as exc:
            # An optional provider that is not installed is skipped if another one is configured.
            errors.append(str(exc))
            continue
        except TypeError as exc:
            raise ConfigError(f"bad options for {kind} provider {spec.name!r}: {exc}") from exc
        adapters.append(adapter)
    if not adapters:
        raise ConfigError(f"no usable {kind} provider: " + "; ".join(errors))
    if len(adapters) == 1:
        return adapters[0]
    if kind == "stt":
        return FallbackSTT(adapters)  # type: ignore[arg-type]
    if kind == "llm":
        return FallbackLLM(adapters)  # type: ignore[arg-type]
    return FallbackTTS(adapters)  # type: ignore[arg-type]


def build_stt(config: AdapterConfig) -> STT:
    a = _build("stt", config.stt)
    if not isinstance(a, STT):
        raise ConfigError(f"stt provider {config.stt[0].name!r} did not return an STT adapter")
    return a


def build_llm(config: AdapterConfig) -> LLM:
    a = _build("llm", config.llm)
    if not isinstance(a, LLM):
        raise ConfigError(f"llm provider {config.llm[0].name!r} did not return an LLM adapter")
    return a


def build_tts(config: AdapterConfig) -> TTS:
    a = _build("tts", config.tts)
    if not isinstance(a, TTS):
        raise ConfigError(f"tts provider {config.tts[0].name!r} did not return a TTS adapter")
    return a


def build_adapters(config: AdapterConfig | None = None) -> tuple[STT, LLM, TTS]:
    """The three adapters the configuration names (defaults: pocketsphinx, rules, piper→espeak)."""
    config = config or load_config()
    return build_stt(config), build_llm(config), build_tts(config)
