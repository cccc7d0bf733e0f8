"""Labelled noisy-speech scenes for evaluating and fitting VADs.

Builds scenes the way the shared corpus generator (``../shared/eval/make_corpus.py``) builds
``vad/noisy``: real utterances from ``sources/speech`` are trimmed, set to an active level of
-26 +- 6 dBFS and separated by 0.3-2.0 s silences (1 s at both ends); 10 ms labels come from the
clean utterances by energy (threshold max(peak - 38 dB, 10th percentile + 9 dB, -60 dBFS), gaps of
at most 150 ms filled, bursts under 30 ms removed); noise is scaled to the requested SNR of active
speech power over mean noise power. Every scene is a pure function of its seed, so the evaluation
and the offline fit can use seeds that never overlap with each other or with the shared files.

Needs ``soundfile`` (in the ``test`` extra) to read the sources. Not used on any real-time path.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE_HZ = 16000
FRAME = 160  # 10 ms at 16 kHz
NOISE_TYPES = ("white", "babble", "dishes", "bike")
EXTRA_NOISE_TYPES = ("pink", "brown", "modulated", "hum")

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Scene:
    """A mix, its clean speech, and ground truth per 10 ms frame (1 = speech)."""

    name: str
    audio: NDArray[np.float32]
    clean: NDArray[np.float32]
    labels: NDArray[np.uint8]


def _db(p: F64 | float) -> F64:
    return np.asarray(10.0 * np.log10(np.maximum(p, 1e-20)), np.float64)


def _fill_short(
    lab: NDArray[np.uint8], value: int, max_len: int, bounded_only: bool = True
) -> NDArray[np.uint8]:
    lab = lab.copy()
    n = len(lab)
    i = 0
    while i < n:
        if lab[i] == value:
            j = i
            while j < n and lab[j] == value:
                j += 1
            bounded = (i > 0 and j < n) or not bounded_only
            if bounded and (j - i) <= max_len:
                lab[i:j] = 1 - value
            i = j
        else:
            i += 1
    return lab


def energy_labels(x: F64) -> NDArray[np.uint8]:
    """10 ms speech labels of one clean utterance, as the shared corpus derives them."""
    n = len(x) // FRAME
    if n == 0:
        return np.zeros(0, np.uint8)
    e = _db(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))
    thr = max(float(e.max()) - 38.0, float(np.percentile(e, 10)) + 9.0, -60.0)
    lab = (e > thr).astype(np.uint8)
    lab = _fill_short(lab, 0, 15)
    return _fill_short(lab, 1, 2, bounded_only=False)


def _active_power(x: F64, lab: NDArray[np.uint8]) -> float:
    n = min(len(lab), len(x) // FRAME)
    fr = x[: n * FRAME].reshape(n, FRAME)
    sel = lab[:n].astype(bool)
    return float(np.mean(fr[sel] ** 2)) if sel.any() else float(np.mean(x**2) + 1e-20)


def _trim(x: F64, margin_ms: int = 40) -> F64:
    idx = np.flatnonzero(energy_labels(x))
    if len(idx) == 0:
        return x
    m = margin_ms * SAMPLE_RATE_HZ // 1000
    y = x[max(0, idx[0] * FRAME - m) : min(len(x), (idx[-1] + 1) * FRAME + m)].copy()
    r = min(len(y) // 4, 80)
    if r > 0:
        w = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, r))
        y[:r] *= w
        y[-r:] *= w[::-1]
    return y


def _set_level(x: F64, target_dbfs: float) -> F64:
    return np.asarray(x * 10 ** ((target_dbfs - float(_db(_active_power(x, energy_labels(x))))) / 20.0))


class SourceBank:
    """The real recordings of ``<eval_dir>/sources`` (loaded once)."""

    def __init__(self, eval_dir: Path) -> None:
        import soundfile as sf

        root = Path(eval_dir) / "sources"
        self.speech: list[tuple[str, str, F64]] = []
        self.noise: dict[str, F64] = {}
        with open(root / "manifest.csv", newline="") as f:
            for row in csv.DictReader(f):
                x, sr = sf.read(str(root / row["file"]), dtype="float64")
                if sr != SAMPLE_RATE_HZ:
                    raise ValueError(f"{row['file']}: expected 16 kHz, got {sr}")
                if row["kind"] == "speech":
                    self.speech.append((row["id"], row["speaker"], np.asarray(x, np.float64)))
                else:
                    self.noise[row["id"]] = np.asarray(x, np.float64)


def _fit_noise(noise: F64, n: int, rng: np.random.Generator, xfade: int = 800) -> F64:
    if len(noise) >= n:
        s = int(rng.integers(0, len(noise) - n + 1))
        return noise[s : s + n].copy()
    out = noise[int(rng.integers(0, len(noise) // 2)) :].copy()
    w = np.linspace(0, 1, xfade)
    while len(out) < n:
        out[-xfade:] = out[-xfade:] * (1 - w) + noise[:xfade] * w
        out = np.concatenate([out, noise[xfade:]])
    return out[:n]


def _babble(bank: SourceBank, n: int, rng: np.random.Generator, exclude: set[str], talkers: int = 6) -> F64:
    pool = [s for s in bank.speech if s[0] not in exclude]
    out = np.zeros(n)
    for _ in range(talkers):
        pieces = [np.zeros(int(rng.integers(0, SAMPLE_RATE_HZ)))]
        total = len(pieces[0])
        while total < n:
            u = _set_level(_trim(pool[int(rng.integers(len(pool)))][2]), -26.0)
            gap = np.zeros(int(rng.integers(0, SAMPLE_RATE_HZ // 5)))
            pieces += [u, gap]
            total += len(u) + len(gap)
        out += np.concatenate(pieces)[:n]
    return out


def _colored(n: int, rng: np.random.Generator, exponent: float) -> F64:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE_HZ), 20.0)
    return np.fft.irfft(spec / f ** (exponent / 2), n)


def _noise(kind: str, bank: SourceBank, n: int, rng: np.random.Generator, exclude: set[str]) -> F64:
    if kind == "white":
        return rng.standard_normal(n)
    if kind == "babble":
        return _babble(bank, n, rng, exclude)
    if kind == "dishes":
        return _fit_noise(bank.noise["noise_dishes"], n, rng)
    if kind == "bike":
        return _fit_noise(bank.noise["noise_exercise_bike"], n, rng)
    if kind == "pink":
        return _colored(n, rng, 1.0)
    if kind == "brown":
        return _colored(n, rng, 2.0)
    if kind == "modulated":
        # Slowly varying level (+-6 dB over several seconds) on coloured noise.
        t = np.arange(n) / SAMPLE_RATE_HZ
        period = float(rng.uniform(4.0, 12.0))
        gain = 10 ** (6.0 * np.sin(2 * np.pi * t / period + float(rng.uniform(0, 6.3))) / 20)
        return _colored(n, rng, float(rng.uniform(0.0, 1.5))) * gain
    if kind == "hum":
        t = np.arange(n) / SAMPLE_RATE_HZ
        f0 = float(rng.choice([50.0, 60.0]))
        tone = sum(np.sin(2 * np.pi * f0 * k * t + float(rng.uniform(0, 6.3))) / k for k in range(1, 6))
        return np.asarray(tone) + 0.3 * _colored(n, rng, 1.0)
    raise ValueError(f"unknown noise type {kind!r}")


def make_scene(
    bank: SourceBank,
    seed: int,
    noise: str,
    snr_db: float | None,
    *,
    utterances: int = 12,
    gap_s: tuple[float, float] = (0.3, 2.0),
) -> Scene:
    """One scene: ``utterances`` random real utterances in ``noise`` at ``snr_db`` (None: clean).

    The RNG is ``default_rng([seed, utterances])``; the noise stream is independent of the speech.
    """
    rng = np.random.default_rng([seed, utterances])
    idx = rng.choice(len(bank.speech), size=min(utterances, len(bank.speech)), replace=False)
    used = {bank.speech[int(i)][0] for i in idx}
    pieces: list[F64] = [np.zeros(SAMPLE_RATE_HZ)]
    labels: list[NDArray[np.uint8]] = [np.zeros(SAMPLE_RATE_HZ // FRAME, np.uint8)]
    for i in idx:
        u = _set_level(_trim(bank.speech[int(i)][2]), -26.0 + float(rng.uniform(-6, 6)))
        u = u[: len(u) // FRAME * FRAME]
        gap = int(round(float(rng.uniform(*gap_s)) * 100)) * FRAME
        pieces += [u, np.zeros(gap)]
        labels += [energy_labels(u), np.zeros(gap // FRAME, np.uint8)]
    pieces.append(np.zeros(SAMPLE_RATE_HZ))
    labels.append(np.zeros(SAMPLE_RATE_HZ // FRAME, np.uint8))
    clean = np.concatenate(pieces)
    lab = np.concatenate(labels)
    mix = clean.copy()
    if snr_db is not None:
        nz = _noise(noise, bank, len(clean), np.random.default_rng([seed, utterances, 1]), used)
        g = np.sqrt(_active_power(clean, lab) / (float(np.mean(nz**2)) * 10 ** (snr_db / 10)))
        mix = clean + g * nz
    mix = mix * min(1.0, 0.98 / float(np.max(np.abs(mix))))
    # Quantise like a 16-bit recording so the scene matches what a WAV file would hold.
    mix = np.round(mix * 32768) / 32768
    name = f"{noise}_snr{snr_db:g}_seed{seed}" if snr_db is not None else f"clean_seed{seed}"
    return Scene(name, mix.astype(np.float32), clean.astype(np.float32), lab)


def find_eval_dir(start: Path | None = None) -> Path | None:
    """The shared corpus: ``$VOICECORE_EVAL_DIR``, else ``shared/eval`` beside the repo or one level up."""
    import os

    env = os.environ.get("VOICECORE_EVAL_DIR")
    repo = (start or Path(__file__)).resolve()
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "eval" for p in repo.parents]
    for path in candidates:
        if (path / "vad").is_dir():
            return path
    return None
