"""Fixtures for the VAD tests: the shared mixes and freshly generated scenes (seeds 92xx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecore.vad.scenes import Scene, SourceBank, make_scene

# Seeds for test scenes: never the fit's (7000..7071), the eval script's (9100..9165) or the corpus's.
TEST_SEED0 = 9200


@pytest.fixture(scope="session")
def source_bank(eval_dir: Path) -> SourceBank:
    pytest.importorskip("soundfile")
    return SourceBank(eval_dir)


@pytest.fixture(scope="session")
def shared_mix(eval_dir: Path):
    sf = pytest.importorskip("soundfile")
    labels = np.load(eval_dir / "vad" / "labels_10ms.npy")
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in cache:
            x, sr = sf.read(str(eval_dir / "vad" / "noisy" / f"{name}.wav"), dtype="float32")
            assert sr == 16000
            n = min(len(labels), len(x) // 160)
            cache[name] = (np.ascontiguousarray(x[: n * 160]), labels[:n])
        return cache[name]

    return load


@pytest.fixture(scope="session")
def fresh_scene(source_bank: SourceBank):
    cache: dict[tuple[int, str, float, tuple[float, float]], Scene] = {}

    def make(offset: int, noise: str, snr_db: float, gap_s: tuple[float, float] = (0.3, 2.0)) -> Scene:
        key = (offset, noise, snr_db, gap_s)
        if key not in cache:
            seed = TEST_SEED0 + offset
            cache[key] = make_scene(source_bank, seed, noise, snr_db, utterances=8, gap_s=gap_s)
        return cache[key]

    return make


def frame_probs(vad, audio: np.ndarray) -> np.ndarray:
    n = vad.frame_size
    return np.array([vad.process(audio[i * n : (i + 1) * n]) for i in range(len(audio) // n)])


def webrtc_best_auc(audio: np.ndarray, labels: np.ndarray) -> float:
    webrtcvad = pytest.importorskip("webrtcvad")
    from voicecore.vad.metrics import roc_auc

    pcm = np.clip(np.round(audio * 32768), -32768, 32767).astype(np.int16)
    n = len(labels)
    best = 0.0
    for mode in range(4):
        vad = webrtcvad.Vad(mode)
        dec = [vad.is_speech(pcm[i * 160 : (i + 1) * 160].tobytes(), 16000) for i in range(n)]
        best = max(best, roc_auc(np.asarray(dec, float), labels))
    return best
