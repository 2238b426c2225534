"""Benchmark and target check of the attractor circuit (issue 21 targets, 3 seeds).

Runs ``spikingml run attractor`` for the default and the quick preset, seeds 0-2, on the
circuit's default device (cpp_standalone: one program learns every block of patterns
and runs every recall trial). Writes ``benchmarks/results/attractor.md`` and ``.csv``
with the machine it ran on, and exits with status 1 if a target is missed. The science
targets are the default preset's (N = 1000 excitatory neurons); the quick preset (400
neurons) is reported with its wall time. The stretch target (``alpha_c_ratio >= 0.5``)
is listed among the targets so that the table says whether it is met.

Usage::

    python benchmarks/bench_attractor.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("recall_overlap", lambda m: m["recall_overlap"] >= 0.9, ">= 0.9"),
        ("recall_load", lambda m: m["recall_load"] >= 0.02, ">= 0.02"),
        (
            "noise_curve_correlation",
            lambda m: m["noise_curve_correlation"] >= 0.9,
            ">= 0.9",
        ),
        ("background_rate_hz", lambda m: m["background_rate_hz"] <= 5, "<= 5 Hz"),
        (
            "alpha_c_twin_dense",
            lambda m: abs(m["alpha_c_twin_dense"] - 0.138) <= 0.01,
            "within 0.01 of 0.138",
        ),
        ("alpha_c_ratio", lambda m: m["alpha_c_ratio"] >= 0.5, ">= 0.5 (stretch)"),
    ],
    "quick": [("wall_seconds", lambda m: m["wall_seconds"] <= 300, "<= 300 s")],
}
COLUMNS = [
    "recall_overlap",
    "recall_load",
    "twin_recall_overlap",
    "alpha_c_circuit",
    "alpha_c_twin_sparse",
    "alpha_c_ratio",
    "alpha_c_twin_dense",
    "noise_curve_correlation",
    "recall_time_ms",
    "background_rate_hz",
    "pattern_rate_hz",
    "spurious_fraction",
    "mixture_fraction",
    "other_pattern_fraction",
    "twin_spurious_fraction",
    "twin_mixture_fraction",
    "weight_correlation",
    "compile_seconds",
    "binary_seconds",
    "simulate_wall_seconds",
    "wall_seconds",
    "cpu_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "attractor",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (the circuit's default; each run compiles "
            "its program once, -O3). The twins (sparse and dense Hopfield networks, "
            "NumPy) run in the same command.",
        )
    )
