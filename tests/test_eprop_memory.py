"""The eprop-memory circuit (spikingml.circuits.eprop_memory), tiny preset, runtime.

The circuit's whole training (two batches, two copies, both networks) is replayed in
NumPy with spikingml.analysis.eprop on the same trials and initial weights: the final
weights must agree, so the inputs, loss windows, targets, feedback weights, regulariser
and Adam are wired as the module docstring says.
"""

from __future__ import annotations

import brian2
import numpy as np
import pytest
from _optional import require

from spikingml.analysis import eprop as ep
from spikingml.circuits import eprop_memory as em
from spikingml.errors import ValidationError


def _simulate_numpy(params: em.Params, seed: int):
    old = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        return em.simulate(params, seed=seed, device="runtime", progress=False)
    finally:
        brian2.prefs.codegen.target = old


def _lstm(params: em.Params, correct: bool) -> em.Twin:
    """A stand-in LSTM that answers every test trial rightly or wrongly."""
    decisions = np.full((params.test_batches, params.n_copies), correct)
    return em.Twin(decisions, learning_curve=np.full(params.iterations, 0.5), wall_seconds=0.0)


@pytest.fixture(scope="module")
def tiny_run():
    params = em.Params.tiny()
    return params, _simulate_numpy(params, 3)


def _numpy_training(params: em.Params, seed: int, variant: str) -> dict[str, np.ndarray]:
    rule = params.rule()
    c = rule.constants(params.dt)
    n_alif = params.n_alif if variant == "alif" else 0
    net = ep.Network(
        alpha=c["ep_alpha"],
        rho=c["ep_rho"],
        kappa=c["ep_kappa"],
        v_th=c["ep_v_th"],
        beta=np.r_[np.zeros(params.n - n_alif), np.full(n_alif, rule.beta)],
        gamma=c["ep_gamma"],
        n_ref=int(c["ep_n_ref"]),
    )
    w0 = em.initial_weights(params, seed)
    w = {"in": w0["w_in"], "rec": w0["w_rec"], "out": w0["w_out"]}
    m = {k: 0.0 for k in w}
    s = {k: 0.0 for k in w}
    for k in range(params.iterations):
        tr = em.trial_batch(params, seed, k)
        target = np.broadcast_to(tr.labels, tr.mask.shape)
        traj = ep.forward(w["in"], w["rec"], w["out"], tr.x, net)
        g = ep.eprop_gradients(traj, target, tr.mask, w0["feedback"], net)
        r_in, r_rec = ep.rate_regularisation_gradients(
            traj, net, f_target=c["ep_f0"], c_reg=rule.c_reg
        )
        grads = {"in": g.w_in + r_in, "rec": g.w_rec + r_rec, "out": g.w_out}
        for key in w:
            w[key], m[key], s[key] = ep.adam_step(
                w[key],
                grads[key] / params.n_copies,
                m[key],
                s[key],
                k + 1,
                lr=rule.learning_rate,
                eps=rule.adam_eps,
            )
    return w


@pytest.mark.parametrize("variant", ["alif", "lif"])
def test_training_equals_numpy_eprop_on_the_same_trials(tiny_run, variant):
    # two Adam steps from the same weights on the same spikes: rounding only (measured
    # <= 6e-17 absolute); a missing or extra step moves weights by ~lr = 1e-2, so 1e-9
    # separates rounding from a wiring error by seven orders of magnitude
    params, result = tiny_run
    want = _numpy_training(params, 3, variant)
    for key, w in want.items():
        got = result.weights[f"{variant}.w_{key}"]
        assert np.max(np.abs(got - w)) < 1e-9
        assert np.max(np.abs(got - em.initial_weights(params, 3)[f"w_{key}"])) > 1e-3


def test_metrics_follow_the_recorded_decisions(tiny_run):
    params, result = tiny_run
    m = em.compare(result, _lstm(params, True))
    it = params.iterations
    correct = result.extra["alif_correct"][it:]
    delays = np.round(result.extra["delays"][it:], 6)
    for d in np.unique(delays):
        assert m[f"recall_accuracy_{round(d * 1000)}ms"] == correct[delays == d].mean()
        assert m[f"lstm_recall_accuracy_{round(d * 1000)}ms"] == 1.0
    assert m["lstm_longest_delay_95"] == pytest.approx(delays.max())
    assert 0 < m["firing_rate_hz"] < 200
    # every delay of the range is tested
    assert len(np.unique(delays)) == params.distractors_max - params.distractors_min + 1


