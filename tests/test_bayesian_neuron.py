"""The bayesian-neuron circuit and its twin: exact filter, stimulus, contract, quick preset.

Tolerances: the quick preset (10 s of the chain) was measured at seeds 0-4 (0-2 with
benchmarks/bench_bayesian_neuron.py, results in benchmarks/results/bayesian_neuron.md):
internal_logodds_correlation 0.9995-0.9998, logodds_correlation 0.984-0.989, accuracy gap
0.005-0.017. The bounds below are the issue's targets, which every measured seed
clears with room.
"""

import numpy as np
import pytest
from _roundtrip import check_round_trips, nix_block
from brian2 import Hz, ms, second

from spikingml import ValidationError
from spikingml.analysis import hmm
from spikingml.circuits import REGISTRY, get_circuit
from spikingml.circuits import bayesian_neuron as bn
from spikingml.stimuli.hidden_markov import hidden_markov_input, switch_probabilities


@pytest.fixture(scope="module")
def bn_quick():
    """(params, result, twin, metrics) of the quick preset, seed 0 (about 2 s of CPU)."""
    params = bn.Params.quick()
    result = bn.simulate(params, seed=0, progress=False)
    twin = bn.twin(params, seed=0)
    return params, result, twin, bn.compare(result, twin)


# ------------------------------------------------------------------ twin: known answers
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_filter_equals_brute_force_posterior(seed):
    # Summing over all 2^10 paths of a short chain gives the same posterior (to rounding).
    rng = np.random.default_rng(seed)
    q_on, q_off = rng.uniform(2, 30, 4), rng.uniform(2, 30, 4)
    r_on, r_off, width = rng.uniform(1, 5), rng.uniform(1, 5), 0.05
    counts = rng.poisson(15 * width, size=(10, 4))
    exact = hmm.forward_logodds(counts, q_on, q_off, r_on, r_off, width)
    brute = hmm.brute_force_logodds(counts, q_on, q_off, r_on, r_off, width)
    np.testing.assert_allclose(exact, brute, rtol=0, atol=1e-10)


def test_uninformative_inputs_leave_the_prior():
    # q_on = q_off: no evidence, and the stationary prior is a fixed point of the filter.
    q = np.array([5.0, 12.0])
    counts = np.random.default_rng(0).poisson(1.0, size=(200, 2))
    out = hmm.forward_logodds(counts, q, q, 2.0, 6.0, 0.01)
    np.testing.assert_allclose(out, np.log(2.0 / 6.0), atol=1e-12)


def test_filter_relaxes_to_the_prior_in_the_continuous_limit():
    # The filter's prediction step is the solution of dL/dt = phi(L) over one bin: from
    # L = 3 without evidence it follows phi towards log(r_on / r_off).
    q = np.array([10.0])
    counts = np.zeros((400, 1), dtype=int)
    width, r_on, r_off = 1e-3, 2.0, 3.0
    out = hmm.forward_logodds(counts, q, q, r_on, r_off, width, prior=3.0)
    from scipy.integrate import solve_ivp

    times = width * np.arange(400)
    ode = solve_ivp(
        lambda t, y: hmm.logodds_drift(y, r_on, r_off),
        (0, times[-1]),
        [3.0],
        t_eval=times,
        rtol=1e-11,
        atol=1e-12,
    )
    # out[k + 1] has gone through k prediction steps (bin 0 has no predecessor)
    np.testing.assert_allclose(out[1:], ode.y[0], atol=1e-8)


def test_switch_probabilities_are_the_matrix_exponential():
    from scipy.linalg import expm

    r_on, r_off, width = 2.0, 5.0, 0.03
    p = expm(np.array([[-r_on, r_on], [r_off, -r_off]]) * width)
    assert switch_probabilities(r_on, r_off, width) == pytest.approx((p[0, 1], p[1, 0]))
    with pytest.raises(ValidationError, match="r_off"):
        switch_probabilities(2.0, 0.0, width)


def test_input_weights():
    w, theta = hmm.input_weights([10.0, 5.0], [5.0, 10.0])
    np.testing.assert_allclose(w, [np.log(2), -np.log(2)])
    assert theta == 0.0


def test_fit_threshold_known_answer():
    values = np.array([-3.0, -1.0, 0.5, 1.0, 2.0, 4.0])
    labels = np.array([0, 0, 1, 0, 1, 1])
    threshold, acc = hmm.fit_threshold(values, labels)
    assert threshold == pytest.approx(-0.25)  # between -1 and 0.5: 5 of 6 right
    assert acc == pytest.approx(5 / 6)
    assert hmm.threshold_accuracy(values, labels, threshold) == pytest.approx(5 / 6)
    t_all, acc_all = hmm.fit_threshold([1.0, 2.0], [1, 1])
    assert t_all < 1.0 and acc_all == 1.0


