"""The TD-conditioning circuit: contract, protocol, and the science of the quick preset.

Tolerances: the quick preset (50 trials) was measured at seeds 0-4 (see the closing note
of the issue and benchmarks/bench_td_conditioning.py); each bound below sits between the
worst measured value and the point where the phenomenon would no longer be there.
"""

import numpy as np
import pytest
from _optional import require
from _roundtrip import check_round_trips, nix_block

from spikingml import ValidationError
from spikingml.analysis.stats import firing_rates, isi_cv
from spikingml.circuits import REGISTRY, get_circuit
from spikingml.circuits import td_conditioning as td


def test_registered():
    assert REGISTRY["td-conditioning"] == "spikingml.circuits.td_conditioning"
    assert get_circuit("td-conditioning") is td
    assert set(td.METRICS) >= {
        "baseline_hz",
        "cs_response_late_hz",
        "us_response_early_hz",
        "us_response_late_hz",
        "transfer_ratio",
        "omission_dip_fraction",
        "delta_correlation",
        "value_correlation",
        "extinction_drop",
    }


def test_unknown_circuit_suggests():
    with pytest.raises(ValidationError, match="did you mean td-conditioning"):
        get_circuit("td-conditionin")


def test_simulate_rejects_bad_arguments():
    with pytest.raises(ValidationError, match="seed"):
        td.simulate(td.Params.quick(), seed=-1)
    with pytest.raises(ValidationError, match="device"):
        td.simulate(td.Params.quick(), device="gpu")
    with pytest.raises(ValidationError, match="params"):
        td.simulate({"n_acquisition": 3})


def test_result_is_plain_data(td_quick):
    params, result, _, _ = td_quick
    assert result.circuit == "td-conditioning"
    sizes = {name: pop.size for name, pop in result.populations.items()}
    assert sizes == {
        "time_cells": params.n_bins * params.cells_per_bin,
        "critic": params.n_critic,
        "dopamine": params.n_dopamine,
    }
    assert [p.name for p in result.phases] == ["acquisition", "extinction"]
    assert result.phases[-1].stop == pytest.approx(params.n_trials * float(params.trial_duration))
    assert len(result.events["CS"]) == params.n_trials
    n_omitted = params.n_acquisition // params.omission_every
    assert len(result.events["reward"]) == params.n_acquisition - n_omitted
    assert result.weights["value_per_trial"].shape == (params.n_trials, params.n_bins)
    for pop in result.populations.values():
        assert pop.times.min() >= 0 and pop.times.max() < result.t_stop
        assert pop.indices.max() < pop.size


def test_time_cells_form_a_sequence(td_quick):
    # group k fires only in its bin after the CS, at time_cell_rate (regular firing):
    # 20 cells x 100 Hz x 50 ms = exactly 5 spikes per cell and trial (+-1 for phase).
    params, result, _, _ = td_quick
    tc = result.populations["time_cells"]
    rel = tc.times - np.repeat(0.0, len(tc.times))
    period, cs_onset = float(params.trial_duration), float(params.cs_onset)
    trial = np.floor(tc.times / period)
    since_cs = tc.times - trial * period - cs_onset
    group = tc.indices // params.cells_per_bin
    assert np.all(since_cs >= group * 0.05 - 1e-9)
    assert np.all(since_cs < (group + 1) * 0.05 + 1e-3)
    per_cell_trial = len(rel) / (tc.size * params.n_trials)
    assert per_cell_trial == pytest.approx(5.0, abs=0.1)


def test_tonic_baseline(td_quick):
    # The integrators reproduce the tonic drive (5 Hz); 3-8 Hz is the target range.
    _, _, _, m = td_quick
    assert m["baseline_hz"] == pytest.approx(5.0, abs=0.3)


def test_dopamine_response_transfers_from_us_to_cs(td_quick):
    # Measured (quick, seeds 0-4): CS response 7.9-8.4 Hz above a 5 Hz baseline; US
    # response falls from 3.6-4.0 to 1.0-1.4 Hz (ratio 0.26-0.37). The quick run has only
    # 40 acquisition trials, so the transfer is not yet complete: 0.5 still separates a
    # transfer from none (ratio ~1).
    _, _, _, m = td_quick
    assert m["cs_response_late_hz"] >= m["baseline_hz"]
    assert m["us_response_early_hz"] > 2.0
    assert m["transfer_ratio"] <= 0.5


def test_omitted_reward_pauses_dopamine(td_quick):
    # A predicted reward that does not come: the rate at the US time drops to ~0.
    _, _, _, m = td_quick
    assert m["omission_dip_fraction"] >= 0.5


def test_agrees_with_td_twin(td_quick):
    # Issue target for --quick: delta_correlation >= 0.8 (measured 0.89-0.90); the critic
    # follows the twin's value closely (measured 0.98).
    _, _, _, m = td_quick
    assert m["delta_correlation"] >= 0.8
    assert m["value_correlation"] >= 0.9


