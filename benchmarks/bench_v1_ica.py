"""Benchmark and target check of the v1-ica circuit (issue targets, 3 seeds).

Runs ``spikingml run v1-ica`` for the default and the quick preset, seeds 0-2, on the
circuit's default device (cpp_standalone, program compiled once and cached; one untimed
warm-up run first). Writes ``benchmarks/results/v1_ica.md`` and ``.csv`` with the
machine it ran on, and exits with status 1 if a target is missed.

Usage::

    python benchmarks/bench_v1_ica.py [--seeds 0-2] [--presets default,quick]
"""

from __future__ import annotations

import sys

from _harness import main

TARGETS = {
    "default": [
        ("ceiling_ratio", lambda m: m["ceiling_ratio"] >= 0.9, ">= 0.9"),
        ("matched_minus_pca_floor", lambda m: m["matched_minus_pca_floor"] >= 0.2, ">= 0.2"),
        ("gabor_fraction", lambda m: m["gabor_fraction"] >= 0.9, ">= 0.9"),
        ("kurtosis_ratio", lambda m: m["kurtosis_ratio"] >= 1.4, ">= 1.4"),
        ("train_wall_seconds", lambda m: m["train_wall_seconds"] <= 90, "<= 90 s"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 180, "<= 180 s"),
    ],
    "quick": [
        ("matched_minus_pca_floor", lambda m: m["matched_minus_pca_floor"] > 0, "> 0"),
        ("gabor_fraction", lambda m: m["gabor_fraction"] >= 0.5, ">= 0.5 (most units)"),
        ("wall_seconds", lambda m: m["wall_seconds"] <= 20, "<= 20 s"),
    ],
}
COLUMNS = [
    "matched_abs_corr_median",
    "ica_ceiling_median",
    "pca_floor_median",
    "random_floor_median",
    "ceiling_ratio",
    "matched_minus_pca_floor",
    "sta_matched_abs_corr_median",
    "infomax_matched_abs_corr_median",
    "gabor_fraction",
    "ica_gabor_fraction",
    "kurtosis_ratio",
    "test_spikes_per_patch",
    "train_wall_seconds",
    "twin_wall_seconds",
    "wall_seconds",
]

if __name__ == "__main__":
    sys.exit(
        main(
            "v1-ica",
            TARGETS,
            COLUMNS,
            default_seeds="0-2",
            device_note="cpp_standalone device (program cached after the warm-up run).",
        )
    )
