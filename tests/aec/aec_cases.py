"""Shared loaders for the AEC tests: corpus cases and generated cases (other seeds)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from voicecore.dsp.aec import EchoCanceller
from voicecore.dsp.aec_eval import AEC_RECIPES, EchoCase, make_echo_case

FRAME = 160


def read(path: Path) -> np.ndarray:
    x, sr = sf.read(str(path), dtype="float64")
    assert sr == 16000
    return np.asarray(x, np.float64)


def corpus_case(eval_dir: Path, name: str) -> EchoCase:
    """A case of the corpus in ``eval_dir`` (the shared one, or one regenerate_corpus wrote)."""
    d = eval_dir / "aec" / name
    meta = json.loads((d / "meta.json").read_text())
    return EchoCase(
        name,
        read(d / "far.wav"),
        read(d / "mic.wav"),
        read(d / "nearend_clean.wav"),
        read(d / "echo.wav"),
        16000,
        meta.get("echo_path_change_s"),
        meta,
    )


def pools(eval_dir: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    far, near = [], []
    with open(eval_dir / "sources" / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] != "speech" or float(row["duration_s"]) < 1.5:
                continue
            x = read(eval_dir / "sources" / row["file"])
            if row["speaker"] == "allison":
                far.append(x)
            elif row["speaker"] != "alsa_voice":
                near.append(x)
    return far, near


def generated(eval_dir: Path, name: str, seed: int, stream: int = 7, **spec: object) -> EchoCase:
    far, near = pools(eval_dir)
    return make_echo_case(name, np.random.default_rng([seed, stream]), far, near, **spec)  # type: ignore[arg-type]


def recipe_case(eval_dir: Path, name: str, seed: int, recipe: str, stream: int | None = None) -> EchoCase:
    """The room of AEC_RECIPES that the eval tables call s<seed>_<recipe> (``recipe``: "x01".."x06");
    another ``stream`` draws another room of the same recipe."""
    index, spec = next((i, s) for i, (n, s) in enumerate(AEC_RECIPES) if n.startswith(recipe + "_"))
    return generated(eval_dir, name, seed, stream=index if stream is None else stream, **spec)


def clipped_double_talk(eval_dir: Path, name: str, seed: int, stream: int) -> EchoCase:
    """The x05 recipe: hard-clipping loudspeaker, RT60 0.25 s, 70 ms, a talker 5 dB under the echo."""
    return recipe_case(eval_dir, name, seed, "x05", stream)


def room_and_delay_jump(eval_dir: Path, name: str, seed: int) -> EchoCase:
    """The x03 recipe: a new room and the bulk delay 60 -> 160 ms at 6 s."""
    return recipe_case(eval_dir, name, seed, "x03")


def with_delay_jump(case: EchoCase, at_s: float, jump_ms: int) -> EchoCase:
    """The same room with the bulk delay changing by ``jump_ms`` at ``at_s`` (a playout buffer that
    grew, or shrank if negative): the echo after the jump is the echo before it, moved in time."""
    n = len(case.mic)
    k = int(case.fs * jump_ms / 1000)
    if k >= 0:
        later = np.concatenate([np.zeros(k), case.echo])[:n]
    else:
        later = np.concatenate([case.echo[-k:], np.zeros(-k)])
    w = np.zeros(n)
    w[int(at_s * case.fs) :] = 1.0
    echo = case.echo * (1.0 - w) + later * w
    noise = case.mic - case.echo - case.nearend
    return EchoCase(
        case.name + "_jump",
        case.far,
        echo + case.nearend + noise,
        case.nearend,
        echo,
        case.fs,
        at_s,
        case.meta,
    )


def run(case: EchoCase, **kw: int) -> np.ndarray:
    return run_canceller(EchoCanceller(**kw), case)


def run_canceller(
    ec: EchoCanceller, case: EchoCase, each_frame: Callable[[], None] | None = None
) -> np.ndarray:
    """The case through ``ec`` in 10 ms frames (the caller keeps ``ec`` to read its stats;
    ``each_frame`` is called after every frame, to follow them)."""
    far, mic = case.far.astype(np.float32), case.mic.astype(np.float32)
    n = len(mic) // FRAME * FRAME
    out = np.zeros(len(mic), np.float32)
    for i in range(0, n, FRAME):
        ec.push_far(far[i : i + FRAME])
        out[i : i + FRAME] = ec.process_near(mic[i : i + FRAME])
        if each_frame is not None:
            each_frame()
    return out.astype(np.float64)


def run_following_delay(case: EchoCase) -> tuple[np.ndarray, list[float]]:
    """The case through a default canceller, and its delay estimate (ms) after every 10 ms frame."""
    ec = EchoCanceller(16000, 10, 500, 250)
    delays: list[float] = []
    out = run_canceller(ec, case, lambda: delays.append(ec.stats["delay_ms"]))
    return out, delays