def test_learned_values_approach_reward_scale(td_quick):
    # The reward drive is 10 Hz and the critic gain 0.25, so a fully predicted reward is
    # 40 Hz of critic value in every bin between CS and US; after 40 trials the bins are
    # within 30% of it, and the bins after the US stay low (< 10 Hz).
    params, result, _, _ = td_quick
    v = result.weights["value_per_trial"][params.n_acquisition - 1]
    assert np.all(np.abs(v[:10] - 40.0) < 12.0)
    assert np.all(v[11:] < 10.0)


def test_twin_rates_mapping():
    alpha, lam = td.twin_rates(td.Params())
    # alpha scales linearly with A_plus and critic_gain; lambda does not depend on them
    alpha2, lam2 = td.twin_rates(td.Params(A_plus=2 * td.Params().A_plus))
    assert alpha2 == pytest.approx(2 * alpha)
    assert lam2 == pytest.approx(lam)
    assert 0 < lam < 1


def test_figures_written(td_quick, tmp_path):
    params, result, twin, _ = td_quick
    paths = td.figures(result, twin, tmp_path)
    assert [p.name for p in paths] == ["comparison.png", "learning_curves.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


# Runtime and cpp_standalone give identical spikes: tests/test_contract.py
# (test_runtime_and_cpp_standalone_agree, on Params.tiny()).


@pytest.mark.slow
def test_default_preset_meets_issue_targets():
    # The issue's targets for the default preset (benchmarks/bench_td_conditioning.py
    # checks them for seeds 0-4). Measured seed 0: baseline 4.95 Hz, CS response 8.9 Hz,
    # transfer 0.11, dip 1.0, delta r 0.92, value r 0.98, extinction drop 0.74; the bounds
    # are the targets themselves, which every measured seed clears.
    params = td.Params()
    result = td.simulate(params, seed=0, progress=False)
    m = td.compare(result, td.twin(params))
    assert 3.0 <= m["baseline_hz"] <= 8.0
    assert m["cs_response_late_hz"] >= m["baseline_hz"]
    assert m["transfer_ratio"] <= 0.3
    assert m["omission_dip_fraction"] >= 0.5
    assert m["delta_correlation"] >= 0.85
    assert m["value_correlation"] >= 0.8
    assert m["extinction_drop"] >= 0.5


def test_initial_phases_are_the_seeds_only_draw():
    params = td.Params.quick()
    phases = td.initial_phases(params, 4)
    rng = np.random.default_rng(4)
    sizes = (params.n_bins * params.cells_per_bin, params.n_critic, params.n_dopamine)
    np.testing.assert_array_equal(phases, np.concatenate([rng.uniform(0, 1, n) for n in sizes]))
    assert not np.array_equal(phases, td.initial_phases(params, 5))


@pytest.mark.standalone
def test_simulate_many_compiles_one_program_for_seeds_and_run_time_values(tmp_path, monkeypatch):
    # two seeds and a new learning rate on the tiny preset: one compilation (an empty
    # cache), the results in order, each with its own parameters and seed, the learning
    # rate changing the run and the seed's phases too
    from spikingml.simulation import record_device_times

    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    tiny = td.Params.tiny()
    faster = tiny.replace(A_plus=2 * tiny.A_plus)
    runs = [(tiny, 1), (faster, 1), (tiny, 2)]
    with record_device_times() as times:
        results = list(td.simulate_many(runs, "cpp_standalone", progress=False))
    assert times.compilations == 1
    assert [(r.params["A_plus"], r.seed) for r in results] == [
        (tiny.A_plus, 1),
        (faster.A_plus, 1),
        (tiny.A_plus, 2),
    ]
    w = [r.weights["critic_w"] for r in results]
    assert not np.allclose(w[0], w[1]) and not np.allclose(w[0], w[2])
    # the same structure again, another process's way: nothing to compile
    with record_device_times() as times:
        (again,) = td.simulate_many([(faster, 1)], "cpp_standalone", progress=False)
    assert times.compilations == 0
    np.testing.assert_array_equal(again.weights["critic_w"], w[1])


def test_simulate_seeds_checks_its_arguments():
    with pytest.raises(ValidationError, match="seed"):
        next(td.simulate_seeds(td.Params.quick(), seeds=[0, -1]))
    with pytest.raises(ValidationError, match="device"):
        next(td.simulate_seeds(td.Params.quick(), seeds=[0], device="gpu"))


@pytest.mark.slow
@pytest.mark.standalone
def test_rerun_seed_equals_a_fresh_single_run(tmp_path, monkeypatch):
    # Seeds compiled once and rerun (run args) give the spikes, weights and every output
    # file of a separate single run of that seed, under cpp_standalone.
    import json

    import neo

    from spikingml.cli import main

    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path / "cache"))  # compiles here
    params = td.Params.quick().replace(n_acquisition=6, n_extinction=2, omission_every=3)
    # seeds after the first: two programs at once, each in a results directory of its own
    results = list(td.simulate_seeds(params, seeds=[0, 2, 1, 3], progress=False, jobs=2))
    assert [r.seed for r in results] == [0, 2, 1, 3]
    for k, seed in ((1, 2), (3, 3)):
        # a program of the seed's own (its phases compiled in), not a rerun
        (single,) = td.simulate_many([(params, seed)], "cpp_standalone", False, fresh=True)
        for name, pop in single.populations.items():
            np.testing.assert_array_equal(results[k].populations[name].indices, pop.indices)
            np.testing.assert_array_equal(results[k].populations[name].times, pop.times)
        np.testing.assert_array_equal(results[k].weights["critic_w"], single.weights["critic_w"])
    assert not np.array_equal(
        results[0].populations["dopamine"].times, results[1].populations["dopamine"].times
    )
    # the reruns' results directories and run-argument files are gone
    builds = list((tmp_path / "cache" / "standalone").iterdir())
    assert builds and not [p for b in builds for p in b.glob("results-rerun-*")]
    assert not [p for b in builds for p in (b / "static_arrays").glob("init_neurons_phi_*")]

    # the command line: DIR/seed-N holds what a single run of seed N writes
    sets = ["--set", "n_acquisition=6", "n_extinction=2", "omission_every=3"]
    common = ["run", "td-conditioning", "--quick", "--device", "cpp_standalone", "--no-progress"]
    assert main([*common, "--seeds", "0,2", "--out", str(tmp_path / "many"), *sets]) == 0
    assert main([*common, "--seed", "2", "--out", str(tmp_path / "one"), *sets]) == 0
    many, one = tmp_path / "many" / "seed-2", tmp_path / "one"
    assert sorted(p.name for p in many.iterdir()) == sorted(p.name for p in one.iterdir())
    timing = {"wall_seconds", "simulate_wall_seconds", "compile_seconds", "binary_seconds"}
    m_many, m_one = (json.loads((d / "metrics.json").read_text()) for d in (many, one))
    assert {k: v for k, v in m_many.items() if k not in timing} == {
        k: v for k, v in m_one.items() if k not in timing
    }
    for name in ("params.json", "raster.png", "comparison.png", "learning_curves.png"):
        assert (many / name).read_bytes() == (one / name).read_bytes(), name
    blocks = []
    for d in (many, one):
        io = neo.io.NixIO(str(d / "data.nix"), mode="ro")
        try:
            blocks.append(io.read_block())
        finally:
            io.close()
    for seg_many, seg_one in zip(blocks[0].segments, blocks[1].segments, strict=True):
        for a, b in zip(seg_many.spiketrains, seg_one.spiketrains, strict=True):
            np.testing.assert_array_equal(a.magnitude, b.magnitude)


