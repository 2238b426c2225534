"""The reservoir circuit: its wiring, its input, a tiny run, and the default preset's targets.

The wiring and the input are checked as drawn (Dale's law, connection probability against
distance, input rates); the tiny preset runs under the runtime device and gives every
metric; the slow tests run the default preset at seeds 0-2 against the issue's targets
(benchmarks/results/reservoir.md has the numbers).
"""

from __future__ import annotations

import numpy as np
import pytest
from _optional import require
from brian2 import Hz, ms, mV

from spikingml import ValidationError
from spikingml.circuits import reservoir as res
from spikingml.circuits.contract import order_metrics
from spikingml.plasticity.short_term import steady_state
from spikingml.simulation import brian_device


@pytest.fixture(scope="module")
def tiny_run():
    """(params, result) of the tiny preset, seed 0, runtime device."""
    params = res.Params.tiny()
    return params, res.simulate(params, seed=0, progress=False)


# ------------------------------------------------------------------------------- wiring
def test_column_obeys_dales_law_and_is_80_percent_excitatory():
    params = res.Params()
    inputs = res.prepare_inputs(params, seed=0)
    assert inputs.excitatory.sum() == 160
    exc_pre = inputs.excitatory[inputs.rec["pre"]]
    assert np.all(inputs.rec["w"][exc_pre] > 0) and np.all(inputs.rec["w"][~exc_pre] < 0)
    assert np.all(inputs.inp["w"] > 0)
    assert not np.any(inputs.rec["pre"] == inputs.rec["post"])  # no autapses
    for key in ("U", "D", "F"):
        assert np.all(inputs.rec[key] > 0)
    assert np.all(inputs.rec["U"] <= 1)


def test_connection_probability_falls_with_distance_as_maass_lambda():
    # E -> E pairs at squared distance 1 and 4: p = 0.3 exp(-d2 / 4); 4 seeds of the
    # default column give ~2000 pairs at each distance: the binomial SD of the fraction
    # is ~0.01, the tolerance 0.035 three and a half of them
    params = res.Params()
    for d2, expected in ((1, 0.3 * np.exp(-0.25)), (4, 0.3 * np.exp(-1.0))):
        hits, pairs = 0, 0
        for seed in range(4):
            inputs = res.prepare_inputs(params, seed)
            pos, exc = inputs.positions, inputs.excitatory
            dist2 = np.sum((pos[:, None] - pos[None, :]) ** 2, axis=-1)
            mask = (dist2 == d2) & exc[:, None] & exc[None, :]
            adj = np.zeros_like(mask)
            adj[inputs.rec["pre"], inputs.rec["post"]] = True
            hits += int(adj[mask].sum())
            pairs += int(mask.sum())
        assert hits / pairs == pytest.approx(expected, abs=0.035), d2


