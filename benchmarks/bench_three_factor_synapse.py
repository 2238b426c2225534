"""Benchmark and target check of the three-factor-synapse template circuit (3 seeds).

Runs ``spikingml run three-factor-synapse`` for the default and the quick preset, seeds
0-2, on the runtime device with a warm Cython cache (one untimed warm-up run first).
Writes ``benchmarks/results/three_factor_synapse.md`` and ``.csv`` with the machine it
ran on, and exits with status 1 if a target is missed. The circuit is the rule's exact
solution computed by Brian2's synapses, so its targets are float rounding, and its wall
time is the cost of the smallest complete circuit (the floor of every ``spikingml run``:
Brian2's set-up, the twin, metrics, data.nix and figures).

Usage::

    python benchmarks/bench_three_factor_synapse.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

SCIENCE = [
    ("weight_max_abs_error", lambda m: m["weight_max_abs_error"] <= 1e-9, "<= 1e-9"),
    ("trajectory_max_abs_error", lambda m: m["trajectory_max_abs_error"] <= 1e-9, "<= 1e-9"),
    (
        "weight_change_correlation",
        lambda m: m["weight_change_correlation"] >= 0.999,
        ">= 0.999",
    ),
]
TARGETS = {
    "default": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 30, "<= 30 s")],
    "quick": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 15, "<= 15 s")],
}
COLUMNS = [
    "weight_max_abs_error",
    "trajectory_max_abs_error",
    "weight_change_correlation",
    "mean_weight_change",
    "twin_mean_weight_change",
    "synaptic_events",
    "simulate_wall_seconds",
    "wall_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "three-factor-synapse",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="Runtime device (Cython, warm cache).",
        )
    )
