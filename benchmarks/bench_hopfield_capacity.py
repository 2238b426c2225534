"""The dense Hopfield twin's capacity at finite N, from corrupted and from clean cues.

The attractor circuit's dense twin (:func:`spikingml.analysis.hopfield.dense_capacity_curve`:
Hebb rule, zero self-coupling, +-1 patterns, asynchronous updates in random order) is
measured here on its own, averaged over many independent networks per load so that the
critical load is a property of the model at that N rather than of one draw of patterns.
For each size N, each cue noise (the fraction of a cue's units flipped) and each load
alpha = P / N, ``--networks`` networks are drawn (new patterns each); ``--cues`` of
their patterns are cued and settle. ``alpha_c`` is where the mean final overlap over all
those cues first falls below 0.9 (:func:`spikingml.analysis.hopfield.critical_load`,
linear interpolation between loads).

Amit, Gutfreund & Sompolinsky (1985) give alpha_c = 0.138 for N -> infinity: the load at
which the retrieval states, near each stored pattern, cease to exist. At finite N two
effects pull the measured value apart: from a cue with 20% of its units flipped the
network must first fall into the basin of the pattern, and those basins shrink before
the retrieval states vanish (the measured alpha_c is lower); from the stored pattern
itself finite-size fluctuations keep retrieval alive beyond 0.138 (higher).

Writes ``benchmarks/results/hopfield_capacity.md``. On one core: about 2 minutes for the
defaults (N = 1000, 8 networks per load), 7 minutes for ``--sizes 500,1000,2000
--networks 6`` (the table in the results).

Usage::

    python benchmarks/bench_hopfield_capacity.py [--sizes 1000] [--networks 8] [--cues 100]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

from spikingml.analysis.hopfield import critical_load, dense_capacity_curve

#: Loads measured for each cue noise (around where the mean overlap crosses 0.9).
LOADS = {
    0.2: (0.115, 0.120, 0.125, 0.130, 0.135, 0.140),
    0.0: (0.135, 0.140, 0.145, 0.150, 0.155, 0.160),
}


def measure(
    n: int, noise: float, loads: tuple[float, ...], networks: int, cues: int
) -> dict[str, object]:
    """Mean final overlap per load over ``networks`` independent networks, and alpha_c.

    Parameters
    ----------
    n : int
        Units.
    noise : float
        Fraction of each cue's units flipped.
    loads : tuple of float
        Increasing loads ``P / n``.
    networks : int
        Independent networks (pattern sets) per load; network ``k`` of load ``i`` is
        drawn from seed ``1000 * k + i``.
    cues : int
        Patterns cued per network (at most ``P``).

    Returns
    -------
    dict
        ``loads``, ``mean`` (over every cue), ``sem`` (of the network means),
        ``alpha_c`` (of the mean curve) and ``alpha_c_networks`` (of each network's
        curve).
    """
    per_net = np.empty((networks, len(loads)))
    for i, alpha in enumerate(loads):
        start = time.perf_counter()
        for k in range(networks):
            m, _ = dense_capacity_curve(
                n, np.array([alpha]), noise, 1000 * k + i, max_patterns_cued=cues
            )
            per_net[k, i] = m[0]
        print(
            f"  N={n} noise={noise:.1f} alpha={alpha:.3f}: mean overlap "
            f"{per_net[:, i].mean():.3f} ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    mean = per_net.mean(axis=0)
    return {
        "loads": loads,
        "mean": mean,
        "sem": per_net.std(axis=0, ddof=1) / np.sqrt(networks),
        "alpha_c": critical_load(np.array(loads), mean),
        "alpha_c_networks": [critical_load(np.array(loads), row) for row in per_net],
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and write ``benchmarks/results/hopfield_capacity.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000", help="comma-separated N (default 1000)")
    parser.add_argument("--networks", type=int, default=8, help="networks per load")
    parser.add_argument("--cues", type=int, default=100, help="patterns cued per network")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.networks < 2 or args.cues < 1:
        parser.error(f"--networks must be >= 2 and --cues >= 1, got {args.networks}, {args.cues}")
    rows = []
    for n in sizes:
        for noise, loads in LOADS.items():
            r = measure(n, noise, loads, args.networks, args.cues)
            rows.append((n, noise, r))
    lines = [
        "# Dense Hopfield twin: critical load at finite N",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}. "
        f"`python benchmarks/bench_hopfield_capacity.py --sizes {args.sizes} "
        f"--networks {args.networks} --cues {args.cues}`. Hebb rule, zero self-coupling, "
        "+-1 patterns, asynchronous updates; each load averages "
        f"{args.networks} independent networks x {args.cues} cues. alpha_c: where the mean "
        "final overlap first falls below 0.9 (interpolated). Amit, Gutfreund & Sompolinsky "
        "(1985): 0.138 for N -> infinity.",
        "",
        "| N | cue noise | alpha_c (mean curve) | alpha_c per network (min-max) | "
        "mean overlap per load (+- s.e.m. over networks) |",
        "|---|---|---|---|---|",
    ]
    for n, noise, r in rows:
        per = np.asarray(r["alpha_c_networks"], dtype=float)
        curve = ", ".join(
            f"{a:.3f}: {m:.3f} +- {s:.3f}"
            for a, m, s in zip(r["loads"], r["mean"], r["sem"], strict=True)
        )
        lines.append(
            f"| {n} | {noise:.1f} | {r['alpha_c']:.4f} | "
            f"{np.nanmin(per):.3f}-{np.nanmax(per):.3f} | {curve} |"
        )
    out = Path(__file__).resolve().parent / "results" / "hopfield_capacity.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
