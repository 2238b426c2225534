"""Representations of two circuits' layers against their inputs (issue 22, part 1).

Runs v1-ica (cpp_standalone) and wta-em (runtime) with their quick presets for seeds 0-2
through the circuits' ``simulate``, reads each run's layer out as spike counts per
stimulus window (:func:`spikingml.analysis.layer_responses.layer_responses`) and compares
it with the layer it receives, using :mod:`spikingml.analysis.representations`:

- v1-ica: the whitened test patches (pixels) against the V1 units' spike counts. The
  patches have no labels, so there is no probe; the measures are the units'
  decorrelation (mean |r|), the dimensionality (participation ratio) and the RSA of the
  units' RDM with the pixels' RDM (Euclidean RDMs of the first ``RDM_STIMULI`` test
  patches: many patches evoke no spike, and a silent pattern has no correlation).
- wta-em (digits): the test images' binary pixels (the circuit's on/off input code is
  ``[x, 1 - x]`` of them) against the output layer's spike counts per image: linear probe
  (LinearSVC, 5 stratified folds), mean |r|, participation ratio, RSA of the
  correlation RDMs, and a t-SNE map of each layer (trustworthiness k = 10, 10-NN accuracy).

No noise ceiling over seeds: each seed draws its own test stimuli (other patches, other
digits), so the RDMs of two seeds are not of the same stimuli.

Writes ``benchmarks/results/representations.md`` and the figures
``docs/lessons/v1_ica_representations.png`` and ``docs/lessons/wta_em_representations.png``
(seed 0's RDMs and t-SNE map, every seed's metrics).

Usage::

    python benchmarks/bench_representations.py [--seeds 0-2] [--cache DIR]
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
from _harness import RESULTS, machine, seeds

from spikingml.analysis import representations as rep
from spikingml.analysis.layer_responses import layer_responses
from spikingml.circuits import v1_ica, wta_em
from spikingml.figures.representations import (
    representation_figure,
    save_representation_figure,
)

LESSONS = Path(__file__).resolve().parent.parent / "docs" / "lessons"
#: test patches in v1-ica's RDMs (all 5000 enter mean |r| and the participation ratio)
RDM_STIMULI = 1000
#: stimuli drawn in the figures' RDMs
RDM_SHOWN = 100


def _run(name: str, module, device: str, seed: int, cache: Path | None):
    """A quick run of the circuit (from the cache directory when it holds one)."""
    path = None if cache is None else cache / f"{name}_quick_{seed}.pkl"
    if path is not None and path.exists():
        with path.open("rb") as f:
            result = pickle.load(f)
            return result, float(result.wall_seconds)
    result = module.simulate(module.Params.quick(), seed=seed, device=device, progress=False)
    wall = float(result.wall_seconds)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            pickle.dump(result, f)
    return result, wall


def _common(x: np.ndarray) -> dict:
    """mean |r| (with dropped units) and participation ratio of one layer."""
    mac = rep.mean_abs_correlation(x)
    return {
        "n_units": x.shape[1],
        "mean_abs_r": mac.value,
        "dropped": mac.n_dropped,
        "pr": rep.participation_ratio(x),
    }


def v1_seed(seed: int, cache: Path | None) -> tuple[dict, dict]:
    """Pixels and V1 units of one seed: rows of the table, and seed's figure data."""
    result, wall = _run("v1-ica", v1_ica, "cpp_standalone", seed, cache)
    params = v1_ica.Params.from_dict(result.params)
    units = layer_responses(result, "v1", "patch_onset")
    # the circuit's own count bins floor(t / T), which puts a spike at a float-rounded
    # onset into the previous patch: report how many spikes the two place differently
    moved = 0.5 * np.abs(units - v1_ica.spike_counts(result)).sum()
    pixels = v1_ica.patches(params, seed).test[: params.n_test]
    rdm_in = rep.rdm(pixels[:RDM_STIMULI], metric="euclidean")
    rdm_out = rep.rdm(units[:RDM_STIMULI], metric="euclidean")
    rows = {"pixels": _common(pixels), "V1 units": _common(units)}
    rows["V1 units"]["rsa"] = rep.rsa(rdm_in, rdm_out)
    rows["V1 units"]["spikes_per_unit_patch"] = units.mean()
    rows["V1 units"]["silent_patches"] = float(np.mean(units.sum(axis=1) == 0))
    rows["V1 units"]["sim_wall"] = wall
    rows["V1 units"]["moved"] = moved
    rows["V1 units"]["spikes"] = units.sum()
    fig = {
        "rdm_in": rep.rdm(pixels[:RDM_SHOWN], metric="euclidean", square=True),
        "rdm_out": rep.rdm(units[:RDM_SHOWN], metric="euclidean", square=True),
        "n_stimuli": len(units),
    }
    return rows, fig


