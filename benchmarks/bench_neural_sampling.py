"""Benchmark and target check of the neural-sampling circuit (issue 21 targets, 3 seeds).

Runs ``spikingml run neural-sampling`` for the default and the quick preset, seeds 0-2,
on the circuit's default device (cpp_standalone: one program per run, compiled with the
build cached by Brian2 per process, so every run includes its compile). Writes
``benchmarks/results/neural_sampling.md`` and ``.csv`` with the machine it ran on, and
exits with status 1 if a target is missed. The science targets are the default preset's
(10 units sampled for 100 s; 100 test digits for 2 s); the quick preset (10 s, 20 digits)
is reported with its wall time.

Usage::

    python benchmarks/bench_neural_sampling.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("kl_joint_nats", lambda m: m["kl_joint_nats"] <= 0.05, "<= 0.05"),
        (
            "fill_in_accuracy_difference",
            lambda m: abs(m["fill_in_accuracy_difference"]) <= 0.02,
            "|.| <= 0.02",
        ),
    ],
    "quick": [("wall_seconds", lambda m: m["wall_seconds"] <= 90, "<= 90 s")],
}
COLUMNS = [
    "kl_joint_nats",
    "kl_joint_gibbs_nats",
    "kl_joint_iid_nats",
    "kl_joint_bias_formula_nats",
    "kl_conditional_nats",
    "kl_conditional_gibbs_nats",
    "kl_conditional_iid_nats",
    "marginal_max_abs_error",
    "fill_in_accuracy",
    "fill_in_accuracy_gibbs",
    "fill_in_accuracy_difference",
    "fill_in_accuracy_gibbs_long",
    "fill_in_accuracy_pixel_mean",
    "fill_in_agreement",
    "n_samples",
    "mean_rate_hz",
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
            "neural-sampling",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (the circuit's default; each run compiles "
            "its program). `cpu_seconds`: user + system time of the command.",
        )
    )