def test_round_trips_through_nix_and_nwb(td_quick, tmp_path):
    # every spike, population, phase, event and signal back from data.nix; every field
    # of the Result back from data.nwb (tests/_roundtrip.py)
    check_round_trips(td_quick[1], tmp_path)


def test_rates_and_cvs_from_nix_match_elephant(td_quick, tmp_path):
    # Elephant's mean_firing_rate and cv(isi) of every train read back from data.nix equal
    # spikingml's firing_rates and isi_cv of the Result, phase by phase, to 1e-12
    # relative: the file holds the float64 spike times as they are, so both sides divide
    # the same counts and intervals; only the order of the floating-point operations
    # differs (a few ulps).
    statistics = require("elephant.statistics", "analysis")
    result = td_quick[1]
    block = nix_block(result, tmp_path / "data.nix")  # read_nix(write_nix(...)), once
    assert [seg.name for seg in block.segments] == [ph.name for ph in result.phases]
    n_rates = n_cvs = 0
    for seg, ph in zip(block.segments, result.phases, strict=True):
        rates = {p: firing_rates(sd, ph.start, ph.stop) for p, sd in result.populations.items()}
        cvs = {p: isi_cv(sd, ph.start, ph.stop) for p, sd in result.populations.items()}
        for st in seg.spiketrains:
            pop, i = st.annotations["source_population"], st.annotations["source_index"]
            rate = statistics.mean_firing_rate(st).rescale("Hz").magnitude
            assert rates[pop][i] == pytest.approx(float(rate), rel=1e-12, abs=0)
            n_rates += 1
            if len(st) >= 3:
                cv = statistics.cv(statistics.isi(st).rescale("s").magnitude)
                assert cvs[pop][i] == pytest.approx(float(cv), rel=1e-12, abs=1e-15)
                n_cvs += 1
            else:
                assert np.isnan(cvs[pop][i])
    assert n_rates == len(result.phases) * sum(sd.size for sd in result.populations.values())
    assert n_cvs > 0