def wta_seed(seed: int, cache: Path | None) -> tuple[dict, dict]:
    """Binary digit pixels and wta-em's output layer of one seed."""
    result, wall = _run("wta-em", wta_em, "runtime", seed, cache)
    params = wta_em.Params.from_dict(result.params)
    data = wta_em.make_data(params, seed)["digits"]
    labels = np.asarray(result.extra["digits.test_labels"])
    assert np.array_equal(labels, data.y_test)
    out = layer_responses(result, "digits.output", "image")
    pixels = data.x_test.astype(float)
    rows, fig = {}, {"labels": labels}
    for layer, x in (("pixels", pixels), ("output", out)):
        row = _common(x)
        probe = rep.probe_accuracy(x, labels, cv=5, seed=seed)
        tsne = rep.tsne_map(x, labels, seed=seed)
        row.update(
            probe=probe.mean,
            probe_std=probe.std,
            trust=tsne.trustworthiness,
            knn=tsne.knn_accuracy,
        )
        rows[layer] = row
        fig[layer] = x
        fig[f"tsne_{layer}"] = tsne
    metric = "correlation"
    rows["output"]["rsa"] = rep.rsa(rep.rdm(pixels, metric), rep.rdm(out, metric))
    rows["output"]["spikes_per_image"] = out.sum(axis=1).mean()
    rows["output"]["sim_wall"] = wall
    return rows, fig


def _fmt(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return "-" if not np.isfinite(value) else f"{value:.3f}"
    return str(value)


def _table(columns: list[tuple[str, str]], rows: list[dict]) -> list[str]:
    lines = ["| " + " | ".join(h for _, h in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(k, "")) for k, _ in columns) + " |")
    return lines


def _flat(per_seed: dict[int, dict]) -> list[dict]:
    return [
        {"seed": seed, "layer": layer, **row}
        for seed, rows in per_seed.items()
        for layer, row in rows.items()
    ]


def _summary(per_seed: dict[int, dict], key: str, layer: str) -> str:
    v = np.array([rows[layer][key] for rows in per_seed.values()], dtype=float)
    return f"{v.mean():.3f} +- {v.std(ddof=1) if v.size > 1 else 0.0:.3f}"


def _series(per_seed: dict[int, dict], key: str, layers: dict[str, str]) -> dict:
    return {
        name: [rows[layer][key] for rows in per_seed.values()] for layer, name in layers.items()
    }


def v1_figure(per_seed: dict[int, dict], fig_data: dict, seed: int) -> Path:
    """docs/lessons/v1_ica_representations.png."""
    layers = {"pixels": "pixels", "V1 units": "V1 units"}
    rsa = [rows["V1 units"]["rsa"] for rows in per_seed.values()]
    fig = representation_figure(
        {
            "mean |r| between units": _series(per_seed, "mean_abs_r", layers),
            "participation ratio": _series(per_seed, "pr", layers),
            "RSA(pixels, V1 units)": {"V1 units": rsa},
        },
        fig_data["rdm_in"],
        fig_data["rdm_out"],
        ("whitened pixels", "V1 spike counts"),
        f"v1-ica (quick preset), seeds {list(per_seed)}: {fig_data['n_stimuli']} test patches; "
        f"Euclidean RDMs of the first {RDM_SHOWN} patches of seed {seed}",
        rdm_label="Euclidean distance",
    )
    return save_representation_figure(fig, LESSONS / "v1_ica_representations.png")


def wta_figure(per_seed: dict[int, dict], fig_data: dict, seed: int) -> Path:
    """docs/lessons/wta_em_representations.png."""
    layers = {"pixels": "pixels", "output": "output"}
    labels = fig_data["labels"]
    order = np.argsort(labels[: RDM_SHOWN * 2], kind="stable")
    boundaries = np.flatnonzero(np.diff(labels[order])) + 1
    sq = {layer: rep.rdm(fig_data[layer][order], "correlation", square=True) for layer in layers}
    tsne = fig_data["tsne_output"]
    rsa = [rows["output"]["rsa"] for rows in per_seed.values()]
    fig = representation_figure(
        {
            "linear probe accuracy": _series(per_seed, "probe", layers),
            "10-NN accuracy in t-SNE map": _series(per_seed, "knn", layers),
            "mean |r| between units": _series(per_seed, "mean_abs_r", layers),
            "participation ratio": _series(per_seed, "pr", layers),
            "RSA(pixels, output)": {"output": rsa},
        },
        sq["pixels"],
        sq["output"],
        ("binary pixels", "output spike counts"),
        f"wta-em digits (quick preset), seeds {list(per_seed)}: {len(labels)} test images; "
        f"RDMs of seed {seed}'s first {2 * RDM_SHOWN} images sorted by digit",
        embedding=tsne.embedding,
        labels=labels,
        embedding_title=(
            f"t-SNE of the output layer (seed {seed})\n"
            f"trustworthiness {tsne.trustworthiness:.3f}, 10-NN {tsne.knn_accuracy:.3f}"
        ),
        rdm_boundaries=boundaries,
    )
    return save_representation_figure(fig, LESSONS / "wta_em_representations.png")


