"""Benchmark and target check of the eprop-memory circuit (issue 20 targets, 3 seeds).

Runs ``spikingml run eprop-memory`` for the default and the quick preset, seeds 0-2, on
the circuit's default device (cpp_standalone: one program, compiled once per run, trains
the LIF + ALIF network and its LIF-only ablation side by side). Writes
``benchmarks/results/eprop_memory.md`` and ``.csv`` with the machine it ran on, and exits
with status 1 if a target is missed. The science targets are the default preset's; the
quick preset (fewer, shorter trials) is reported, with its wall time.

Usage::

    python benchmarks/bench_eprop_memory.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("recall_accuracy_long", lambda m: m["recall_accuracy_long"] >= 0.95, ">= 0.95"),
        ("lif_recall_accuracy_long", lambda m: m["lif_recall_accuracy_long"] <= 0.7, "<= 0.70"),
        ("lstm_recall_accuracy_long", lambda m: m["lstm_recall_accuracy_long"] >= 0.95, ">= 0.95"),
        # training: the compiled program's run (both networks side by side)
        ("simulate_wall_seconds", lambda m: m["simulate_wall_seconds"] <= 600, "<= 600 s"),
    ],
    "quick": [("wall_seconds", lambda m: m["wall_seconds"] <= 180, "<= 180 s")],
}
COLUMNS = [
    "recall_accuracy_long",
    "lif_recall_accuracy_long",
    "lstm_recall_accuracy_long",
    "longest_delay_95",
    "lif_longest_delay_95",
    "lstm_longest_delay_95",
    "final_training_error",
    "lif_final_training_error",
    "lstm_final_training_error",
    "trials_to_95",
    "lstm_trials_to_95",
    "firing_rate_hz",
    "compile_seconds",
    "binary_seconds",
    "simulate_wall_seconds",
    "lstm_training_seconds",
    "wall_seconds",
    "cpu_seconds",
    "simulated_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "eprop-memory",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (the circuit's default; each run compiles "
            "its program once and runs it twice, side by side). `cpu_seconds`: user + "
            "system time of the command.",
        )
    )
