"""Benchmark and target check of the tempotron circuit (issue targets, 3 seeds).

Runs ``spikingml run tempotron`` for the default and the quick preset, seeds 0-2, on the
circuit's default device (``cpp_standalone``) with warm build directories (untimed
warm-up runs of both presets first: each preset is a program of its own). Writes
``benchmarks/results/tempotron.md`` and ``.csv`` with the machine it ran on, and exits
with status 1 if a target is missed.

Usage::

    python benchmarks/bench_tempotron.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _harness import main, run_once

SCIENCE = [
    ("timing_task_accuracy", lambda m: m["timing_task_accuracy"] >= 0.95, ">= 0.95"),
    ("lda_counts_accuracy", lambda m: m["lda_counts_accuracy"] <= 0.6, "<= 0.6"),
    (
        "crosscheck_decision_agreement",
        lambda m: m["crosscheck_decision_agreement"] == 1.0,
        "== 1",
    ),
]
TARGETS = {
    "default": [
        ("capacity_alpha", lambda m: m["capacity_alpha"] >= 2.5, ">= 2.5"),
        *SCIENCE,
        ("wall_seconds", lambda m: m["wall_seconds"] <= 60, "<= 60 s"),
    ],
    "quick": [*SCIENCE, ("wall_seconds", lambda m: m["wall_seconds"] <= 15, "<= 15 s")],
}
COLUMNS = [
    "capacity_alpha",
    "perceptron_capacity_alpha",
    "tempotron_accuracy_alpha_1",
    "tempotron_accuracy_alpha_1_5",
    "tempotron_accuracy_alpha_2",
    "tempotron_accuracy_alpha_2_5",
    "tempotron_accuracy_alpha_3",
    "tempotron_best_accuracy_alpha_2_5",
    "epochs_to_criterion_alpha_2",
    "perceptron_accuracy_alpha_1_5",
    "perceptron_accuracy_alpha_2",
    "perceptron_accuracy_alpha_2_5",
    "timing_task_accuracy",
    "lda_counts_accuracy",
    "lda_binned_accuracy",
    "perceptron_counts_accuracy",
    "perceptron_binned_accuracy",
    "voltage_crosscheck_error",
    "crosscheck_decision_agreement",
    "simulate_wall_seconds",
    "wall_seconds",
    "cpu_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    if "--help" not in sys.argv and "-h" not in sys.argv:
        print("warm-up run of the default preset (compiles its program) ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            run_once("tempotron", "default", 0, Path(tmp) / "warmup")
    sys.exit(
        main(
            "tempotron",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (the circuit's default), warm build directories.",
        )
    )
