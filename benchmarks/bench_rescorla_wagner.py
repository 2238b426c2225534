"""Benchmark and target check of the rescorla-wagner circuit (issue targets, 3 seeds).

Runs ``spikingml run rescorla-wagner`` (every paradigm) for the default and the quick
preset, seeds 0-2, on the runtime device with a warm Cython cache (one untimed warm-up
run first). Writes ``benchmarks/results/rescorla_wagner.md`` and ``.csv`` with the
machine it ran on, and exits with status 1 if a target is missed.

Usage::

    python benchmarks/bench_rescorla_wagner.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

SCIENCE = [
    ("blocking_ratio", lambda m: m["blocking_ratio"] <= 0.3, "<= 0.3"),
    (
        "overshadowing_share_error",
        lambda m: m["overshadowing_share_error"] <= 0.1,
        "<= 0.1",
    ),
    (
        "conditioned_inhibitor_value",
        lambda m: m["conditioned_inhibitor_value"] <= -0.5,
        "<= -0.5 lambda",
    ),
    ("overexpectation_drop", lambda m: m["overexpectation_drop"] > 0, "> 0"),
    ("curve_correlation_min", lambda m: m["curve_correlation_min"] >= 0.9, ">= 0.9"),
]
TARGETS = {
    "default": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 30, "<= 30 s")],
    "quick": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 25, "<= 25 s")],
}
COLUMNS = [
    "blocking_ratio",
    "twin_blocking_ratio",
    "blocking_value_x",
    "control_value_x",
    "overshadowing_share",
    "twin_overshadowing_share",
    "overshadowing_share_error",
    "conditioned_inhibitor_value",
    "twin_conditioned_inhibitor_value",
    "overexpectation_drop",
    "twin_overexpectation_drop",
    "acquisition_value",
    "extinction_drop",
    "curve_correlation_acquisition",
    "curve_correlation_extinction",
    "curve_correlation_blocking",
    "curve_correlation_blocking_control",
    "curve_correlation_overshadowing",
    "curve_correlation_conditioned_inhibition",
    "curve_correlation_overexpectation",
    "curve_correlation_min",
    "simulate_wall_seconds",
    "wall_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "rescorla-wagner",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="Runtime device (Cython, warm cache).",
        )
    )
