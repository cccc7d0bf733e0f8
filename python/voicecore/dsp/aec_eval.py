"""Echo-canceller quality figures and a synthetic echo-case generator (numpy only).

The measurement follows ``shared/eval/BASELINES.md`` (echo cancellation section):

* the output is aligned to the ideal output (``mic - echo``) by the lag in 0-48 ms that maximises
  their cross-correlation, so processing delay does not count; the first second is skipped;
* **ERLE** = power of ``mic`` / power of the output over single-talk samples (echo active, near end
  silent); the **noise ceiling** is the same ratio for the ideal output;
* **near-end loss** = -10 log10(power of the best linear estimate of the output from ``nearend_clean``
  (per-bin Wiener fit from the cross-spectrum, 100-7000 Hz) / power of ``nearend_clean``) over samples
  where the near end talks (and the echo is active, for double-talk cases).

Frames are 10 ms. "Echo active": echo frame power within 30 dB of the echo's 95th-percentile frame
power (and above -70 dBFS). "Near end talks": the same rule on ``nearend_clean``; "silent": below
-50 dB of its 95th percentile (or no near end at all).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from voicecore.errors import ConfigError

F64 = NDArray[np.float64]

__all__ = [
    "AEC_RECIPES",
    "EchoCase",
    "evaluate_output",
    "exp_decay_rir",
    "make_echo_case",
    "regenerate_corpus",
]


@dataclass
class EchoCase:
    """One echo scenario: the far reference, the microphone and its ground-truth parts."""

    name: str
    far: F64
    mic: F64
    nearend: F64
    echo: F64
    fs: int = 16000
    change_s: float | None = None
    meta: dict[str, object] = field(default_factory=dict)


def _frame_power(x: F64, hop: int) -> F64:
    n = len(x) // hop
    fr = x[: n * hop].reshape(n, hop)
    return np.asarray(np.mean(fr**2, axis=1), np.float64)


def _db(num: float, den: float) -> float:
    return 10.0 * math.log10(max(num, 1e-20) / max(den, 1e-20))


def _align(out: F64, ideal: F64, fs: int, max_lag_ms: float = 48.0) -> int:
    """Lag (samples, >= 0) by which ``out`` trails ``ideal``: argmax of their cross-correlation."""
    max_lag = int(fs * max_lag_ms / 1000)
    n = len(out)
    size = 1 << int(math.ceil(math.log2(2 * n)))
    xc = np.fft.irfft(np.fft.rfft(out, size) * np.conj(np.fft.rfft(ideal, size)), size)
    return int(np.argmax(xc[: max_lag + 1]))


def _active(p: F64, rel_db: float, floor: float) -> NDArray[np.bool_]:
    if not np.any(p > floor):
        return np.zeros(len(p), bool)
    ref = float(np.percentile(p[p > floor], 95))
    return np.asarray((p > ref * 10 ** (-rel_db / 10)) & (p > floor), bool)


def _linear_loss(out: F64, near: F64, mask: NDArray[np.bool_], fs: int) -> float:
    """Near-end loss in dB from a per-bin Wiener fit of ``out`` on ``near`` over masked samples."""
    win, hop = 512, 256
    n = (len(near) - win) // hop
    if n <= 0:
        return float("nan")
    starts = np.arange(n) * hop
    keep = mask[np.minimum(starts + win // 2, len(mask) - 1)]
    if keep.sum() < 4:
        return float("nan")
    w = np.hanning(win)
    idx = starts[keep][:, None] + np.arange(win)[None, :]
    nf = np.fft.rfft(near[idx] * w, axis=1)
    of = np.fft.rfft(out[idx] * w, axis=1)
    freqs = np.fft.rfftfreq(win, 1.0 / fs)
    band = (freqs >= 100) & (freqs <= min(7000.0, fs / 2 - 1))
    s_nn = np.sum(np.abs(nf[:, band]) ** 2, axis=0)
    s_on = np.sum(of[:, band] * np.conj(nf[:, band]), axis=0)
    est = float(np.sum(np.abs(s_on) ** 2 / np.maximum(s_nn, 1e-20)))
    return -_db(est, float(np.sum(s_nn)))


def _first_window_end(
    mic: F64, out: F64, st: NDArray[np.bool_], hop: int, start_frame: int, end_frame: int, target_db: float
) -> int | None:
    """End frame of the first 200 ms window of single-talk frames (stepped by 50 ms from
    ``start_frame``) whose ERLE reaches ``target_db``; None if none before ``end_frame``."""
    pm, po = _frame_power(mic, hop), _frame_power(out, hop)
    for f in range(start_frame, end_frame - 20 + 1, 5):
        sel = st[f : f + 20]
        if sel.sum() < 8:
            continue
        if _db(float(pm[f : f + 20][sel].sum()), float(po[f : f + 20][sel].sum())) >= target_db:
            return f + 20
    return None


def _windowed_erle_times(
    mic: F64, out: F64, st: NDArray[np.bool_], hop: int, start_frame: int, end_frame: int, target_db: float
) -> float:
    """Seconds from ``start_frame`` until the ERLE over a 200 ms window of single-talk frames first
    reaches ``target_db``; nan if never before ``end_frame``."""
    end = _first_window_end(mic, out, st, hop, start_frame, end_frame, target_db)
    return float("nan") if end is None else (end - start_frame) * 0.01  # frames are 10 ms


def evaluate_output(case: EchoCase, out: NDArray[np.floating], skip_s: float = 1.0) -> dict[str, float]:
    """Quality figures of ``out`` (the canceller's output for ``case.mic``).

    Returns erle_db, ceiling_db, t20_s (from the far end's first speech), recovery_s (after
    ``case.change_s``; time until the windowed ERLE is back at min(20 dB, ceiling - 3 dB)),
    recovery_active_s (the echo-active single-talk seconds within that time),
    near_loss_db (double talk, or near-end only), seg_snr_db (double-talk frames), and lag_ms.
    """
    fs = case.fs
    hop = fs // 100
    out64 = np.asarray(out, np.float64)
    ideal = case.mic - case.echo
    lag = _align(out64, ideal, fs)
    n = len(case.mic) - lag
    o = out64[lag : lag + n]
    mic, echo, near, far = case.mic[:n], case.echo[:n], case.nearend[:n], case.far[:n]
    ideal = ideal[:n]
    pe, pn, pf = _frame_power(echo, hop), _frame_power(near, hop), _frame_power(far, hop)
    echo_on = _active(pe, 30.0, 1e-7)
    near_on = _active(pn, 30.0, 1e-8)
    near_quiet = ~_active(pn, 50.0, 1e-10)
    skip = int(skip_s * 100)
    st = echo_on & near_quiet
    st_eval = st.copy()
    st_eval[:skip] = False
    res: dict[str, float] = {"lag_ms": 1000.0 * lag / fs}
    pm, po, pi = _frame_power(mic, hop), _frame_power(o, hop), _frame_power(ideal, hop)
    if st_eval.sum() >= 10:
        res["erle_db"] = _db(float(pm[st_eval].sum()), float(po[st_eval].sum()))
        res["ceiling_db"] = _db(float(pm[st_eval].sum()), float(pi[st_eval].sum()))
    else:
        res["erle_db"] = res["ceiling_db"] = float("nan")
    far_on = np.nonzero(_active(pf, 30.0, 1e-7))[0]
    n_frames = len(pm)
    change_f = int(case.change_s * 100) if case.change_s is not None else n_frames
    if len(far_on):
        res["t20_s"] = _windowed_erle_times(mic, o, st, hop, int(far_on[0]), change_f, 20.0)
    else:
        res["t20_s"] = float("nan")
    if case.change_s is not None:
        target = min(20.0, res["ceiling_db"] - 3.0) if not math.isnan(res["ceiling_db"]) else 20.0
        end = _first_window_end(mic, o, st, hop, change_f, n_frames, target)
        res["recovery_s"] = float("nan") if end is None else (end - change_f) * 0.01
        # Echo-active single-talk time in the same span: a far end that pauses right after the
        # change leaves nothing to re-learn from, and recovery_s then counts the pause.
        res["recovery_active_s"] = float("nan") if end is None else float(st[change_f:end].sum()) * 0.01
    else:
        res["recovery_s"] = res["recovery_active_s"] = float("nan")
    has_echo = bool(np.any(echo_on))
    talk = near_on & (echo_on if has_echo else np.ones_like(near_on))
    talk[:skip] = False
    if talk.sum() >= 20:
        mask = np.repeat(talk, hop)
        mask = np.concatenate([mask, np.zeros(n - len(mask), bool)])
        res["near_loss_db"] = _linear_loss(o, near, mask, fs)
        seg = []
        for f in np.nonzero(talk)[0]:
            s = near[f * hop : (f + 1) * hop]
            d = s - o[f * hop : (f + 1) * hop]
            seg.append(min(35.0, max(-10.0, _db(float(np.sum(s**2)), float(np.sum(d**2))))))
        res["seg_snr_db"] = float(np.mean(seg))
    else:
        res["near_loss_db"] = res["seg_snr_db"] = float("nan")
    return res


def exp_decay_rir(rng: np.random.Generator, fs: int, rt60: float, direct_gain: float = 1.0) -> F64:
    """Seeded exponential-decay room impulse response (the corpus generator's fallback model)."""
    n = int(rt60 * fs * 1.2)
    t = np.arange(n) / fs
    h = rng.standard_normal(n) * 10 ** (-3 * t / rt60) * 0.3
    d0 = int(rng.integers(2, 40))  # 5-25 cm loudspeaker-mic spacing plus driver delay
    h = np.concatenate([np.zeros(d0), h])
    h[d0] += direct_gain
    return np.asarray(h[: int(fs * max(0.5, 1.5 * rt60))], np.float64)


def _level(x: F64, dbfs: float) -> F64:
    act = x[np.abs(x) > 1e-4]
    p = float(np.mean(act**2)) if len(act) else float(np.mean(x**2)) + 1e-20
    return np.asarray(x * 10 ** (dbfs / 20) / math.sqrt(p), np.float64)


def _concat(rng: np.random.Generator, pool: list[F64], n: int, fs: int, gap: tuple[float, float]) -> F64:
    out: list[F64] = []
    total = 0
    while total < n:
        u = _level(pool[int(rng.integers(len(pool)))], -26.0)
        g = np.zeros(int(rng.uniform(*gap) * fs))
        out += [u, g]
        total += len(u) + len(g)
    return np.concatenate(out)[:n]


def _conv(x: F64, h: F64, n: int) -> F64:
    size = 1 << int(math.ceil(math.log2(len(x) + len(h))))
    return np.asarray(np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:n], np.float64)


# The generated rooms of bench/eval_aec.py and the AEC tests, beyond the corpus (never tune to the
# shared files alone). Room s<seed>_<name> is make_echo_case(name, default_rng([seed, index]), ...)
# with its index in this list.
AEC_RECIPES: list[tuple[str, dict[str, object]]] = [
    ("x01_st_rt200_d40", {"rt60": 0.2, "delay_ms": (40, 40)}),
    ("x02_st_rt350_d300", {"rt60": 0.35, "delay_ms": (300, 300)}),
    ("x03_delayjump_rt250_d60to160", {"rt60": 0.25, "delay_ms": (60, 160), "change_s": 6.0}),
    ("x04_dt_ser0_rt300_d90", {"rt60": 0.3, "delay_ms": (90, 90), "ser_db": 0.0}),
    (
        "x05_dt_ser-5_clip_rt250_d70",
        {"rt60": 0.25, "delay_ms": (70, 70), "ser_db": -5.0, "nonlinearity": "hard_clip"},
    ),
    ("x06_nearend_only_rt250", {"rt60": 0.25, "near_only": True}),
]


def make_echo_case(
    name: str,
    rng: np.random.Generator,
    far_pool: list[F64],
    near_pool: list[F64],
    *,
    fs: int = 16000,
    duration_s: float = 12.0,
    rt60: float = 0.3,
    delay_ms: tuple[int, int] = (60, 60),
    change_s: float | None = None,
    ser_db: float | None = None,
    near_only: bool = False,
    nonlinearity: str = "none",
    erl_db: float | None = None,
) -> EchoCase:
    """An echo case in the corpus generator's recipe, with seeded exponential-decay RIRs.

    Far speech starts after 0.5 s; the echo path changes at ``change_s`` (new RIR and the second
    bulk delay); double talk at ``ser_db`` over 2-6 s and 7.5-11 s; ``near_only`` silences the far end.
    """
    n = int(duration_s * fs)
    if near_only:
        far = np.zeros(n)
    else:
        body = _concat(rng, far_pool, n - fs // 2, fs, (0.2, 0.8))
        far = np.concatenate([np.zeros(n - len(body)), body])
    pk = float(np.max(np.abs(far))) if np.any(far) else 1.0
    x = far / pk
    if nonlinearity == "hard_clip":
        x = np.clip(2.0 * x, -0.5, 0.5)
    elif nonlinearity == "soft_sat":
        y = np.tanh(2.5 * x) / 2.5
        x = y + 0.15 * (y**2 - np.mean(y**2))
    ls = x * pk
    erl = float(rng.uniform(-6.0, 10.0)) if erl_db is None else erl_db

    def through(h: F64, dly_ms: int) -> F64:
        k = int(round(dly_ms * fs / 1000))
        return np.concatenate([np.zeros(k), _conv(ls, h, n)])[:n]

    echo = through(exp_decay_rir(rng, fs, rt60), delay_ms[0])
    if change_s is not None:
        e2 = through(exp_decay_rir(rng, fs, rt60), delay_ms[1])
        w = np.zeros(n)
        k = int(change_s * fs)
        w[k:] = 1.0
        w[k : k + 160] = np.linspace(0, 1, 160)
        echo = echo * (1 - w) + e2 * w
    if np.any(far):
        echo = echo * 10 ** ((-26.0 - erl) / 20) / math.sqrt(float(np.mean(echo[np.abs(echo) > 1e-5] ** 2)))
    nearend = np.zeros(n)
    if ser_db is not None or near_only:
        spans = [(1.0, 5.5), (6.5, 11.5)] if near_only else [(2.0, 6.0), (7.5, 11.0)]
        dry = np.zeros(n)
        for a, b in spans:
            u = _concat(rng, near_pool, int((b - a) * fs), fs, (0.1, 0.4))
            dry[int(a * fs) : int(a * fs) + len(u)] += u
        hn = exp_decay_rir(rng, fs, rt60, direct_gain=0.5)
        nearend = _conv(dry, hn, n)
        if near_only:
            nearend = _level(nearend, -28.0)
        else:
            pe = float(np.mean(echo[np.abs(echo) > 1e-5] ** 2))
            pn = float(np.mean(nearend[np.abs(nearend) > 1e-5] ** 2))
            nearend = nearend * math.sqrt(pe / pn) * 10 ** ((ser_db or 0.0) / 20)
    mic = echo + nearend + rng.standard_normal(n) * 10 ** (-70 / 20)
    scale = min(1.0, 0.95 / max(float(np.max(np.abs(mic))), float(np.max(np.abs(far))), 1e-9))
    return EchoCase(
        name,
        far * scale,
        mic * scale,
        nearend * scale,
        echo * scale,
        fs,
        change_s,
        {"rt60": rt60, "delay_ms": delay_ms, "ser_db": ser_db, "nonlinearity": nonlinearity},
    )


def resample_by(x: F64, ratio: float, taps: int = 32) -> F64:
    """``x`` read at positions ``k * ratio`` (a clock running ``ratio`` times as fast), by a Hann-windowed
    sinc of ``taps`` taps: a fractional resampler accurate over the speech band for ratios near 1."""
    n = len(x)
    half = taps // 2
    padded = np.concatenate([np.zeros(half), x, np.zeros(half + 2)])
    out = np.zeros(n)
    offsets = np.arange(-half + 1, half + 1)
    for start in range(0, n, 65536):
        t = np.arange(start, min(n, start + 65536)) * ratio
        i = np.floor(t).astype(np.int64)
        frac = t - i
        valid = i < n
        d = offsets[None, :] - frac[:, None]  # tap distance from the read position
        w = np.sinc(d) * (0.5 + 0.5 * np.cos(np.pi * d / half))
        idx = np.clip(i[:, None] + offsets[None, :] + half, 0, len(padded) - 1)
        out[start : start + len(t)] = np.where(valid, np.sum(padded[idx] * w, axis=1), 0.0)
    return out


def make_drifting_case(
    far_pool: list[F64],
    near_pool: list[F64],
    rng: np.random.Generator,
    *,
    ppm: float,
    seconds: int,
    fs: int = 16000,
    delay_ms: float = 80.0,
    rt60: float = 0.3,
    talker_db: float | None = None,
) -> EchoCase:
    """A long call whose echo path runs on a clock ``ppm`` faster than the reference's (a USB microphone
    with laptop speakers, a Bluetooth headset): sample k of the far end plays at k / (1 + ppm 1e-6), so
    the echo's delay shrinks by ppm microseconds per second (grows for negative ppm). The far end is
    the pool's speech with pauses, the room ``rt60`` and ``delay_ms`` late, sensor noise at -65 dBFS; with
    ``talker_db`` a near talker in bursts at that level against the echo (double talk)."""
    n = seconds * fs
    far = _concat(rng, far_pool, n, fs, (0.3, 1.5))
    far = far / math.sqrt(float(np.mean(far**2))) * 10 ** (-24 / 20)
    played = resample_by(far, 1.0 + ppm * 1e-6)
    d = int(delay_ms * fs / 1000)
    echo = 0.5 * np.concatenate([np.zeros(d), _conv(played, exp_decay_rir(rng, fs, rt60), n - d)])
    near = np.zeros(n)
    if talker_db is not None:
        near = _concat(rng, near_pool, n, fs, (2.0, 6.0))
        scale = math.sqrt(float(np.mean(echo**2)) / float(np.mean(near[near != 0] ** 2)))
        near = near * scale * 10 ** (talker_db / 20)
    mic = echo + near + rng.standard_normal(n) * 10 ** (-65 / 20)
    return EchoCase(f"drift_{ppm:+g}ppm", far, mic, near, echo, fs)


def regenerate_corpus(eval_dir: Path, seed: int, out: Path) -> Path:
    """Writes the corpus's AEC cases (c01-c13) under ``out / "aec"`` as the corpus's own generator
    (``eval_dir / "make_corpus.py"``) makes them with another ``seed``: other rooms, talkers, prompts,
    delays and levels from the same recipes. Returns ``out``; a finished ``out`` is reused. The
    generator needs pyroomacoustics for the rooms the shared corpus was made with (otherwise it would
    silently fall back to other impulse responses), so its absence is an error."""
    if (out / "aec" / "cases.csv").exists():
        return out
    script = eval_dir / "make_corpus.py"
    spec = importlib.util.spec_from_file_location(f"make_corpus_{seed}", script) if script.is_file() else None
    if spec is None or spec.loader is None:
        raise ConfigError(f"no corpus generator at {script}: pass the eval corpus folder")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    if not gen.HAVE_PRA:
        raise ConfigError("regenerating the corpus needs pyroomacoustics: pip install -e '.[test]'")
    vars(gen)["SEED"] = seed  # the generator reads it at call time (rng_for)
    gen.build_aec(gen.Sources(str(eval_dir / "sources")), str(out))
    return out
