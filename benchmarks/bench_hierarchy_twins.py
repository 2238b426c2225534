"""Decorrelation profiles of the hierarchy's two twins on held-out digits, over seeds.

The abstract half of issue 22's question, measured on its own: a rate network with the
hierarchy's architecture trained end to end by back-propagation on the labels
(:func:`spikingml.analysis.hierarchy.train_backprop`) and an unsupervised cascade of the
same sizes (per-location FastICA, then k-means layers;
:func:`spikingml.analysis.hierarchy.train_cascade`). For every seed (its own stratified
split: 1257 training, 540 test digits) and every layer of both models, on the test
digits: mean |pairwise correlation| of the units, participation ratio, and the 5-fold
linear-SVM probe (:func:`spikingml.analysis.hierarchy.layer_profile`); the raw pixels
are the reference. Also the RSA (Spearman correlation of correlation-distance RDMs)
between every layer of one twin and every layer of the other.

Writes ``benchmarks/results/hierarchy_twins.{md,csv}``. About 20 s per seed
on one core (1 min for seeds 0-2).

Usage::

    python benchmarks/bench_hierarchy_twins.py [--seeds 0-2]
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from pathlib import Path

import numpy as np

from spikingml.analysis import hierarchy as h
from spikingml.analysis.representations import rdm, rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import seeds as parse_seeds  # noqa: E402


def measure(seed: int) -> tuple[list[dict[str, object]], dict[str, float]]:
    """Profiles of pixels and both twins' layers for one seed, and the twins' RSA."""
    x, labels = h.load_digits_scaled()
    train, test = h.digit_split(labels, 540, seed)
    start = time.perf_counter()
    net = h.train_backprop(x[train], labels[train], seed=seed)
    t_bp = time.perf_counter() - start
    start = time.perf_counter()
    cascade = h.train_cascade(x[train], seed=seed)
    t_cascade = time.perf_counter() - start
    models = {
        "pixels": {"input": x[test]},
        "backprop": net.responses(x[test]),
        "cascade": cascade.responses(x[test]),
    }
    rows = []
    for model, layers in models.items():
        for layer, values in h.layer_profile(layers, labels[test], seed=seed).items():
            rows.append({"seed": seed, "model": model, "layer": layer, **values})
    rdms = {m: {k: rdm(v) for k, v in models[m].items()} for m in ("backprop", "cascade")}
    extra = {
        "backprop_test_accuracy": float(np.mean(net.predict(x[test]) == labels[test])),
        "backprop_seconds": t_bp,
        "cascade_seconds": t_cascade,
    }
    for a in h.LAYERS:
        for b in h.LAYERS:
            extra[f"rsa_backprop_{a}_cascade_{b}"] = rsa(rdms["backprop"][a], rdms["cascade"][b])
    return rows, extra


def main(argv: list[str] | None = None) -> int:
    """Measure and write ``benchmarks/results/hierarchy_twins.{md,csv}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-2", help="seeds, e.g. 0-2 or 0,3 (default 0-2)")
    args = parser.parse_args(argv)
    rows, extras = [], {}
    for seed in parse_seeds(args.seeds):
        r, extra = measure(seed)
        rows += r
        extras[seed] = extra
        print(f"seed {seed}: backprop test accuracy {extra['backprop_test_accuracy']:.3f}")
        for row in r:
            print(
                f"  {row['model']:8s} {row['layer']:5s} |r| {row['mean_abs_correlation']:.3f} "
                f"PR {row['participation_ratio']:.1f} probe {row['probe_accuracy']:.3f}",
                flush=True,
            )
    here = Path(__file__).resolve().parent / "results"
    with open(here / "hierarchy_twins.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    seeds = sorted(extras)
    lines = [
        "# The hierarchy's twins: decorrelation profiles on held-out digits",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}. "
        f"`python benchmarks/bench_hierarchy_twins.py --seeds {args.seeds}`. Each seed: its own "
        "stratified split (1257 training, 540 test digits). Backprop: 64 -> 9 x 12 local "
        "(4 x 4 patches, stride 2) -> 150 -> 10, ReLU, Adam, 60 epochs, labels only; its "
        "`top` is the logits. Cascade: FastICA (12 per patch) -> k-means 150 -> k-means 10, "
        "triangle activations. Measured on the test digits: mean |r| between units, "
        "participation ratio (PR), 5-fold linear-SVM probe accuracy.",
        "",
        "| model | layer | "
        + " | ".join(f"mean abs r, seed {s}" for s in seeds)
        + " | "
        + " | ".join(f"PR, seed {s}" for s in seeds)
        + " | "
        + " | ".join(f"probe, seed {s}" for s in seeds)
        + " |",
        "|---|---|" + "---|" * (3 * len(seeds)),
    ]
    keys = [(r["model"], r["layer"]) for r in rows if r["seed"] == seeds[0]]
    for model, layer in keys:
        per = {r["seed"]: r for r in rows if (r["model"], r["layer"]) == (model, layer)}
        cells = [f"{per[s]['mean_abs_correlation']:.3f}" for s in seeds]
        cells += [f"{per[s]['participation_ratio']:.1f}" for s in seeds]
        cells += [f"{per[s]['probe_accuracy']:.3f}" for s in seeds]
        lines.append(f"| {model} | {layer} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| seed | backprop test accuracy | backprop s | cascade s | RSA backprop layer vs "
        "cascade layer (l1-l1, l2-l2, top-top; best mismatched) |",
        "|---|---|---|---|---|",
    ]
    for s in seeds:
        e = extras[s]
        matched = ", ".join(f"{e[f'rsa_backprop_{k}_cascade_{k}']:.2f}" for k in h.LAYERS)
        mismatched = max(
            e[f"rsa_backprop_{a}_cascade_{b}"] for a in h.LAYERS for b in h.LAYERS if a != b
        )
        lines.append(
            f"| {s} | {e['backprop_test_accuracy']:.3f} | {e['backprop_seconds']:.0f} | "
            f"{e['cascade_seconds']:.0f} | {matched}; {mismatched:.2f} |"
        )
    (here / "hierarchy_twins.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
