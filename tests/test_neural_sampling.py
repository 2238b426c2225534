"""The neural-sampling circuit: refractory on-states, clamping, sampled vs exact distributions.

The default-suite tests read the conformance test's tiny run (``tiny_run``: 10 units for
1 s, 4 digits for 0.2 s, seed 1) and check what must hold exactly in any run: the on
state lasts ``tau``, clamped neurons are on (or off) all the time, the sampled states
fill the window. The science runs (default preset, seeds 0-2, marked slow) check the
issue's targets; measured (benchmarks/results/neural_sampling.md): kl_joint_nats
0.012-0.013 (target 0.05), |fill_in_accuracy_difference| <= 0.004 (target 0.02).
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import ms, second

from spikingml.analysis import boltzmann as bm
from spikingml.circuits import neural_sampling as ns
from spikingml.errors import ValidationError

NAME = "neural-sampling"


@pytest.fixture(scope="module")
def tiny(tiny_run):
    record = tiny_run(NAME)
    return record.result, record.twin_output, record.metrics


def _steps(result, population="boltzmann"):
    p = ns.Params.from_dict(result.params)
    spikes = result.populations[population]
    return p, spikes.indices, np.rint(spikes.times / float(p.dt)).astype(np.int64)


# ------------------------------------------------------------------------------ params
def test_params_refuse_inconsistent_times_and_sizes():
    p = ns.Params.tiny()
    with pytest.raises(ValidationError, match=r"NeuralSampling\.Params\.n_clamped"):
        p.replace(n_clamped=10)
    with pytest.raises(ValidationError, match=r"NeuralSampling\.Params\.tau"):
        p.replace(tau=10.25 * ms)
    with pytest.raises(ValidationError, match=r"NeuralSampling\.Params\.rbm_duration"):
        p.replace(rbm_duration=2 * second)
    with pytest.raises(ValidationError, match=r"NeuralSampling\.Params\.burn_in"):
        p.replace(burn_in=1 * second)
    assert p.n_samples == pytest.approx(95.0)  # (1 s - 50 ms) / 10 ms
    assert p.rbm_sweeps == (5, 15)


def test_inputs_are_reproducible_from_the_seed():
    p = ns.Params.tiny()
    a, b, c = ns.prepare_inputs(p, 3), ns.prepare_inputs(p, 3), ns.prepare_inputs(p, 4)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.rbm_W, b.rbm_W)
    assert not np.array_equal(a.W, c.W)
    np.testing.assert_array_equal(a.W, a.W.T)
    assert a.rbm_W.shape == (64, p.n_hidden) and a.images.shape == (p.n_test, 64)
    assert a.observed.sum() == 32 and a.observed[:32].all()  # the upper half


# --------------------------------------------------------------------- the tiny run
def test_a_neuron_stays_silent_for_tau_after_each_spike(tiny):
    result, _, _ = tiny
    for population in ("boltzmann", "rbm"):
        p, idx, steps = _steps(result, population)
        tau_steps = p.steps("tau")
        gaps = [np.diff(steps[idx == k]) for k in np.unique(idx)]
        gaps = np.concatenate([g for g in gaps if len(g)])
        # refractory for tau: never closer; clamped-on neurons fire again exactly then
        assert gaps.min() == tau_steps, population


def test_clamped_neurons_are_on_or_off_all_the_time(tiny):
    result, _, _ = tiny
    p, idx, steps = _steps(result)
    n, n_c = p.n_units, p.n_clamped
    values = result.weights["clamped_values"]
    on = bm.on_fractions(
        idx, steps, 2 * n, p.steps("tau"), p.steps("burn_in"), p.steps("duration")
    )
    np.testing.assert_array_equal(on[n : n + n_c], values.astype(float))
    # the RBM's observed pixels: exactly the image in every sampled step
    s = ns.sampled(result)
    observed = result.weights["observed"].astype(bool)
    np.testing.assert_array_equal(s["fill_in"][:, observed], result.weights["images"][:, observed])


def test_sampled_states_fill_the_counted_window(tiny):
    result, _, _ = tiny
    p = ns.Params.from_dict(result.params)
    s = ns.sampled(result)
    window = p.steps("duration") - p.steps("burn_in")
    assert s["joint"].sum() == window and s["conditional"].sum() == window
    assert s["joint"].shape == (2**p.n_units,)
    assert s["conditional"].shape == (2 ** (p.n_units - p.n_clamped),)
    np.testing.assert_allclose(bm.all_states(p.n_units).T @ s["joint"] / window, s["marginals"])


def test_samples_are_closer_to_their_own_model_than_to_a_shifted_one(tiny):
    # 95 samples only: the KL from the true p is near the i.i.d. floor, and a model with
    # every bias 1 higher (mean rate about doubled) is told apart
    result, twin_output, metrics = tiny
    s = ns.sampled(result)
    W, b = result.weights["W"], result.weights["b"]
    shifted = bm.kl_divergence(s["joint"], bm.exact_distribution(W, b + 1.0))
    assert metrics["kl_joint_nats"] < 0.5 * shifted
    assert metrics["kl_joint_nats"] < 2 * metrics["kl_joint_iid_nats"]


def test_twin_gibbs_uses_the_circuits_sample_count(tiny):
    result, twin_output, metrics = tiny
    p = ns.Params.from_dict(result.params)
    assert (
        twin_output.gibbs_joint.sum() == round(p.n_samples) == len(twin_output.gibbs_joint_codes)
    )
    assert twin_output.gibbs_conditional.sum() == round(p.n_samples)
    assert metrics["n_samples"] == pytest.approx(p.n_samples)
    assert metrics["fill_in_accuracy_difference"] == pytest.approx(
        metrics["fill_in_accuracy"] - metrics["fill_in_accuracy_gibbs"]
    )


# ------------------------------------------------------------------ science (slow)
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_preset_meets_the_targets(seed):
    # Targets of issue 21: KL(joint) <= 0.05 nats after 100 s; fill-in within 0.02 of Gibbs.
    # Measured 0.012-0.013 and |difference| <= 0.004 over seeds 0-2; the conditional KL
    # (7 free units, 128 states) 0.002-0.003; the sampled marginals within 0.012 of exact.
    params = ns.Params()
    result = ns.simulate(params, seed=seed, device="cpp_standalone", progress=False)
    m = ns.compare(result, ns.twin(params, seed=seed))
    assert m["kl_joint_nats"] <= 0.05
    assert m["kl_conditional_nats"] <= 0.05
    assert abs(m["fill_in_accuracy_difference"]) <= 0.02
    assert m["marginal_max_abs_error"] <= 0.03
    # the RBM fills in better than the pixel means (measured 0.82-0.84 vs 0.77), and 190
    # samples reach what ten times as many give (measured within 0.003)
    assert m["fill_in_accuracy"] >= m["fill_in_accuracy_pixel_mean"] + 0.03
    assert abs(m["fill_in_accuracy_gibbs_long"] - m["fill_in_accuracy_gibbs"]) <= 0.02
