"""Temporary numpy stand-ins for kernels that have not landed yet (tests in progress only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly


@dataclass
class SpeechStarted:
    start_s: float


@dataclass
class SpeechEnded:
    end_s: float


class EnergyDetector:
    def __init__(
        self, threshold_dbfs: float = -42.0, min_speech_ms: int = 60, min_silence_ms: int = 200
    ) -> None:
        self.th = threshold_dbfs
        self.min_speech = min_speech_ms / 1000
        self.min_silence = min_silence_ms / 1000
        self.t = 0.0
        self.speaking = False
        self.run_start: float | None = None
        self.last_speech = 0.0

    def push(self, x, rate):
        out = []
        n = rate // 100
        for i in range(0, x.size, n):
            f = x[i : i + n]
            db = 10 * np.log10(np.mean(f.astype(np.float64) ** 2) + 1e-12)
            t0 = self.t
            self.t += f.size / rate
            if db > self.th:
                if self.run_start is None:
                    self.run_start = t0
                self.last_speech = self.t
                if not self.speaking and self.t - self.run_start >= self.min_speech:
                    self.speaking = True
                    out.append(SpeechStarted(self.run_start))
            else:
                if not self.speaking:
                    self.run_start = None
                elif self.t - self.last_speech >= self.min_silence:
                    self.speaking = False
                    self.run_start = None
                    out.append(SpeechEnded(self.last_speech))
        return out


class PolyResampler:
    def __init__(self, a: int, b: int) -> None:
        g = np.gcd(a, b)
        self.up, self.down = b // g, a // g

    def process(self, x):
        return resample_poly(x, self.up, self.down).astype(np.float32)