def test_input_spikes_follow_the_rate_code_and_the_xor_layout():
    params = res.Params.quick()
    inputs = res.prepare_inputs(params, seed=1)
    spb, dt = params.steps_per_bin, float(params.dt)
    counts = np.bincount(inputs.input_steps // spb, minlength=params.n_bins)
    # spikes per bin = n_inputs * input_rate * bin * u (Poisson): regression slope within 3%
    expected = params.n_inputs * float(params.input_rate) * spb * dt
    m = params.n_memory_bins
    slope = np.polyfit(inputs.u[:m], counts[:m], 1)[0]
    assert slope == pytest.approx(expected, rel=0.03)
    trials = inputs.u[m:].reshape(params.n_xor_trials, params.trial_bins)
    burst, gap = params._bins("burst_width"), params._bins("xor_gap")
    np.testing.assert_array_equal(trials[:, 0], inputs.xor_bits[:, 0])
    np.testing.assert_array_equal(trials[:, gap], inputs.xor_bits[:, 1])
    assert trials[:, burst:gap].sum() == 0
    # the same seed draws the same everything
    again = res.prepare_inputs(params, seed=1)
    np.testing.assert_array_equal(again.input_steps, inputs.input_steps)
    np.testing.assert_array_equal(again.rec["w"], inputs.rec["w"])


def test_regular_input_code_fires_the_integral_of_the_rate():
    # input_code="regular": each input neuron fires when the integral of its rate
    # crosses a whole number, so its spike count over any stretch is that integral
    # within one spike, and the wiring and the input sequence are those of "poisson"
    params = res.Params.quick().replace(input_code="regular")
    inputs = res.prepare_inputs(params, seed=1)
    poisson = res.prepare_inputs(params.replace(input_code="poisson"), seed=1)
    np.testing.assert_array_equal(inputs.u, poisson.u)
    np.testing.assert_array_equal(inputs.rec["w"], poisson.rec["w"])
    spb = params.steps_per_bin
    expected = np.cumsum(inputs.u) * float(params.input_rate * params.bin_width)
    for neuron in range(params.n_inputs):
        steps = inputs.input_steps[inputs.input_indices == neuron]
        counts = np.cumsum(np.bincount(steps // spb, minlength=params.n_bins))
        assert np.max(np.abs(counts - expected)) <= 1.0


# -------------------------------------------------------------------------- a tiny run
def test_tiny_run_has_every_copy_and_every_metric(tiny_run):
    params, result = tiny_run
    assert set(result.populations) == {"inputs", "column", "static", "fast"}
    assert result.populations["column"].size == params.n_neurons
    assert len(result.populations["column"].times) > 0
    assert len(result.populations["static"].times) > 0
    assert len(result.populations["fast"].times) > 0
    x = res.states(result)
    assert x.shape == (params.n_bins, params.n_neurons)
    twin = res.twin(params, seed=0)
    metrics = res.compare(result, twin)
    assert list(metrics) == order_metrics(res.METRICS, metrics, require_all=True)
    assert metrics["bin_width_ms"] == 20.0


def test_run_time_fields_reach_the_network_only_as_run_arguments():
    # A run-time field sets only shared constants of the column and per-neuron or
    # per-synapse initial values, all of them in the compiled program's run arguments
    # (_run_time_values), or is used only by the readout and the twins; nothing drawn
    # from the seed depends on one.
    tiny = res.Params.tiny()
    params = tiny.replace(
        tau_e=4 * ms, v_reset=12 * mV, refractory_e=4 * ms, refractory_i=1 * ms,
        adaptation_jump=2 * mV, static_rate=30 * Hz,
    )  # fmt: skip
    inputs = res.prepare_inputs(params, seed=0)
    drawn = res.prepare_inputs(tiny, seed=0)
    np.testing.assert_array_equal(inputs.input_steps, drawn.input_steps)
    np.testing.assert_array_equal(inputs.rec["w"], drawn.rec["w"])
    n, exc = params.n_neurons, inputs.excitatory
    with brian_device("runtime", 0):
        network = res.build_network(params, inputs)
        values = res._run_time_values(network, params, inputs)
        for view, value in values.items():  # what the program's run arguments set
            np.testing.assert_allclose(np.asarray(view[:]), np.asarray(value), rtol=1e-12)
        column = network.column
        assert float(column.v_reset[:]) == pytest.approx(0.012)
        np.testing.assert_allclose(column.refractory_period_[:n][exc], 0.004)
        np.testing.assert_allclose(column.refractory_period_[:n][~exc], 0.001)
        np.testing.assert_allclose(column.jump_[:n], np.where(exc, 0.002, 0.0))
        np.testing.assert_allclose(column.tau_in_[2 * n :], 0.004)  # the fast copy
        syn = res._recurrent(inputs)["exc"]
        u_star, x_star = steady_state(syn["U"], syn["D"], syn["F"], 1 / 30)
        k = len(syn["U"])  # the static copy's synapses come second
        np.testing.assert_allclose(network.synapses[0].U[k : 2 * k], u_star * x_star, rtol=1e-12)
        assert len(values) == 4 + 3 + 2  # constants, per-neuron values, both U
        network.net.run(0 * ms)  # the code is generated with them (and nothing is unused)
    analysis = {"state_tau", "twin_spectral_radius", "esn_spectral_radius", "esn_input_scaling"}
    in_network = {"tau_m", "tau_e", "tau_i", "v_reset", "refractory_e", "refractory_i"}
    in_network |= {"adaptation_jump", "static_rate"}
    assert set(res.Params.runtime_fields()) == in_network | analysis


def test_bad_params_name_the_field():
    with pytest.raises(ValidationError, match="Reservoir.Params.n_neurons"):
        res.Params(n_neurons=210)  # not a multiple of 25
    with pytest.raises(ValidationError, match="Reservoir.Params.xor_gap"):
        res.Params(xor_gap=25 * ms)  # not a whole number of bins
    with pytest.raises(ValidationError, match="Reservoir.Params.input_rate"):
        res.Params(input_rate=5000 * Hz)


# ---------------------------------------------------------------- the default preset
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_preset_meets_the_targets(seed):
    # The targets. Measured (benchmarks/results/reservoir.md, seeds 0-2):
    # linear ESN MC/N 0.964-0.978, mc_total_lsm 1.66-2.02, XOR 0.957-0.985 (600 trials, each
    # held out once: standard error 0.005-0.008), separation monotonic at every seed. The XOR
    # must clear 0.9 by two standard errors, not by a lucky trial or two. The copy
    # without the slow input currents stays below the column (0.92-1.18 against 1.66-2.02).
    require("reservoirpy", "reservoir")
    params = res.Params()
    result = res.simulate(params, seed=seed, device="cpp_standalone", progress=False)
    metrics = res.compare(result, res.twin(params, seed))
    assert metrics["linear_esn_mc_over_n"] >= 0.9
    assert metrics["mc_total_lsm"] >= 1.5
    assert metrics["xor_accuracy_lsm"] - 2 * metrics["xor_accuracy_se_lsm"] >= 0.9
    assert metrics["separation_monotonic_lsm"] == 1.0
    assert metrics["mc_fast_inputs"] < metrics["mc_total_lsm"]
