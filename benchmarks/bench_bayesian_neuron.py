"""Benchmark and target check of the bayesian-neuron circuit (issue targets, 3 seeds).

Runs ``spikingml run bayesian-neuron`` for the default and the quick preset, seeds 0-2,
on the runtime device with a warm Cython cache (one untimed warm-up run first). Writes
``benchmarks/results/bayesian_neuron.md`` and ``.csv`` with the machine it ran on, and
exits with status 1 if a target is missed. Besides the whole command's wall time it
records its CPU time (user + system of the command and its children), which a shared,
loaded machine inflates less.

Usage::

    python benchmarks/bench_bayesian_neuron.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import resource
import sys

import _harness
from _harness import main

SCIENCE = [
    (
        "internal_logodds_correlation",
        lambda m: m["internal_logodds_correlation"] >= 0.99,
        ">= 0.99",
    ),
    ("logodds_correlation", lambda m: m["logodds_correlation"] >= 0.9, ">= 0.9"),
    ("accuracy_gap", lambda m: m["accuracy_gap"] <= 0.05, "<= 0.05"),
]
TARGETS = {
    "default": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 60, "<= 60 s")],
    "quick": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 15, "<= 15 s")],
}
COLUMNS = [
    "internal_logodds_correlation",
    "logodds_correlation",
    "logodds_rms_error",
    "decoding_accuracy",
    "map_accuracy",
    "accuracy_gap",
    "decoder_threshold",
    "output_rate_hz",
    "input_rate_hz",
    "simulate_wall_seconds",
    "wall_seconds",
    "cpu_seconds",
    "simulated_seconds",
]

_run_once = _harness.run_once


def run_once_with_cpu(*args, **kwargs) -> dict:
    """:func:`_harness.run_once`, adding the command's CPU seconds as ``cpu_seconds``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    metrics = _run_once(*args, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    metrics["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return metrics


_harness.run_once = run_once_with_cpu

if __name__ == "__main__":
    sys.exit(
        main(
            "bayesian-neuron",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="Runtime device (Cython, warm cache). `cpu_seconds`: user + system "
            "time of the command.",
        )
    )
