"""The attractor circuit: schedule, learning by the covariance rule, twins, metrics.

The default suite runs the tiny preset (100 + 25 neurons, a few seconds under NumPy);
the science runs (default preset, seeds 0-2, about a minute each under cpp_standalone)
are marked slow, with the tolerances explained beside each.
"""

import numpy as np
import pytest
from brian2 import ms
from conftest import TINY_SEED

from spikingml import ValidationError
from spikingml.analysis import hopfield
from spikingml.circuits import attractor as att
from spikingml.plasticity.covariance import BoundedCovariance
from spikingml.simulation import brian_device


@pytest.fixture(scope="module")
def tiny_run():
    """(params, result) of the tiny preset, seed 0, runtime device."""
    params = att.Params.tiny()
    return params, att.simulate(params, seed=0, device="runtime", progress=False)


def test_cues_keep_the_coding_level_and_sit_in_their_trials():
    params = att.Params.tiny()
    task = att.stimulus(params, seed=3)
    k = params.n_active
    np.testing.assert_array_equal(task.patterns.sum(axis=1), k)
    np.testing.assert_array_equal(task.cues.sum(axis=1), k)
    seg = float(params.segment)
    for cue, on in zip(task.cues, task.trials["cue_on"], strict=True):
        row = round(on / seg)
        np.testing.assert_array_equal(task.drive[row], cue * params.cue_drive)
        assert task.rec[row] == 1.0
    # the rule learns exactly once per presentation, at the boundary after it
    assert task.learn.sum() == params.block_size * params.n_blocks
    presented = np.flatnonzero(
        np.isin(task.drive, [0.0, params.learn_drive]).all(axis=1) & (task.rec == 0)
    )
    np.testing.assert_array_equal(np.flatnonzero(task.learn) - 1, presented)


def test_same_seed_same_task_other_seed_other_patterns():
    params = att.Params.tiny()
    a, b = att.stimulus(params, 1), att.stimulus(params, 1)
    np.testing.assert_array_equal(a.drive, b.drive)
    assert not np.array_equal(a.patterns, att.stimulus(params, 2).patterns)


def _replayed_weights(params, result, seed):
    """The rule replayed in NumPy on the counts of every presentation (taken from the
    recorded spikes), from ``w0``: the weights the circuit must have learned."""
    spikes = result.populations["excitatory"]
    task = att.stimulus(params, seed)
    rule = params.rule()
    seg, dt = float(params.segment), float(params.dt)
    w = np.full((params.n_exc, params.n_exc), params.w0)
    for s in np.flatnonzero(task.learn) - 1:
        # counts of the steps the rule sees: after the reset at the boundary's end slot
        sel = (spikes.times > s * seg + dt / 2) & (spikes.times < (s + 1) * seg + dt / 2)
        c = np.bincount(spikes.indices[sel], minlength=params.n_exc)
        w = rule.numpy_update(w, c, c)
    np.fill_diagonal(w, 0.0)
    return w


def test_circuit_learns_with_the_covariance_rule_from_its_own_spike_counts(tiny_run):
    # Replaying the rule in NumPy gives the learned weights: the circuit learns by the
    # local rule only. 1e-9: a few hundred additions of numbers ~0.1 in double precision.
    params, result = tiny_run
    w = _replayed_weights(params, result, 0)
    np.testing.assert_allclose(result.weights["w"], w, rtol=0, atol=1e-9)
    assert np.ptp(w[~np.eye(params.n_exc, dtype=bool)]) > 0  # something was learned


@pytest.mark.standalone
def test_a_compiled_rerun_learns_with_its_own_rate_and_initial_weight():
    # The program compiled for the tiny preset (the conformance test's, seed TINY_SEED),
    # run again with other run-time fields (the rule's eta, w_max and target_count, the
    # initial weight w0: run arguments), learns by the rule with those values: the same
    # replay, 1e-9 as above.
    tiny = att.Params.tiny()
    moved = tiny.replace(eta=0.15, w0=0.05, w_max=0.8, target_count=2.0)
    runs = [(tiny, TINY_SEED), (moved, TINY_SEED)]
    results = list(att.simulate_many(runs, device="cpp_standalone", progress=False))
    for (params, seed), result in zip(runs, results, strict=True):
        w = _replayed_weights(params, result, seed)
        np.testing.assert_allclose(result.weights["w"], w, rtol=0, atol=1e-9)
    assert not np.allclose(results[0].weights["w"], results[1].weights["w"])


