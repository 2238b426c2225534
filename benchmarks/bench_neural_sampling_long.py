"""How close does the neural-sampling circuit get with long runs? KL after 100, 300, 1000 s.

The KL of a finite sample is mostly its finite-sample bias; a long run shows what is left:
the sampler's own error. The circuit's free copy of the default random model (10 units)
samples for 1000 s at the default ``dt`` (0.5 ms = tau / 20) and at half of it, seeds
0-2 (the RBM part shrunk to one tiny copy: it does not touch the Boltzmann copies). For
each, the KL of the states counted up to 100, 300 and 1000 s, beside the KL of as many
independent exact samples at one per tau (``iid_kl_floor``). Writes
``benchmarks/results/neural_sampling_long.md``.

Usage::

    python benchmarks/bench_neural_sampling_long.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from brian2 import ms, second

from spikingml.analysis import boltzmann as bm
from spikingml.circuits import neural_sampling as ns

TIMES = (100, 300, 1000)
RESULTS = Path(__file__).resolve().parent / "results" / "neural_sampling_long.md"


def measure(seed: int, dt) -> tuple[list[float], list[float], float]:
    """KL of the spiking samples and of independent exact samples after each of TIMES."""
    params = ns.Params().replace(
        duration=TIMES[-1] * second,
        n_test=1,
        n_hidden=2,
        rbm_iter=1,
        rbm_duration=200 * ms,
        dt=dt,
    )
    t0 = time.perf_counter()
    result = ns.simulate(params, seed=seed, device="cpp_standalone", progress=False)
    wall = time.perf_counter() - t0
    p_exact = bm.exact_distribution(result.weights["W"], result.weights["b"])
    spikes = result.populations["boltzmann"]
    free = spikes.indices < params.n_units
    steps = np.rint(spikes.times[free] / float(params.dt)).astype(np.int64)
    start, tau_steps = params.steps("burn_in"), params.steps("tau")
    spiking, iid = [], []
    for t in TIMES:
        stop = round(t / float(params.dt))
        counts = bm.state_step_counts(
            spikes.indices[free], steps, params.n_units, tau_steps, start, stop
        )
        spiking.append(bm.kl_divergence(counts, p_exact))
        n = round((stop - start) / tau_steps)
        iid.append(bm.iid_kl_floor(p_exact, n, np.random.default_rng(seed)))
    return spiking, iid, wall


def main() -> None:
    rows = []
    for dt in (0.5 * ms, 0.25 * ms):
        for seed in (0, 1, 2):
            spiking, iid, wall = measure(seed, dt)
            rows.append((dt, seed, spiking, iid, wall))
            print(f"dt {dt}, seed {seed}: KL {spiking}, i.i.d. {iid}, {wall:.0f} s", flush=True)
    head = " | ".join(f"KL {t} s | i.i.d. {t} s" for t in TIMES)
    lines = [
        "# neural-sampling: KL of the joint distribution in long runs",
        "",
        "Free copy of the default random model (10 units, 1024 states), cpp_standalone, "
        f"load average {os.getloadavg()[0]:.1f}. "
        "`python benchmarks/bench_neural_sampling_long.py`. "
        "KL: the circuit's state frequencies (every step after 100 ms) vs the exact "
        "distribution; i.i.d.: mean KL of as many independent exact samples as one per "
        "tau (20 draws).",
        "",
        f"| dt | seed | {head} | wall s |",
        "|---" * (3 + 2 * len(TIMES)) + "|",
    ]
    for dt, seed, spiking, iid, wall in rows:
        cells = " | ".join(f"{a:.4f} | {b:.4f}" for a, b in zip(spiking, iid, strict=True))
        lines.append(f"| {dt} | {seed} | {cells} | {wall:.0f} |")
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
