"""Benchmark and target check of the actor-critic circuit (issue targets, 5 seeds).

Runs ``spikingml run actor-critic`` for the default and the quick preset, seeds 0-4, on
the runtime device with a warm Cython cache (one untimed warm-up run first). Writes
``benchmarks/results/actor_critic.md`` and ``.csv`` with the machine it ran on, and exits
with status 1 if a target is missed. ``learning_wall_seconds`` is the wall time of the
learning trials (the issue's "30 trials in <= 2 minutes"); ``wall_seconds`` adds the
control run (10 trials with learning off, mostly timeouts), the twin, the NIX file and
the figures.

Usage::

    python benchmarks/bench_actor_critic.py [--seeds 0-4] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("last5_over_first5", lambda m: m["last5_over_first5"] <= 0.5, "<= 0.5"),
        ("last5_over_control", lambda m: m["last5_over_control"] <= 0.3, "<= 0.3"),
        ("learning_wall_seconds", lambda m: m["learning_wall_seconds"] <= 120, "<= 120 s"),
    ],
    "quick": [
        ("last5_over_first5", lambda m: m["last5_over_first5"] <= 0.5, "<= 0.5"),
        ("last5_over_control", lambda m: m["last5_over_control"] <= 0.3, "<= 0.3"),
    ],
}
COLUMNS = [
    "latency_first5_s",
    "latency_last5_s",
    "latency_control_s",
    "last5_over_first5",
    "last5_over_control",
    "success_last5",
    "value_map_correlation",
    "twin_latency_first5_s",
    "twin_latency_last5_s",
    "twin_last5_over_first5",
    "learning_wall_seconds",
    "wall_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "actor-critic",
            TARGETS,
            COLUMNS,
            default_seeds="0-4",
            device_note="Runtime device (Cython, warm cache).",
        )
    )