def test_run_time_fields_are_shared_constants_of_the_network():
    # Every run-time field reaches the network as a shared constant of the groups and
    # synapses that use it (the compiled program's run arguments), as the initial weight
    # w0, or only the twins: built with moved values, every constant holds them.
    params = att.Params.tiny().replace(tau_e=40 * ms, eta=0.2, theta=0.3, k_ei=0.2, w0=0.05)
    task = att.stimulus(params, 0)
    with brian_device("runtime", 0):
        network = att.build_network(params, task, *att._ei_connections(params, 0))
        for name, value in att._constants(params).items():
            held = [
                getattr(obj, name)[:]
                for obj in network.net.objects
                if name in getattr(obj, "variables", {})
                and obj.variables[name].owner.name == obj.name
            ]
            assert len(held) == 1, name  # declared once, by the object whose code uses it
            assert float(np.asarray(held[0])) == pytest.approx(float(np.asarray(value)))
        np.testing.assert_allclose(network.ee.w[:], 0.05)
        assert float(network.net["ie"].J_I[:]) == pytest.approx(params.J_I)
        network.net.run(0 * ms)  # the code is generated with them (and nothing is unused)
    twins = {"twin_rest_threshold", "twin_load_step", "twin_load_max", "dense_n"}
    twins |= {"dense_load_min", "dense_load_max", "dense_load_step", "dense_cues"}
    in_network = {"tau_m", "tau_e", "tau_i", "bias", "sigma", "J_E", "k_ei", "theta"}
    in_network |= {"eta", "w0", "w_max", "target_count"}
    assert set(att.Params.runtime_fields()) == in_network | twins
    shared = BoundedCovariance.shared_model()
    assert all(f"{name} : 1 (shared, constant)" in shared for name in params.rule().namespace())


def test_tiny_run_metrics_are_all_there(tiny_run):
    params, result = tiny_run
    metrics = att.compare(result, att.twin(params, 0))
    assert set(metrics) == set(att.METRICS)
    assert metrics["recall_load"] == pytest.approx(params.block_size / params.n_exc)
    assert 0 <= metrics["spurious_fraction"] <= 1
    # the inhibitory pool fires in proportion to the excitatory activity
    assert len(result.populations["inhibitory"].times) > 0


def test_twin_weights_are_the_normalised_covariance_rule_when_nothing_clips():
    params = att.Params.tiny().replace(w0=0.5, eta=0.01)
    xi = hopfield.sparse_patterns(params.n_exc, 6, params.coding_level, 0)
    np.testing.assert_allclose(
        att._twin_matrix(params, xi, inhibition=False),
        hopfield.covariance_weights(xi, params.coding_level),
        atol=1e-9,
    )


def test_compare_detects_a_wrong_twin(tiny_run):
    # the weight correlation would not be near 1 with another set of patterns
    params, result = tiny_run
    good = att.twin(params, 0)
    other = att.twin(params, 5)
    assert (
        att.compare(result, good)["weight_correlation"]
        > att.compare(result, other)["weight_correlation"] + 0.2
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"curve_load": 3, "n_blocks": 2}, "curve_load"),
        ({"cue_duration": 75 * ms}, "cue_duration"),
        ({"readout": 400 * ms}, "readout"),
        ({"w0": 2.0}, "w0"),
        ({"coding_level": 0.001}, "coding_level"),
        ({"twin_load_max": 0.01}, "twin_load_max"),
    ],
)
def test_bad_parameters_are_refused(changes, field):
    with pytest.raises(ValidationError, match=f"Attractor.Params.{field}"):
        att.Params.tiny().replace(**changes)


# ------------------------------------------------------------- science (slow, default)
@pytest.fixture(scope="module")
def default_runs():
    """Metrics of the default preset, seeds 0-2 (cpp_standalone; a few minutes each).

    Compiled -O3, as users run it and the benchmark measured it (the suite's -O0 build
    rounds differently, and the membrane noise makes the trials diverge from there).
    """
    params = att.Params()
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPIKINGML_FAST_COMPILE", "0")
        for seed in (0, 1, 2):
            result = att.simulate(params, seed=seed, device="cpp_standalone", progress=False)
            out[seed] = att.compare(result, att.twin(params, seed))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_circuit_completes_cues_at_load_0_02_with_a_quiet_background(default_runs, seed):
    # the targets, as bounds: m >= 0.9 from 20%-corrupted cues at P / N = 0.02
    # (P = 20 learned patterns, N = 1000), background <= 5 Hz while the memory is held,
    # overlap-vs-noise curves of circuit and twin correlated r >= 0.9
    m = default_runs[seed]
    assert m["recall_load"] >= 0.02
    assert m["recall_overlap"] >= 0.9
    assert m["background_rate_hz"] <= 5.0
    assert m["noise_curve_correlation"] >= 0.9


@pytest.mark.slow
def test_dense_hopfield_capacity_at_n_1000():
    # Cues of 20% flipped units, asynchronous updates, 2 cues per pattern, loads
    # 0.11-0.16 in steps of 0.005: alpha_c 0.127, 0.128, 0.128 for seeds 0-2 (other draws
    # of patterns and cues, in the circuit's twin: 0.127-0.132). The 0.138 is the
    # infinite-N capacity of the retrieval states themselves; at N = 1000 the basins of
    # 20%-corrupted cues shrink before it. 0.01 covers the spread over draws.
    params = att.Params()
    loads = params.dense_loads
    values = []
    for seed in (0, 1, 2):
        m, _ = hopfield.dense_capacity_curve(1000, loads, 0.2, seed, cues_per_pattern=2)
        values.append(hopfield.critical_load(loads, m))
    assert np.mean(values) == pytest.approx(0.128, abs=0.01)