# ------------------------------------------------------------------------------ stimulus
def test_hidden_markov_input_statistics():
    # 2000 s of the chain: fraction of time on r_on / (r_on + r_off) = 0.25; dwell
    # times 1 / r_off = 0.5 s (on) and 1 / r_on = 1.5 s (off); per-state rates.
    rng = np.random.default_rng(5)
    q_on, q_off = np.array([20.0, 4.0]), np.array([4.0, 20.0])
    stim = hidden_markov_input(200_000, 0.01, 0.001, 0.666667, 2.0, q_on, q_off, rng)
    assert stim.state.mean() == pytest.approx(0.25, abs=0.02)
    on, off = stim.switch_times()
    assert len(on) == pytest.approx(2000 / 2.0, rel=0.1)  # one cycle every 2 s
    on_rate = stim.counts[stim.state == 1].mean(axis=0) / 0.01
    off_rate = stim.counts[stim.state == 0].mean(axis=0) / 0.01
    np.testing.assert_allclose(on_rate, q_on, rtol=0.03)
    np.testing.assert_allclose(off_rate, q_off, rtol=0.03)
    # the spikes are the counts, on distinct steps per input
    per_bin = np.zeros_like(stim.counts)
    np.add.at(per_bin, (stim.steps // 10, stim.indices), 1)
    np.testing.assert_array_equal(per_bin, stim.counts)
    assert len(np.unique(stim.steps * 2 + stim.indices)) == len(stim.steps)
    assert np.all(np.diff(stim.times) >= 0)


def test_stimulus_is_drawn_from_the_seed():
    params = bn.Params.quick().replace(duration=2 * second)
    a, b, c = bn.stimulus(params, 4), bn.stimulus(params, 4), bn.stimulus(params, 5)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.q_on, b.q_on)
    assert not np.array_equal(a.q_on, c.q_on)


# ------------------------------------------------------------------------ the contract
def test_registered():
    assert REGISTRY["bayesian-neuron"] == "spikingml.circuits.bayesian_neuron"
    assert get_circuit("bayesian-neuron") is bn


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"rate_high": 1 * Hz}, "rate_high", ">= rate_low"),
        ({"bin_width": 0.9 * ms}, "bin_width", "whole number of steps"),
        ({"duration": 20.0005 * second}, "duration", "whole number"),
        ({"output_code": "both"}, "output_code", "one of signed, single"),
        ({"eta": 0.0}, "eta", "> 0"),
        ({"r_on": 2}, "r_on", "units of"),
        ({"n_inputs": 0}, "n_inputs", "an integer >= 1"),
    ],
)
def test_validation_errors_name_the_field(changes, field, fragment):
    with pytest.raises(ValidationError, match=f"BayesianNeuron.Params.{field}: expected") as err:
        bn.Params(**changes)
    assert err.match(fragment)


def test_too_coarse_a_step_names_dt():
    # 200 Hz inputs put several spikes of one input in a bin of one step
    params = bn.Params(duration=1 * second, dt=1 * ms, rate_low=190 * Hz, rate_high=200 * Hz)
    with pytest.raises(ValidationError, match="BayesianNeuron.Params.dt: expected"):
        bn.stimulus(params, 0)


def test_simulate_rejects_bad_arguments():
    with pytest.raises(ValidationError, match="seed"):
        bn.simulate(bn.Params.quick(), seed=-1)
    with pytest.raises(ValidationError, match="device"):
        bn.simulate(bn.Params.quick(), device="gpu")
    with pytest.raises(ValidationError, match="params"):
        bn.simulate({"duration": 3})


# ------------------------------------------------------------------ the quick preset
def test_result_layout(bn_quick):
    params, result, _, _ = bn_quick
    assert list(result.populations) == ["inputs", "output"]
    assert result.populations["output"].size == 2
    assert [p.name for p in result.phases] == ["fit", "test"]
    assert result.t_stop == pytest.approx(10.0)
    for name in ("L", "G", "hidden_state"):
        assert result.signals[name].values.shape == (params.n_bins, 1)
    stim = bn.stimulus(params, 0)
    # the input neurons replay the sampled chain's spikes exactly
    np.testing.assert_array_equal(result.populations["inputs"].indices, stim.indices)
    np.testing.assert_allclose(result.populations["inputs"].times, stim.times, atol=1e-9)
    on, off = stim.switch_times()
    np.testing.assert_allclose(result.events["switch_on"], on)


def test_prediction_is_a_function_of_the_output_spikes(bn_quick):
    # G, recomputed from the output spikes alone with the HMM's drift, matches the
    # circuit's G: the decoded log-odds do not peek at L or at the inputs.
    params, result, _, _ = bn_quick
    out = result.populations["output"]
    dt = float(params.dt)
    G = hmm.decode_output_spikes(
        np.round(out.times / dt).astype(int),
        result.weights["signs"][out.indices],
        params.n_bins * params.steps_per_bin,
        dt,
        params.eta,
        float(params.r_on),
        float(params.r_off),
        float(result.weights["theta_G"]),
        float(np.log(params.r_on / params.r_off)),
        params.steps_per_bin,
    )
    np.testing.assert_allclose(G, result.signals["G"].values[:, 0], atol=1e-6)


