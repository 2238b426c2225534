"""Benchmark and target check of the td-conditioning circuit (issue targets, 5 seeds).

Runs ``spikingml run td-conditioning`` for the default and the quick preset, seeds 0-4,
on the runtime device with a warm Cython cache (one untimed warm-up run first). Writes
``benchmarks/results/td_conditioning.md`` and ``.csv`` with the machine it ran on, and
exits with status 1 if a target is missed.

Usage::

    python benchmarks/bench_td_conditioning.py [--seeds 0-4] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("baseline_hz", lambda m: 3 <= m["baseline_hz"] <= 8, "3-8 Hz"),
        (
            "cs_response_late_hz",
            lambda m: m["cs_response_late_hz"] >= m["baseline_hz"],
            ">= baseline",
        ),
        ("transfer_ratio", lambda m: m["transfer_ratio"] <= 0.3, "<= 0.3"),
        ("omission_dip_fraction", lambda m: m["omission_dip_fraction"] >= 0.5, ">= 0.5"),
        ("delta_correlation", lambda m: m["delta_correlation"] >= 0.85, ">= 0.85"),
        ("value_correlation", lambda m: m["value_correlation"] >= 0.8, ">= 0.8"),
        ("extinction_drop", lambda m: m["extinction_drop"] >= 0.5, ">= 0.5"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 60, "<= 60 s"),
    ],
    "quick": [
        ("delta_correlation", lambda m: m["delta_correlation"] >= 0.8, ">= 0.8"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 15, "<= 15 s"),
    ],
}
COLUMNS = [
    "baseline_hz",
    "cs_response_late_hz",
    "us_response_early_hz",
    "us_response_late_hz",
    "transfer_ratio",
    "omission_dip_fraction",
    "delta_correlation",
    "value_correlation",
    "extinction_drop",
    "twin_extinction_drop",
    "simulate_wall_seconds",
    "wall_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "td-conditioning",
            TARGETS,
            COLUMNS,
            default_seeds="0-4",
            device_note="Runtime device (Cython, warm cache).",
        )
    )
