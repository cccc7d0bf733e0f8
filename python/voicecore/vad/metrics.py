"""Frame- and segment-level VAD metrics (ROC-AUC, F1, onset/offset decision latency)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FRAME_S = 0.01


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney U with tied scores averaged)."""
    s = np.asarray(scores, np.float64)
    y = np.asarray(labels).astype(bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("ROC-AUC needs both speech and non-speech frames")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), np.float64)
    sorted_s = s[order]
    # Average ranks over runs of equal scores.
    boundaries = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(s)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def f1_score(decisions: ArrayLike, labels: ArrayLike) -> float:
    d = np.asarray(decisions).astype(bool)
    y = np.asarray(labels).astype(bool)
    tp = int((d & y).sum())
    denom = int(d.sum()) + int(y.sum())
    return 2.0 * tp / denom if denom else 1.0


def label_segments(labels: ArrayLike, merge_gap_ms: int = 0) -> list[tuple[float, float]]:
    """Speech runs of 10 ms labels as (start_s, end_s), merging gaps shorter than ``merge_gap_ms``."""
    y = np.asarray(labels).astype(np.int8)
    edges = np.diff(np.concatenate([[0], y, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    segs: list[tuple[float, float]] = []
    for a, b in zip(starts, ends, strict=True):
        if segs and (a * FRAME_S - segs[-1][1]) * 1000 < merge_gap_ms:
            segs[-1] = (segs[-1][0], b * FRAME_S)
        else:
            segs.append((a * FRAME_S, b * FRAME_S))
    return segs


@dataclass(frozen=True)
class DetectedSegment:
    start_s: float
    detected_start_s: float
    end_s: float
    detected_end_s: float


@dataclass(frozen=True)
class DelayStats:
    """Decision latencies (s) over true segments: onset = SpeechStarted.detected_s - true start;
    offset = SpeechEnded.detected_s - true end. Merged/missed segments are counted, not timed."""

    onset: NDArray[np.float64]
    offset: NDArray[np.float64]
    missed: int
    merged: int
    false_starts: int

    @property
    def onset_median_ms(self) -> float:
        return float(np.median(self.onset) * 1000) if len(self.onset) else float("nan")

    @property
    def offset_median_ms(self) -> float:
        return float(np.median(self.offset) * 1000) if len(self.offset) else float("nan")

    @property
    def onset_p90_ms(self) -> float:
        return float(np.percentile(self.onset, 90) * 1000) if len(self.onset) else float("nan")

    @property
    def offset_p90_ms(self) -> float:
        return float(np.percentile(self.offset, 90) * 1000) if len(self.offset) else float("nan")


def segment_delays(
    truth: Sequence[tuple[float, float]], detected: Sequence[DetectedSegment], tolerance_s: float = 0.1
) -> DelayStats:
    """Match detected segments to true ones by overlap and time the decisions."""
    onset: list[float] = []
    offset: list[float] = []
    missed = merged = 0
    used: set[int] = set()
    for i, (s, e) in enumerate(truth):
        hits = [k for k, d in enumerate(detected) if d.start_s < e and d.end_s > s]
        if not hits:
            missed += 1
            continue
        used.update(hits)
        first, last = detected[hits[0]], detected[hits[-1]]
        prev_end = truth[i - 1][1] if i > 0 else -np.inf
        next_start = truth[i + 1][0] if i + 1 < len(truth) else np.inf
        if first.start_s < prev_end:
            merged += 1
        else:
            onset.append(first.detected_start_s - s)
        if last.end_s > next_start:
            merged += 1
        else:
            offset.append(last.detected_end_s - e)
    false_starts = sum(1 for k in range(len(detected)) if k not in used)
    return DelayStats(np.asarray(onset), np.asarray(offset), missed, merged, false_starts)
