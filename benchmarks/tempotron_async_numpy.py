"""The circuit's learning schedule in NumPy: copies in flight, stale weights (a scan tool).

Not the circuit (:mod:`spikingml.circuits.tempotron` learns in Brian2): the same
patterns (``tempotron.tasks``), the same schedule (``tempotron.schedule``: ``in_flight``
copies, windows offset on a grid) and the same timing of reads and writes as the
circuit, for one capacity load. A window of pattern ``p`` starts at step ``start``; the
input of afferent ``i`` arrives at step ``start + s_i`` and reads the weight as it is then
(every update applied at a step before it); the decision (first crossing of ``theta`` on
steps ``1 .. n_steps - 1``, else the maximum) is made at ``start + n_steps`` and its
update, with momentum, applied at the end of that step::

    dw = mu * dw + lam0 / (1 + u / tau_lr) * err * K(tmax - ts)        w += dw
    wc += beta * (w - wc)        beta = 1 / (average_epochs * P)   (1 if average_epochs = 0)

(``u``: the update's step; ``tau_lr = lr_decay_epochs`` epochs). After ``n_epochs``
every pattern is evaluated with the final ``wc`` (the circuit's frozen window). With
``K`` windows in flight a decision uses weights up to ``K`` updates old: asynchronous SGD,
which acts like extra momentum (Mitliagkas et al. 2016), so the scan can look for the
learning rate and momentum that suit a given ``in_flight``. Two variants of the rule that
the circuit does not have can be scanned too: ``margin`` (a + pattern must cross ``theta
+ margin``, a - pattern stay below ``theta - margin`` in training) and ``normalize``
(the step divided by the sum of the squared kernels, times ``normalize``).

Usage (prints the fraction correct at the load after training, per seed)::

    python benchmarks/tempotron_async_numpy.py alpha=2.5 in_flight=10 seeds=0-4 \\
        learning_rate=1e-2,2e-2 momentum=0.8,0.9 average_epochs=0,3 [margin=0,0.05] \\
        [normalize=0,5] [preset=quick]

(every combination of the comma-separated values, all in one NumPy batch; values not
given are the preset's).
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
from scipy.signal import lfilter

from spikingml._checks import parse_seeds
from spikingml.analysis.tempotron import evaluate, kernel_norm, psp_kernel
from spikingml.circuits import tempotron as tp


def train(
    params: tp.Params, seeds: list[int], alpha: float, configs: list[dict[str, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction correct at one load, every (config, seed) in one batch.

    ``configs``: values of ``learning_rate``, ``momentum``, ``lr_decay_epochs`` (missing:
    those of ``params``). Returns the fraction correct after training, weights frozen,
    shape (n_configs, n_seeds), and per training epoch, shape (n_configs, n_seeds,
    n_epochs).
    """
    tasks = [tp.tasks(params, seed) for seed in seeds]
    problems = tp._problems(params, tasks[0])
    sizes = [len(p["labels"]) for p in problems]
    sched = tp.schedule(sizes, params.in_flight, params.n_steps)
    k = int(np.flatnonzero(np.isclose(tasks[0].alphas, alpha))[0])
    n_c, n_s = len(configs), len(seeds)
    batch = n_c * n_s
    steps = np.stack([t.capacity_steps[k] for t in tasks] * n_c)  # (batch, P, N)
    labels = np.stack([t.capacity_labels[k] for t in tasks] * n_c)
    _, n_patterns, n_aff = steps.shape
    n, m = params.n_steps, sched.windows_per_epoch
    epoch = m * n
    lo = int(np.r_[0, np.cumsum(sizes)][k])
    mine = slice(lo, lo + n_patterns)
    start0 = sched.slot_of[mine] * n + sched.offsets[sched.copy_of[mine]]
    order = np.argsort(start0, kind="stable")
    n_epochs = params.n_epochs
    starts = (np.arange(n_epochs)[:, None] * epoch + start0[order][None, :]).ravel()
    patterns = np.tile(order, n_epochs)
    # initial weights: the circuit's draw (all problems' afferents), this problem's part
    w = np.stack(
        [
            np.random.default_rng([seed, 3]).normal(0.0, params.w_init_std, len(problems) * n_aff)[
                k * n_aff : (k + 1) * n_aff
            ]
            for seed in seeds
        ]
        * n_c
    )
    dw = np.zeros_like(w)

    def column(name: str) -> np.ndarray:
        return np.repeat([float(c.get(name, getattr(params, name))) for c in configs], n_s)

    lam0, mu = column("learning_rate")[:, None], column("momentum")[:, None]
    margin = np.repeat([float(c.get("margin", 0.0)) for c in configs], n_s)
    normalize = np.repeat([float(c.get("normalize", 0.0)) for c in configs], n_s)
    average = column("average_epochs")
    w_avg = w.copy()
    tau_lr = column("lr_decay_epochs") * epoch
    dt, tau, tau_s = float(params.dt), float(params.tau), float(params.tau_s)
    v0 = kernel_norm(tau, tau_s)
    ea, eb = np.exp(-dt / tau), np.exp(-dt / tau_s)
    padded = np.r_[np.zeros(n), psp_kernel(np.arange(n) * dt, tau, tau_s)]
    ring = 4 * params.in_flight + 8
    history = np.zeros((ring, batch, n_aff))
    history[0] = w
    rows = np.arange(batch)[:, None]
    cols = np.arange(n_aff)[None, :]
    theta = params.theta
    correct = np.zeros((batch, n_epochs))
    for j, (start, p) in enumerate(zip(starts, patterns, strict=True)):
        s = steps[:, p]  # (batch, N)
        # version read by each input: updates at steps u = start_l + n < start + s_i
        version = np.searchsorted(starts, start + s - n, side="left")
        if j - version.min() >= ring:
            raise RuntimeError("ring buffer too small")
        drive = np.bincount(
            (rows * n + s).ravel(),
            weights=history[version % ring, rows, cols].ravel(),
            minlength=batch * n,
        ).reshape(batch, n)
        v = v0 * (
            lfilter([0.0, ea], [1.0, -ea], drive, axis=1)
            - lfilter([0.0, eb], [1.0, -eb], drive, axis=1)
        )
        # training threshold theta + margin * label (a + pattern must clear theta by the
        # margin, a - pattern stay below theta by the margin)
        above = v[:, 1:] > (theta + margin * labels[:, p])[:, None]
        fired = above.any(axis=1)
        err = (1 + labels[:, p]) / 2 - fired
        correct[:, j // n_patterns] += err == 0
        t_max = 1 + np.where(fired, np.argmax(above, axis=1), np.argmax(v[:, 1:], axis=1))
        rate = lam0[:, 0] / (1 + (start + n) / tau_lr)
        grad = padded[t_max[:, None] - s + n]
        # normalize > 0: step / (sum of squared kernels) * normalize (normalized LMS)
        scale = np.where(normalize > 0, normalize / np.maximum((grad**2).sum(1), 1e-3), 1.0)
        dw = mu * dw + (rate * err * scale)[:, None] * grad
        w = w + dw
        # the consolidated weight: a running mean of w over average_epochs epochs
        beta = np.where(average > 0, 1 / np.maximum(average * n_patterns, 1), 1.0)
        w_avg = w_avg + beta[:, None] * (w - w_avg)
        history[(j + 1) % ring] = w
    final = np.array(
        [
            np.mean(
                evaluate(w_avg[b], steps[b], n, dt, tau, tau_s, theta).fired == (labels[b] > 0)
            )
            for b in range(batch)
        ]
    )
    return final.reshape(n_c, n_s), (correct / n_patterns).reshape(n_c, n_s, n_epochs)


def _grid(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


if __name__ == "__main__":
    args = dict(arg.split("=", 1) for arg in sys.argv[1:])
    alpha = float(args.pop("alpha", 2.5))
    seeds = parse_seeds(args.pop("seeds", "0-2"))
    preset = args.pop("preset", "default")
    params = tp.Params.quick() if preset == "quick" else tp.Params()
    scanned = (
        "learning_rate",
        "momentum",
        "lr_decay_epochs",
        "average_epochs",
        "margin",
        "normalize",
    )
    grid = {name: _grid(args.pop(name)) for name in scanned if name in args}
    params = params.replace_from_strings(args)
    configs = [
        dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())
    ]
    t0 = time.process_time()
    final, curves = train(params, seeds, alpha, configs or [{}])
    print(f"{preset} alpha {alpha} {args} seeds {seeds} ({time.process_time() - t0:.0f} s CPU)")
    for c, config in enumerate(configs or [{}]):
        first = [
            int(np.flatnonzero(curve >= params.criterion)[0]) + 1
            if (curve >= params.criterion).any()
            else None
            for curve in curves[c]
        ]
        print(
            f"{config}: min {final[c].min():.3f} mean {final[c].mean():.3f} | "
            + " ".join(f"{x:.3f}" for x in final[c])
            + f" | first epoch >= criterion {first}",
            flush=True,
        )
