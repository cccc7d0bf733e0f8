"""End-of-turn models and the endpointing policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from voicecore.errors import ConfigError

__all__ = ["EndOfTurnModel", "EndpointingOptions", "TextHeuristicModel", "TurnDetector", "VadOnlyModel"]


class EndOfTurnModel(Protocol):
    """Probability that the user's turn is complete, from the turn's audio (16 kHz) and/or text."""

    name: str

    def predict(self, audio_16k: NDArray[np.float32], transcript: str) -> float: ...


class VadOnlyModel:
    """No model: every pause is taken as a complete turn (pure VAD-silence endpointing)."""

    name = "vad-only"

    def predict(self, audio_16k: NDArray[np.float32], transcript: str) -> float:
        return 1.0


# Words after which an utterance is very rarely finished (English): conjunctions, prepositions,
# articles, auxiliaries and hesitation fillers.
_CONTINUATION = frozenset(
    """and or but so because if then that which who whose when while although though unless until
    as than like with without of to for from in on at by about into onto over under after before
    between through the a an my your his her their our its this these those some any every no
    is are was were be been am do does did have has had will would can could should must may might
    i you he she we they it um uh er erm hmm uhm mm well let's lets""".split()
)
_WORD = re.compile(r"[a-z']+")


class TextHeuristicModel:
    """Transcript heuristic: a turn ending in a conjunction, preposition, article, auxiliary or
    filler is probably unfinished; one ending in terminal punctuation probably finished."""

    name = "text-heuristic"

    def __init__(self, *, complete_p: float = 0.8, incomplete_p: float = 0.1) -> None:
        self.complete_p = complete_p
        self.incomplete_p = incomplete_p

    def predict(self, audio_16k: NDArray[np.float32], transcript: str) -> float:
        text = transcript.strip().lower()
        if not text:
            return 0.5
        if text[-1] in ".?!":
            return max(self.complete_p, 0.9)
        if text[-1] in ",;:-":
            return self.incomplete_p
        words = _WORD.findall(text)
        if not words:
            return 0.5
        if words[-1] in _CONTINUATION:
            return self.incomplete_p
        if len(words) <= 1:
            return 0.6  # a single word is often the start of a longer turn
        return self.complete_p


@dataclass(frozen=True, slots=True)
class EndpointingOptions:
    """``min_endpointing_ms`` after the last speech when the turn looks complete, ``max_endpointing_ms``
    when it does not; ``threshold`` splits the model's probability."""

    min_endpointing_ms: int = 500
    max_endpointing_ms: int = 3000
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.min_endpointing_ms <= self.max_endpointing_ms:
            raise ConfigError(
                f"need 0 <= min_endpointing_ms ({self.min_endpointing_ms}) <= max_endpointing_ms "
                f"({self.max_endpointing_ms})"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"threshold must be in (0, 1), got {self.threshold}")


class TurnDetector:
    """Combines an :class:`EndOfTurnModel` with :class:`EndpointingOptions`."""

    def __init__(
        self, model: EndOfTurnModel | None = None, options: EndpointingOptions | None = None
    ) -> None:
        self.model: EndOfTurnModel = model or VadOnlyModel()
        self.options = options or EndpointingOptions()

    @property
    def name(self) -> str:
        return self.model.name

    @classmethod
    def default(cls, options: EndpointingOptions | None = None) -> TurnDetector:
        """Smart Turn v3.2 when its ONNX file and onnxruntime are installed, else the text heuristic."""
        from voicecore.turn.smart_turn import SmartTurnModel, find_smart_turn_model

        if find_smart_turn_model() is not None:
            try:
                return cls(SmartTurnModel(), options)
            except ConfigError:
                pass
        return cls(TextHeuristicModel(), options)

    def endpoint_delay_ms(self, audio_16k: NDArray[np.float32], transcript: str) -> tuple[float, float]:
        """(delay after the last speech before the turn ends, P(complete))."""
        p = float(self.model.predict(audio_16k, transcript))
        o = self.options
        return (float(o.min_endpointing_ms) if p >= o.threshold else float(o.max_endpointing_ms)), p