def main() -> None:
    """Run both circuits for every seed, write the table and the two figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds, default=seeds("0-2"))
    parser.add_argument("--cache", type=Path, default=None, help="keep the runs here")
    args = parser.parse_args()
    v1, wta, v1_fig, wta_fig = {}, {}, None, None
    for seed in args.seeds:
        v1[seed], fig = v1_seed(seed, args.cache)
        v1_fig = fig if v1_fig is None else v1_fig
        wta[seed], fig = wta_seed(seed, args.cache)
        wta_fig = fig if wta_fig is None else wta_fig
    first = args.seeds[0]
    paths = [v1_figure(v1, v1_fig, first), wta_figure(wta, wta_fig, first)]
    lines = [
        "# Representations of v1-ica's and wta-em's layers against their inputs",
        "",
        f"Machine: {machine()}. `python benchmarks/bench_representations.py` "
        f"(quick presets, seeds {args.seeds}; v1-ica on cpp_standalone, wta-em on runtime).",
        "Responses are spike counts per stimulus window "
        "(`spikingml.analysis.layer_responses`). `sim_wall` is the run's `Result.wall_seconds` "
        "(the simulation, compilation included: the first run of each circuit compiles its "
        "code, and the machine was shared). No noise ceiling: each seed draws its own "
        "test stimuli, so RDMs of different seeds are not of the same stimuli.",
        "",
        "## v1-ica: whitened test patches (pixels) vs V1 units",
        "",
        "No linear probe: natural-image patches have no labels. mean |r| and participation "
        "ratio over all test patches (constant units dropped, `dropped`); RSA = Spearman "
        f"correlation of Euclidean RDMs of the first {RDM_STIMULI} test patches (many "
        "patches evoke no spike, and a silent pattern has no correlation distance). `moved`: "
        "spikes that `v1_ica.spike_counts` (floor(t / T)) bins into another patch than "
        "`layer_responses` does (float rounding at onsets).",
        "",
    ]
    lines += _table(
        [
            ("seed", "seed"),
            ("layer", "layer"),
            ("n_units", "units"),
            ("dropped", "dropped"),
            ("mean_abs_r", "mean abs r"),
            ("pr", "participation ratio"),
            ("rsa", "RSA vs pixels"),
            ("spikes_per_unit_patch", "spikes / unit / patch"),
            ("silent_patches", "patches with no spike"),
            ("moved", "moved"),
            ("sim_wall", "sim_wall (s)"),
        ],
        _flat(v1),
    )
    lines += [
        "",
        "Mean +- sd over seeds: V1 mean |r| "
        f"{_summary(v1, 'mean_abs_r', 'V1 units')} "
        f"(pixels {_summary(v1, 'mean_abs_r', 'pixels')}), "
        f"participation ratio {_summary(v1, 'pr', 'V1 units')} "
        f"(pixels {_summary(v1, 'pr', 'pixels')}), RSA {_summary(v1, 'rsa', 'V1 units')}.",
        "",
        "## wta-em (digits): binary test pixels vs the output layer",
        "",
        "Probe: LinearSVC on standardised responses, 5 stratified folds (seed = run seed), "
        "mean (sd over folds). t-SNE: perplexity 30; trustworthiness k = 10; 10-NN accuracy "
        "in the map (5 folds). RSA = Spearman correlation of the correlation-distance RDMs "
        "of all test images.",
        "",
    ]
    lines += _table(
        [
            ("seed", "seed"),
            ("layer", "layer"),
            ("n_units", "units"),
            ("dropped", "dropped"),
            ("probe", "probe acc"),
            ("probe_std", "probe sd"),
            ("trust", "t-SNE trustworthiness"),
            ("knn", "t-SNE 10-NN acc"),
            ("mean_abs_r", "mean abs r"),
            ("pr", "participation ratio"),
            ("rsa", "RSA vs pixels"),
            ("spikes_per_image", "spikes / image"),
            ("sim_wall", "sim_wall (s)"),
        ],
        _flat(wta),
    )
    lines += [
        "",
        "Mean +- sd over seeds: probe output "
        f"{_summary(wta, 'probe', 'output')} (pixels {_summary(wta, 'probe', 'pixels')}), "
        f"10-NN in t-SNE output {_summary(wta, 'knn', 'output')} "
        f"(pixels {_summary(wta, 'knn', 'pixels')}), trustworthiness output "
        f"{_summary(wta, 'trust', 'output')}, mean |r| output "
        f"{_summary(wta, 'mean_abs_r', 'output')} "
        f"(pixels {_summary(wta, 'mean_abs_r', 'pixels')}), "
        f"participation ratio output {_summary(wta, 'pr', 'output')} "
        f"(pixels {_summary(wta, 'pr', 'pixels')}), RSA {_summary(wta, 'rsa', 'output')}.",
        "",
        "Figures: " + ", ".join(f"`{p.relative_to(LESSONS.parent.parent)}`" for p in paths) + ".",
    ]
    out = RESULTS / "representations.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