def test_evidence_task_trials_fill_the_trial_and_score_the_decision():
    """task="evidence": trials as long as ``trial_steps``, every test trial at the one
    delay, and ``evidence_error`` the fraction answered wrongly (NaN for store-recall)."""
    params = em.Params.tiny().replace(
        task="evidence",
        n_cues=3,
        cue=10 * brian2.ms,
        cue_interval=20 * brian2.ms,
        evidence_delay=40 * brian2.ms,
        decision=20 * brian2.ms,
    )
    assert params.trial_steps == 50 + 2 * 20 + 10 + 40 + 20
    trials = em.trial_batch(params, 0, params.iterations)
    assert trials.x.shape == (params.trial_steps, params.n_copies, 4 * params.per_channel)
    np.testing.assert_allclose(trials.windows, [[0.14, 0.16]] * params.n_copies)
    result = _simulate_numpy(params, 1)
    m = em.compare(result, _lstm(params, False))
    correct = result.extra["alif_correct"][params.iterations :]
    assert m["evidence_error"] == pytest.approx(1 - correct.mean())
    assert m["lstm_evidence_error"] == 1.0
    # the only delay tested: the decide cue 40 ms after the last cue
    assert [k for k in m if k.startswith("recall_accuracy_")] == [
        "recall_accuracy_40ms",
        "recall_accuracy_long",
    ]


def test_recall_accuracy_long_is_the_longer_half_of_the_delays(tiny_run):
    """Delays >= the median tested delay (1.2 s in the default preset)."""
    params, result = tiny_run
    m = em.compare(result, _lstm(params, True))
    it = params.iterations
    delays = np.round(result.extra["delays"][it:], 6)
    long = delays >= np.median(np.unique(delays))
    assert 0 < long.sum() < delays.size
    assert m["recall_accuracy_long"] == result.extra["alif_correct"][it:][long].mean()
    assert np.isnan(m["evidence_error"])


def test_bad_params_are_refused():
    with pytest.raises(ValidationError, match="n_alif"):
        em.Params(n_lif=60, n_alif=60)
    with pytest.raises(ValidationError, match="distractors_max"):
        em.Params(distractors_max=8)
    with pytest.raises(ValidationError, match="lstm_bin"):
        em.Params(lstm_bin=3 * brian2.ms)
    with pytest.raises(ValidationError, match="n_cues"):
        em.Params(task="evidence", n_cues=6)
    with pytest.raises(ValidationError, match="Params.cue"):
        em.Params(task="evidence", cue=200 * brian2.ms)
    with pytest.raises(ValidationError, match="task"):
        em.Params(task="recall")


# ---------------------------------------------------------------- the default preset
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_preset_meets_the_targets(seed, monkeypatch):
    # The targets at seeds 0-2 (benchmarks/results/eprop_memory.md): LIF + ALIF
    # >= 95% over the test trials with delays >= 1.2 s (measured 0.967-0.987, about 150
    # trials: one trial is 0.007), the LIF-only ablation <= 70% (measured 0.42-0.50: it
    # answers at chance), the LSTM >= 95% (measured 1.00). Each seed trains for 5-10 min.
    require("jax", "lstm")
    # 8000 training trials: the program compiled as users run it (-O3, as the benchmark
    # measured these numbers), not the suite's unoptimised -O0 (three times slower here)
    monkeypatch.setenv("SPIKINGML_FAST_COMPILE", "0")
    params = em.Params()
    result = em.simulate(params, seed=seed, device="cpp_standalone", progress=False)
    metrics = em.compare(result, em.twin(params, seed))
    assert metrics["recall_accuracy_long"] >= 0.95
    assert metrics["lif_recall_accuracy_long"] <= 0.70
    assert metrics["lstm_recall_accuracy_long"] >= 0.95
    # the memory is learned: training error ends low for the ALIF network only
    assert metrics["final_training_error"] <= 0.05 < metrics["lif_final_training_error"]