def test_neuron_integrates_the_exact_log_odds(bn_quick):
    # Target >= 0.99: the neuron's L is the continuous-time limit of the twin's filter.
    _, _, _, m = bn_quick
    assert m["internal_logodds_correlation"] >= 0.99


def test_log_odds_decoded_from_output_spikes(bn_quick):
    # Target >= 0.9 (measured quick 0.984-0.989 at seeds 0-4).
    _, _, _, m = bn_quick
    assert m["logodds_correlation"] >= 0.9


def test_decoding_accuracy_close_to_exact_map(bn_quick):
    # Target: within 0.05 of the exact MAP accuracy on the test half (measured quick
    # gaps 0.005-0.017 at seeds 0-4); the MAP accuracy itself is well above chance
    # (0.88-0.93), so a small gap is not two decoders at chance.
    _, _, _, m = bn_quick
    assert m["accuracy_gap"] <= 0.05
    assert m["map_accuracy"] >= 0.8
    assert 5 <= m["output_rate_hz"] <= 200


def test_every_metric_is_documented(bn_quick):
    _, _, _, m = bn_quick
    assert set(m) == set(bn.METRICS)
    assert all(np.isfinite(v) for v in m.values())


def test_figures_written(bn_quick, tmp_path):
    _, result, twin, _ = bn_quick
    paths = bn.figures(result, twin, tmp_path)
    assert [p.name for p in paths] == ["comparison.png"]
    assert paths[0].stat().st_size > 20_000
    options = bn.raster_options(result)
    assert options["populations"] == ["inputs", "output"]
    assert options["t_stop"] - options["t_start"] == pytest.approx(bn.FIGURE_WINDOW)


def test_result_round_trips_through_nix(bn_quick, tmp_path):
    # The decoder's halves are the NEO segments; every spike and the three traces come back.
    _, result, _, _ = bn_quick
    block = nix_block(result, tmp_path / "data.nix")  # read_nix(write_nix(...)), once
    assert [s.name for s in block.segments] == ["fit", "test"]
    assert {g.name for g in block.groups} == {"inputs", "output", "hidden_state"}
    for name, pop in result.populations.items():
        n = sum(
            len(st)
            for seg in block.segments
            for st in seg.spiketrains
            if st.annotations["source_population"] == name
        )
        assert n == len(pop.times), name
    samples = {
        key: sum(len(a) for seg in block.segments for a in seg.analogsignals if a.name == key)
        for key in result.signals
    }
    assert samples == {key: len(sig.values) for key, sig in result.signals.items()}


def test_single_output_code_is_deneves_neuron():
    # One neuron, G pushed only up by its spikes and relaxing to the prior: G >= the
    # prior minus the overshoot of one Euler step, and "G > 0" is not a usable decoder
    # (G sits near the prior while the state is off).
    params = bn.Params.quick().replace(output_code="single", duration=5 * second)
    result = bn.simulate(params, seed=1, progress=False)
    assert result.populations["output"].size == 1
    assert float(result.weights["theta_G"]) == 0.0
    G = result.signals["G"].values[:, 0]
    assert G.min() >= np.log(params.r_on / params.r_off) - 1e-6
    m = bn.compare(result, bn.twin(params, seed=1))
    assert m["internal_logodds_correlation"] >= 0.99


@pytest.mark.slow
@pytest.mark.standalone
def test_standalone_gives_identical_spikes():
    params = bn.Params.quick().replace(duration=2 * second)
    a = bn.simulate(params, seed=3, device="runtime", progress=False)
    b = bn.simulate(params, seed=3, device="cpp_standalone", progress=False)
    for name in a.populations:
        np.testing.assert_array_equal(a.populations[name].indices, b.populations[name].indices)
        np.testing.assert_allclose(a.populations[name].times, b.populations[name].times)
    np.testing.assert_allclose(a.signals["G"].values, b.signals["G"].values, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_preset_meets_issue_targets(seed):
    # The issue's targets for the default preset (benchmarks/bench_bayesian_neuron.py
    # checks them for seeds 0-2, quick and default); the bounds are the targets.
    params = bn.Params()
    result = bn.simulate(params, seed=seed, progress=False)
    m = bn.compare(result, bn.twin(params, seed=seed))
    assert m["internal_logodds_correlation"] >= 0.99
    assert m["logodds_correlation"] >= 0.9
    assert m["accuracy_gap"] <= 0.05


def test_round_trips_through_nix_and_nwb(bn_quick, tmp_path):
    # every spike, population, phase, event and signal back from data.nix; every field
    # of the Result back from data.nwb (tests/_roundtrip.py)
    check_round_trips(bn_quick[1], tmp_path)
