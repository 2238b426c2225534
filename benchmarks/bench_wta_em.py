"""Benchmark and target check of the wta-em circuit (issue targets, 3 seeds).

Runs ``spikingml run wta-em`` for the default and the quick preset, seeds 0-2, on the
runtime device with a warm Cython cache (one untimed warm-up run first). Writes
``benchmarks/results/wta_em.md`` and ``.csv`` with the machine it ran on (wall and CPU
seconds of the whole command), and exits with status 1 if a target is missed.

Usage::

    python benchmarks/bench_wta_em.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

SCIENCE = [
    ("nmi_gap_mixture", lambda m: m["nmi_gap_mixture"] <= 0.1, "<= 0.1"),
    ("nmi_gap_digits", lambda m: m["nmi_gap_digits"] <= 0.1, "<= 0.1"),
    (
        "weight_logprob_correlation",
        lambda m: m["weight_logprob_correlation"] >= 0.8,
        ">= 0.8 (both data sets)",
    ),
]
# the quick preset trains on 1200 presentations instead of 4000: its NMI gaps are checked
# against a looser bound (the targets are for the default preset)
QUICK = [
    ("nmi_gap_max", lambda m: m["nmi_gap_max"] <= 0.15, "<= 0.15 (quick)"),
    SCIENCE[2],
]
TARGETS = {
    "default": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 60, "<= 60 s")],
    "quick": [*QUICK, ("wall_seconds", lambda m: m["wall_seconds"] <= 15, "<= 15 s")],
}
COLUMNS = [
    "nmi_spiking_mixture",
    "nmi_em_mixture",
    "nmi_gap_mixture",
    "nmi_online_em_mixture",
    "nmi_inference_bound_mixture",
    "weight_logprob_correlation_mixture",
    "weight_logprob_correlation_min_mixture",
    "nmi_spiking_digits",
    "nmi_em_digits",
    "nmi_gap_digits",
    "nmi_online_em_digits",
    "nmi_inference_bound_digits",
    "weight_logprob_correlation_digits",
    "weight_logprob_correlation_min_digits",
    "weight_logprob_correlation",
    "nmi_gap_max",
    "simulated_seconds",
    "wall_seconds",
    "cpu_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "wta-em",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="Runtime device (Cython, warm cache).",
        )
    )
