"""Plain online tempotron in NumPy: the reference the circuit's capacity is compared with.

Not the circuit (:mod:`spikingml.circuits.tempotron` learns in Brian2): one neuron, its
own random latency patterns (every afferent fires once, steps ``1 .. n_steps - 1`` of a
1 ms grid), updated after every pattern with the tempotron rule and momentum
``dw = mu dw + lam err K(t_max - t_i); w += dw`` (``t_max``: the first crossing if it
fired, else the maximum of V), the learning rate falling as ``lam / (1 + epoch /
decay)``. ``delay`` makes each decision on the weights of ``delay`` updates earlier: in
the circuit about P presentation windows overlap, so its decisions use weights up to one
epoch old. After each epoch every pattern is evaluated with the weights frozen.

Usage (numbers in the circuit's docstring)::

    python benchmarks/tempotron_online_numpy.py n_afferents=250 alpha=2.5 lam=3e-4 decay=50
    python benchmarks/tempotron_online_numpy.py shuffle=0 lam=1e-2 mu=0.9 decay=20 delay=80
"""

from __future__ import annotations

import sys
import time
from collections import deque

import numpy as np

from spikingml.analysis.tempotron import psp_kernel


def train(
    n_afferents: int = 250,
    alpha: float = 2.5,
    epochs: int = 200,
    lam: float = 1e-4,
    mu: float = 0.99,
    decay: float = 0.0,
    shuffle: bool = True,
    delay: int = 0,
    seed: int = 0,
    w_init_std: float = 0.01,
    n_steps: int = 500,
    dt: float = 1e-3,
    tau: float = 15e-3,
    tau_s: float = 3.75e-3,
) -> np.ndarray:
    """Fraction correct with frozen weights after every epoch (``decay`` 0: constant)."""
    rng = np.random.default_rng(seed)
    n_patterns = round(alpha * n_afferents)
    steps = rng.integers(1, n_steps, size=(n_patterns, n_afferents))
    labels = rng.permutation(
        np.r_[np.ones(n_patterns // 2), -np.ones(n_patterns - n_patterns // 2)]
    )
    kernel = psp_kernel(np.arange(n_steps) * dt, tau, tau_s)
    padded = np.r_[np.zeros(n_steps), kernel]  # K at (t_max - t_i) + n_steps
    size = 1 << int(np.ceil(np.log2(2 * n_steps)))
    kernel_f = np.fft.rfft(kernel, size)
    w = rng.normal(0.0, w_init_std, n_afferents)
    dw = np.zeros(n_afferents)
    history: deque[np.ndarray] = deque(maxlen=delay + 1)
    accuracy = np.zeros(epochs)
    for epoch in range(epochs):
        order = rng.permutation(n_patterns) if shuffle else np.arange(n_patterns)
        rate = lam / (1 + epoch / decay) if decay > 0 else lam
        for p in order:
            history.append(w)
            drive = np.bincount(steps[p], weights=history[0], minlength=n_steps)
            v = np.convolve(drive, kernel)[:n_steps]
            above = v[1:] > 1.0
            fired = above.any()
            err = (1 + labels[p]) / 2 - fired
            grad = 0.0
            if err != 0:
                t_max = 1 + (np.argmax(above) if fired else np.argmax(v[1:]))
                grad = err * padded[t_max - steps[p] + n_steps]
            dw = mu * dw + rate * grad
            w = w + dw
        drive = np.zeros((n_patterns, n_steps))
        np.add.at(
            drive,
            (np.repeat(np.arange(n_patterns), n_afferents), steps.ravel()),
            np.tile(w, n_patterns),
        )
        v = np.fft.irfft(np.fft.rfft(drive, size, axis=1) * kernel_f[None], size, axis=1)
        fired = (v[:, 1:n_steps] > 1.0).any(axis=1)
        accuracy[epoch] = np.mean(fired == (labels > 0))
    return accuracy


if __name__ == "__main__":
    kwargs: dict[str, float] = {}
    for arg in sys.argv[1:]:
        key, value = arg.split("=")
        kwargs[key] = float(value)
    for key in ("n_afferents", "epochs", "delay", "seed", "n_steps"):
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    if "shuffle" in kwargs:
        kwargs["shuffle"] = bool(kwargs["shuffle"])
    start = time.process_time()
    acc = train(**kwargs)  # type: ignore[arg-type]
    hit = np.flatnonzero(acc >= 0.95)
    print(
        f"{kwargs}: final {acc[-1]:.4f}, best {acc.max():.4f}, first >= 0.95 at epoch "
        f"{hit[0] + 1 if len(hit) else None}, {time.process_time() - start:.1f} s CPU"
    )
