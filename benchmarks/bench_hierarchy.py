"""Benchmark and target check of the hierarchy circuit (issue 22, section 2; 3 seeds).

Runs ``spikingml run hierarchy`` for the default and the quick preset, seeds 0-2, on the
circuit's default device (cpp_standalone: one program trains the three layers and
records the test responses), with both twins (back-propagation in JAX, the unsupervised
cascade) in the same command. Writes ``benchmarks/results/hierarchy.md`` and ``.csv``
with the machine it ran on, and exits with status 1 if a target is missed. Issue 22's
targets: the circuit's own readout >= 0.95 on the 540 held-out digits, mean |r| falling
monotonically from l1 to l2 to top, a default run within 3 minutes; its stretch targets
(readout within 0.02 of the backprop twin, top-layer probe above the pixels' probe,
matched RSA >= 0.6 and above every mismatched one) are listed so that the table says
whether they are met.

Usage::

    python benchmarks/bench_hierarchy.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main


def _rsa_stretch(m: dict[str, float]) -> bool:
    matched = [m[f"rsa_matched_{k}"] for k in ("l1", "l2", "top")]
    return min(matched) >= 0.6 and min(matched) > m["rsa_mismatched_max"]


TARGETS = {
    "default": [
        ("top_accuracy", lambda m: m["top_accuracy"] >= 0.95, ">= 0.95"),
        ("decorrelation_monotone", lambda m: m["decorrelation_monotone"] == 1, "= 1"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 180, "<= 180 s"),
        ("readout_gap", lambda m: m["readout_gap"] <= 0.02, "<= 0.02 (stretch)"),
        (
            "spiking_top_probe_accuracy",
            lambda m: m["spiking_top_probe_accuracy"] > m["pixels_probe_accuracy"],
            "> pixels_probe_accuracy (stretch)",
        ),
        ("rsa_matched_top", _rsa_stretch, "all matched >= 0.6 and > mismatched (stretch)"),
    ],
    "quick": [("wall_seconds", lambda m: m["wall_seconds"] <= 150, "<= 150 s")],
}
COLUMNS = [
    "top_accuracy",
    "backprop_accuracy",
    "readout_gap",
    "decorrelation_monotone",
    "pixels_mean_abs_correlation",
    *[
        f"{model}_{layer}_{key}"
        for key in ("mean_abs_correlation", "participation_ratio", "probe_accuracy")
        for model in ("spiking", "backprop", "cascade")
        for layer in ("l1", "l2", "top")
    ],
    "pixels_participation_ratio",
    "pixels_probe_accuracy",
    "rsa_matched_l1",
    "rsa_matched_l2",
    "rsa_matched_top",
    "rsa_mismatched_max",
    "rsa_cascade_matched_mean",
    "tsne_trustworthiness",
    "tsne_knn_accuracy",
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
            "hierarchy",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (the circuit's default; a program is "
            "compiled once per parameter set, -O3, in a persistent build directory, so "
            "seeds 1 and 2 reuse seed 0's). The twins (back-propagation in JAX, 60 epochs; "
            "FastICA and k-means) run in the same command, and their time is in "
            "wall_seconds.",
        )
    )
