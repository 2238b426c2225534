"""Benchmark and target check of the stochastic-synapses circuit (issue 21 targets, 3 seeds).

Runs ``spikingml run stochastic-synapses`` for the default and the quick preset, seeds
0-2, on the circuit's default device (cpp_standalone: one compilation per run; the
program simulates every release probability side by side). Writes
``benchmarks/results/stochastic_synapses.md`` and ``.csv`` with the machine it ran on,
and exits with status 1 if a target is missed. The science targets (gap at the best p
at least 30% smaller than at p = 1; gap-vs-p curves of circuit and twin correlated,
r >= 0.8) are checked on every default-preset seed; the deletion stretch
(``deletion_loss_ratio <= 0.5``) is reported, not checked. The quick preset (100 epochs,
300 validation and 300 test digits) is checked for its wall time only.

Usage::

    python benchmarks/bench_stochastic_synapses.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("gap_reduction", lambda m: m["gap_reduction"] >= 0.3, ">= 0.3"),
        ("gap_curve_correlation", lambda m: m["gap_curve_correlation"] >= 0.8, ">= 0.8"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 120, "<= 120 s"),
    ],
    "quick": [("wall_seconds", lambda m: m["wall_seconds"] <= 60, "<= 60 s")],
}
COLUMNS = [
    "gap_p100",
    "best_p",
    "gap_reduction",
    "twin_best_p",
    "twin_gap_reduction",
    "gap_curve_correlation",
    "noise_gap_reduction",
    "test_accuracy_p100",
    "test_accuracy",
    "deletion_loss_deterministic",
    "deletion_loss_stochastic",
    "deletion_loss_ratio",
    "twin_deletion_loss_ratio",
    "spikes_per_synapse_per_example",
    "compile_seconds",
    "binary_seconds",
    "wall_seconds",
    "cpu_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "stochastic-synapses",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (-O3, compiled once per run). `cpu_seconds`: "
            "user + system time of the command. `test_accuracy`: the copy at "
            "release_probability 0.4.",
        )
    )
