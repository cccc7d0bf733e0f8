"""The small model both offline fits share (``fit_frame_vad.py``, ``fit_missed_talk.py``): one tanh hidden
layer and a sigmoid output on standardised features, fit with L-BFGS on the cross-entropy (weighted per
sample or not) plus an L2 penalty on the weights, and written into a C++ header as float literals."""

from __future__ import annotations

import numpy as np


def initial(rng: np.random.Generator, nf: int, hidden: int) -> np.ndarray:
    """Starting parameters: small random weights, zero biases."""
    return np.concatenate(
        [rng.standard_normal(hidden * nf) * 0.3, np.zeros(hidden), rng.standard_normal(hidden) * 0.3, [0.0]]
    )


def unpack(theta: np.ndarray, nf: int, hidden: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    w1 = theta[: hidden * nf].reshape(hidden, nf)
    b1 = theta[hidden * nf : hidden * nf + hidden]
    w2 = theta[hidden * nf + hidden : hidden * nf + 2 * hidden]
    return w1, b1, w2, float(theta[-1])


def loss_grad(
    theta: np.ndarray, x: np.ndarray, y: np.ndarray, hidden: int, l2: float, w: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy (weighted by ``w`` when given) + L2, and its gradient, for scipy's minimize."""
    n, nf = x.shape
    w1, b1, w2, b2 = unpack(theta, nf, hidden)
    h = np.tanh(x @ w1.T + b1)
    p = 1.0 / (1.0 + np.exp(-(h @ w2 + b2)))
    eps = 1e-9
    ce = y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)
    if w is None:
        loss = -np.mean(ce)
        dz = (p - y) / n
    else:
        total = w.sum()
        loss = -np.sum(w * ce) / total
        dz = w * (p - y) / total
    loss += 0.5 * l2 * (np.sum(w1**2) + np.sum(w2**2))
    gw2 = h.T @ dz + l2 * w2
    dh = np.outer(dz, w2) * (1 - h**2)
    gw1 = dh.T @ x + l2 * w1
    return float(loss), np.concatenate([gw1.ravel(), dh.sum(axis=0), gw2, [dz.sum()]])


def predict(theta: np.ndarray, x: np.ndarray, hidden: int) -> np.ndarray:
    w1, b1, w2, b2 = unpack(theta, x.shape[1], hidden)
    return np.asarray(1.0 / (1.0 + np.exp(-(np.tanh(x @ w1.T + b1) @ w2 + b2))))


def c_floats(values: np.ndarray) -> str:
    """Comma-separated C++ float literals (6 significant digits; 2 -> 2.0f, never the invalid 2f)."""

    def literal(v: float) -> str:
        text = f"{v:.6g}"
        return (text if any(c in text for c in ".e") else text + ".0") + "f"

    return ", ".join(literal(float(v)) for v in np.asarray(values).ravel())
