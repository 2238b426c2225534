"""The tempotron circuit, its event-based cross-check and its twins (perceptron, LDA).

The default suite checks the mechanics on the tiny run shared with the conformance test
(``tiny_run``, seed 1, tests/conftest.py). The science runs are slow: the quick preset
(N = 100, loads 1-2, 100 epochs; about 100 s on a cold 2-core machine, most of it
compiling its own program) and the default preset, measured at seeds 0-2 with
benchmarks/bench_tempotron.py (benchmarks/results/tempotron.md); each bound below says
where it comes from.
"""

import numpy as np
import pytest
from _roundtrip import check_nix_round_trip, check_nwb
from conftest import TINY_SEED

from spikingml import ValidationError
from spikingml.analysis import tempotron as tpa
from spikingml.circuits import REGISTRY, get_circuit
from spikingml.circuits import tempotron as tp
from spikingml.plasticity.tempotron import TempotronRule
from spikingml.stimuli.spike_patterns import (
    binned_counts,
    latency_patterns,
    spike_counts,
    timing_task,
)

TAU, TAU_S, DT = 15e-3, 3.75e-3, 1e-3


@pytest.fixture(scope="module")
def tp_quick():
    """(params, result, twin, metrics) of the quick preset, seed 0 (~2 s program once built)."""
    params = tp.Params.quick()
    result = tp.simulate(params, seed=0, progress=False)
    twin = tp.twin(params, seed=0)
    return params, result, twin, tp.compare(result, twin)


# ------------------------------------------------------------ event-based evaluation
def test_kernel_peaks_at_one():
    t_peak = TAU * TAU_S / (TAU - TAU_S) * np.log(TAU / TAU_S)
    assert tpa.psp_kernel(t_peak, TAU, TAU_S) == pytest.approx(1.0, rel=1e-12)
    s = np.linspace(0, 0.2, 20001)
    assert tpa.psp_kernel(s, TAU, TAU_S).max() == pytest.approx(1.0, abs=1e-6)
    assert tpa.psp_kernel(np.array([-1e-3, 0.0]), TAU, TAU_S).tolist() == [0.0, 0.0]
    with pytest.raises(ValidationError, match="tau"):
        tpa.kernel_norm(TAU, TAU)


def test_evaluate_sums_kernels_on_the_grid():
    # Two afferents, spikes at steps 10 and 30: V[k] = sum_i w_i K((k - s_i) dt).
    w = np.array([0.7, -0.3])
    steps = np.array([[10, 30]])
    ev = tpa.evaluate(w, steps, 100, DT, TAU, TAU_S)
    k = np.arange(100)
    expected = 0.7 * tpa.psp_kernel((k - 10) * DT, TAU, TAU_S) - 0.3 * tpa.psp_kernel(
        (k - 30) * DT, TAU, TAU_S
    )
    np.testing.assert_allclose(ev.voltage[0], expected, atol=1e-12)
    assert not ev.fired[0]
    assert ev.t_max[0] == 1 + np.argmax(expected[1:])
    assert ev.v_max[0] == pytest.approx(expected.max())


def test_evaluate_reports_the_first_crossing():
    w = np.array([1.5, 1.5])
    ev = tpa.evaluate(w, np.array([[5, 40]]), 100, DT, TAU, TAU_S, theta=1.0)
    expected = 1.5 * tpa.psp_kernel((np.arange(100) - 5) * DT, TAU, TAU_S)
    first = int(np.argmax(expected > 1.0))
    assert ev.fired[0] and ev.t_max[0] == first
    assert ev.v_max[0] == pytest.approx(expected[first])


def test_evaluate_rejects_bad_shapes():
    with pytest.raises(ValidationError, match="steps"):
        tpa.evaluate(np.ones(3), np.ones((2, 4), int), 10, DT, TAU, TAU_S)
    with pytest.raises(ValidationError, match="steps"):
        tpa.evaluate(np.ones(2), np.array([[1, 10]]), 10, DT, TAU, TAU_S)


# ------------------------------------------------------------------ twins: known answers
def test_perceptron_learns_separable_toy_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = np.where(x @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) > 0.3, 1, -1)
    curve = tpa.perceptron_curve(x, y, 50, seed=0)
    assert curve.max() == 1.0  # separable: the perceptron converges (Novikoff)
    assert tpa.perceptron_accuracy(x[:150], y[:150], x[150:], y[150:], 50) >= 0.9


def test_perceptron_cannot_store_far_beyond_two_patterns_per_weight():
    # Random labels on 4 N random points (alpha = 4 > 2, Cover 1965): no perceptron
    # classifies them all; measured best 0.78 here.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 50))
    y = rng.choice([-1, 1], 200)
    assert tpa.perceptron_curve(x, y, 30, seed=0).max() < 0.95


def test_lda_on_gaussian_classes_and_on_constant_features():
    rng = np.random.default_rng(2)
    mean = np.r_[2.0, np.zeros(9)]
    x = np.vstack([rng.normal(size=(300, 10)) + mean, rng.normal(size=(300, 10)) - mean])
    y = np.r_[np.ones(300), -np.ones(300)].astype(int)
    order = rng.permutation(600)
    x, y = x[order], y[order]
    # Bayes accuracy Phi(2) = 0.977; LDA fitted on 400 samples comes close
    assert tpa.lda_accuracy(x[:400], y[:400], x[400:], y[400:]) >= 0.95
    # constant features carry nothing: chance, within 3 binomial sd of 0.5 on 200 samples
    ones = np.ones((600, 10))
    assert abs(tpa.lda_accuracy(ones[:400], y[:400], ones[400:], y[400:]) - 0.5) < 0.11
    with pytest.raises(ValidationError, match="labels"):
        tpa.lda_accuracy(x, np.zeros(600), x, y)


def test_capacity_reads_the_largest_load_reached():
    alphas = np.array([1.0, 1.5, 2.0, 2.5])
    assert tpa.capacity(alphas, np.array([1.0, 0.97, 0.95, 0.9])) == 2.0
    assert tpa.capacity(alphas, np.array([1.0, 0.9, 0.99, 0.99])) == 1.0  # first miss counts
    assert tpa.capacity(alphas, np.array([0.9, 1.0, 1.0, 1.0])) == 0.0
    assert tpa.capacity(alphas, np.ones(4)) == 2.5
    with pytest.raises(ValidationError, match="alphas"):
        tpa.capacity(alphas[::-1], np.ones(4))


# ----------------------------------------------------------------------------- stimuli
def test_latency_patterns():
    steps, labels = latency_patterns(101, 40, 500, np.random.default_rng(0))
    assert steps.shape == (101, 40) and steps.min() >= 1 and steps.max() <= 499
    assert sorted(np.unique(labels)) == [-1, 1] and abs(labels.sum()) == 1
    with pytest.raises(ValidationError, match="n_steps"):
        latency_patterns(3, 4, 1, np.random.default_rng(0))


def test_timing_task_has_identical_counts_and_jittered_timing():
    task = timing_task(50, 4, 6, 5, 500, 5.0, np.random.default_rng(3))
    assert task.train_steps.shape == (2 * 4 * 6, 50) and task.test_steps.shape == (40, 50)
    # one spike per afferent in every sample of both classes
    assert np.all(spike_counts(task.train_steps) == 1)
    counts = binned_counts(task.train_steps, 500, 50)
    assert counts.shape == (48, 50 * 10) and np.all(counts.sum(axis=1) == 50)
    # the jitter around the template has the asked standard deviation (5 steps)
    shift = task.train_steps - task.templates[task.train_template]
    inner = (task.templates[task.train_template] > 30) & (
        task.templates[task.train_template] < 470
    )
    assert np.std(shift[inner]) == pytest.approx(5.0, rel=0.1)
    assert np.all(task.train_labels == task.template_labels[task.train_template])


# ------------------------------------------------------------------------ the contract
def test_registered():
    assert REGISTRY["tempotron"] == "spikingml.circuits.tempotron"
    assert get_circuit("tempotron") is tp


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"tau_s": 20 * tp.ms}, "tau_s", "< tau"),
        ({"duration": 500.5 * tp.ms}, "duration", "multiple of dt"),
        ({"alpha_max": 1.0}, "alpha_max", ">= alpha_min"),
        ({"in_flight": 0}, "in_flight", "an integer >= 1"),
        ({"n_afferents": 1}, "n_afferents", "an integer >= 2"),
        ({"jitter": 5}, "jitter", "units of"),
        ({"bin_width": 2 * tp.second}, "bin_width", "<= duration"),
        ({"momentum": 1.0}, "momentum", "< 1"),
    ],
)
def test_validation_errors_name_the_field(changes, field, fragment):
    with pytest.raises(ValidationError, match=f"Tempotron.Params.{field}: expected") as err:
        tp.Params(**changes)
    assert err.match(fragment)


def test_loads_and_command_line_form():
    assert tp.Params().alphas.tolist() == [1.5, 2.0, 2.5, 3.0]
    assert tp.Params.quick().alphas.tolist() == [1.0, 1.5, 2.0]
    params = tp.Params.quick().replace_from_strings({"jitter": "3 ms", "in_flight": "5"})
    assert params.in_flight == 5 and params.n_afferents == 100
    assert tp.alpha_key(2.5) == "2_5" and tp.alpha_key(3.0) == "3"


def test_simulate_rejects_bad_arguments():
    with pytest.raises(ValidationError, match="seed"):
        tp.simulate(tp.Params.quick(), seed=-1)
    with pytest.raises(ValidationError, match="device"):
        tp.simulate(tp.Params.quick(), device="gpu")
    with pytest.raises(ValidationError, match="params"):
        tp.simulate({"n_afferents": 3})


def test_twin_sees_the_circuits_patterns(tiny_run):
    # the patterns come from the seed alone, the same for every call
    params = tp.Params.quick()
    a, b = tp.tasks(params, 4), tp.tasks(params, 4)
    for s, t in zip(a.capacity_steps, b.capacity_steps, strict=True):
        np.testing.assert_array_equal(s, t)
    assert [len(s) for s in a.capacity_steps] == [100, 150, 200]
    assert not np.array_equal(tp.tasks(params, 5).timing.templates, a.timing.templates)
    # the twin's perceptron learnt the circuit's capacity patterns of the run (seed 1):
    # its curve is the one computed here from tasks(params, 1) (deterministic: equal)
    record = tiny_run("tempotron")
    params, twin = record.params, record.twin_output
    task = tp.tasks(params, TINY_SEED)
    curve = tpa.perceptron_curve(
        task.capacity_steps[0] * float(params.dt),
        task.capacity_labels[0],
        params.n_epochs,
        TINY_SEED,
    )
    np.testing.assert_array_equal(twin.perceptron_curves[0], curve)


def test_circuit_composes_the_tempotron_rule():
    # the rule object of plasticity/ carries the circuit's parameters; tau_lr is
    # lr_decay_epochs epochs (here 20 epochs of 10 000 steps of 1 ms: 200 s)
    params = tp.Params.quick()
    rule = tp.learning_rule(params, 10_000)
    assert isinstance(rule, TempotronRule)
    assert (rule.tau, rule.tau_s) == (params.tau, params.tau_s)
    assert (rule.learning_rate, rule.momentum) == (params.learning_rate, params.momentum)
    assert rule.average_epochs == params.average_epochs
    assert float(rule.tau_lr) == pytest.approx(200.0, rel=1e-12)


def test_run_time_fields_are_values_of_the_program():
    # w_init_std scales the seed's draws; the kernel, threshold and the rule's rates are
    # shared constants (their values, not the code, change)
    params = tp.Params.tiny()
    wider = params.replace(w_init_std=2 * params.w_init_std)
    assert params.same_structure(wider)
    np.testing.assert_allclose(
        tp.initial_weights(wider, 3, 50), 2 * tp.initial_weights(params, 3, 50), rtol=1e-15
    )
    constants = tp._constants(params, 10_000)
    assert set(constants) == {
        "tau", "tau_s", "V0", "theta", "psp_tau", "psp_tau_s", "psp_V0", "lam0", "mu", "tau_lr"
    }  # fmt: skip
    assert float(constants["tau_lr"]) == pytest.approx(200.0, rel=1e-12)
    assert constants["V0"] == constants["psp_V0"] == tp.learning_rule(params, 10_000).V0


@pytest.mark.standalone
def test_simulate_many_compiles_one_program_for_seeds_and_run_time_values(tmp_path, monkeypatch):
    # an empty cache: two seeds and a new learning rate compile one program (the seed
    # changes the wiring's values, not the code; Brian2's own seed is fixed)
    from spikingml.circuits._tempotron_runs import _directory_of
    from spikingml.simulation import build_key, record_device_times

    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    tiny = tp.Params.tiny()
    faster = tiny.replace(learning_rate=4 * tiny.learning_rate)
    runs = [(tiny, 1), (faster, 1), (tiny, 2)]
    with record_device_times() as times:
        results = list(tp.simulate_many(runs, progress=False))
    assert times.compilations == 1
    assert [(r.params["learning_rate"], r.seed) for r in results] == [
        (tiny.learning_rate, 1),
        (faster.learning_rate, 1),
        (tiny.learning_rate, 2),
    ]
    w = [r.weights["w_alpha_1"] for r in results]
    assert not np.allclose(w[0], w[1]) and not np.allclose(w[0], w[2])
    # n_epochs and jitter are structural (the protocol's runs, the wiring's delays), but
    # their programs share the build directory: only main.cpp is compiled again
    longer = tiny.replace(n_epochs=tiny.n_epochs + 1, jitter=2 * tiny.jitter)
    assert not tiny.same_structure(longer)
    assert build_key(tp.NAME, _directory_of(longer.structure())) == build_key(
        tp.NAME, _directory_of(tiny.structure())
    )
    (build,) = (tmp_path / "standalone").iterdir()
    objects = {p: p.stat().st_mtime_ns for p in build.rglob("*.o")}
    main = {p for p in objects if p.name.startswith("main")}
    assert len(main) == 1 and len(objects) > 1
    (second,) = tp.simulate_many([(longer, 1)], progress=False)
    assert [p.name for p in (tmp_path / "standalone").iterdir()] == [build.name]
    assert {p for p in build.rglob("*.o") if p.stat().st_mtime_ns != objects.get(p)} == main
    m = results[0].extra["windows_per_epoch"]
    assert second.t_stop - results[0].t_stop == pytest.approx(m * tiny.n_steps * 1e-3)


# -------------------------------------------------------------------- the tiny run
def test_circuit_matches_event_based_evaluation(tiny_run):
    # With the weights frozen, V on the grid is the same sum of kernels: Vmax agrees to
    # rounding (measured 7e-16) and every fire / no-fire decision is the same.
    m = tiny_run("tempotron").metrics
    assert m["voltage_crosscheck_error"] < 1e-9
    assert m["crosscheck_decision_agreement"] == 1.0


def test_every_metric_is_documented(tiny_run):
    for name in tiny_run("tempotron").metrics:
        assert tp.metric_doc(name), name
    # a per-load metric reads its "<a>" entry; an unknown name is an error
    assert (
        tp.metric_doc("epochs_to_criterion_alpha_2_5")
        == tp.METRICS["epochs_to_criterion_alpha_<a>"]
    )
    with pytest.raises(KeyError, match="no_such_alpha_1"):
        tp.metric_doc("no_such_alpha_1")


def test_result_layout(tiny_run):
    record = tiny_run("tempotron")
    params, result = record.params, record.result
    assert [p.name for p in result.phases] == ["training", "frozen"]
    # n_epochs epochs of m windows, one more window for the last updates, then one
    # epoch and one window with the weights frozen
    m = result.extra["windows_per_epoch"]
    n_steps = params.n_steps
    steps = params.n_epochs * m * n_steps + n_steps + m * n_steps + n_steps
    assert result.t_stop == pytest.approx(steps * 1e-3)
    # tiny: one load of 30 patterns on 10 copies of 3 windows; the 10 timing samples
    # (2 classes x 1 template x (3 training + 2 test)) on ceil(10 / 3) = 4 copies
    n_timing = 2 * params.n_templates * (params.n_train + params.n_test)
    copies = result.extra["copies_per_problem"]
    assert m == 3 and copies == [10, -(-n_timing // m)] == [10, 4]
    assert result.populations["output"].size == copies[-1]
    assert result.populations["input"].size <= 2 * params.n_afferents
    for name in ("V_plus_before", "V_plus_after", "V_minus_before", "V_minus_after"):
        assert result.signals[name].values.shape == (params.n_steps - 1, 1)
    # each copy fires at most once per window
    out = result.populations["output"]
    offsets = result.weights["offsets"][-copies[-1] :]
    step = np.rint(out.times / 1e-3).astype(int)
    window = (step - offsets[out.indices]) // n_steps
    assert len(set(zip(out.indices.tolist(), window.tolist(), strict=True))) == len(step)
    # every pattern has an entry in every training epoch and in the frozen window
    for name in result.extra["problems"]:
        assert not np.isnan(result.weights[f"err_{name}"]).any()


def test_figures_written(tiny_run, tmp_path):
    record = tiny_run("tempotron")
    paths = tp.figures(record.result, record.twin_output, tmp_path)
    assert [p.name for p in paths] == ["comparison.png", "voltage_traces.png"]
    assert all(p.stat().st_size > 20_000 for p in paths)
    assert tp.raster_options(record.result)["populations"] == ["input", "output"]


def test_round_trips_through_nwb(tiny_run, tmp_path):
    # every field of the Result back from data.nwb (tests/_roundtrip.py)
    check_nwb(tiny_run("tempotron").result, tmp_path)


# ------------------------------------------------- the quick preset (science, slow)
@pytest.mark.slow
def test_learning_happens_in_the_circuit(tp_quick):
    # Before learning (tiny random weights) V stays far below threshold: every + pattern
    # is an error in the first epoch, so about half of every load is wrong.
    params, result, _, m = tp_quick
    curves = tpa.accuracy_curves(result)
    for alpha in params.alphas:
        curve = curves[f"alpha_{tp.alpha_key(alpha)}"]
        assert curve[0] < 0.6
    assert m["tempotron_accuracy_alpha_1"] == 1.0
    w0 = result.weights["w_alpha_1"]
    # weights moved far from their start (measured sd 0.09, 9 times the initial 0.01)
    assert np.std(w0) > 5 * params.w_init_std


@pytest.mark.slow
def test_capacity_quick(tp_quick):
    # Quick preset, N = 100, 100 epochs, 10 copies in flight: capacity_alpha measured
    # 2.0 at seeds 0-2 (every load 1-2 learnt; load 2: 0.99, 0.99, 1.0). The bounds leave
    # one grid step for other seeds; the default preset (N = 250) is the science run
    # (benchmarks/results/tempotron.md). The perceptron on the same patterns stores
    # load 1.5 (measured 1.5).
    params, _, twin, m = tp_quick
    assert m["capacity_alpha"] >= 1.5
    assert m["tempotron_accuracy_alpha_1_5"] >= 0.95
    assert m["perceptron_accuracy_alpha_1"] >= 0.95
    assert twin.perceptron_curves.shape == (3, params.n_epochs)
    # at load 2, the perceptron's capacity (Cover 1965), the tempotron stores more of the
    # same patterns: 0.98 vs 0.78 at seed 0 (perceptron 0.73-0.895 at seeds 0-4); the
    # margin 0.1 allows a few near-threshold decisions of either to flip
    assert m["tempotron_accuracy_alpha_2"] - m["perceptron_accuracy_alpha_2"] >= 0.1


@pytest.mark.slow
def test_timing_task(tp_quick):
    # The classes differ only in timing. Targets: tempotron >= 0.95 held out (measured
    # quick 0.95-1.0; 0.95 at seed 0); LDA on counts <= 0.6 (counts are identical:
    # chance, 0.40-0.57 measured at seeds 0-4; 100 test samples give sd 0.05).
    _, _, _, m = tp_quick
    assert m["timing_task_accuracy"] >= 0.95
    assert m["lda_counts_accuracy"] <= 0.6
    assert m["perceptron_counts_accuracy"] <= 0.6
    # counts in 50 ms bins do carry the timing: LDA on them measured 0.83 at seed 0
    # (0.74-0.83 at seeds 0-4), the perceptron 1.0 (every seed 0-4). 0.65 is 2 sd
    # (0.045 on 100 samples) below the lowest seed and 3 sd above chance; LDA on the
    # binned counts beats LDA on the counts by >= 0.15 (measured 0.32 at seed 0).
    assert m["lda_binned_accuracy"] >= 0.65
    assert m["lda_binned_accuracy"] - m["lda_counts_accuracy"] >= 0.15
    assert m["perceptron_binned_accuracy"] >= 0.9


@pytest.mark.slow
@pytest.mark.standalone
def test_standalone_gives_identical_learning():
    params = tp.Params.quick().replace(
        n_afferents=30,
        alpha_min=1.0,
        alpha_max=1.0,
        n_epochs=5,
        n_templates=1,
        n_train=3,
        n_test=2,
    )
    a = tp.simulate(params, seed=2, device="runtime", progress=False)
    b = tp.simulate(params, seed=2, device="cpp_standalone", progress=False)
    for name in a.weights:
        np.testing.assert_allclose(a.weights[name], b.weights[name], rtol=1e-12, atol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_preset_timing_and_counts_targets(seed):
    params = tp.Params()
    result = tp.simulate(params, seed=seed, progress=False)
    m = tp.compare(result, tp.twin(params, seed=seed))
    assert m["timing_task_accuracy"] >= 0.95
    assert m["lda_counts_accuracy"] <= 0.6
    assert m["crosscheck_decision_agreement"] == 1.0
    # capacity: measured 2.5 at seeds 0-2, perceptron 1.5 (the 2.5: see
    # test_default_preset_capacity_target)
    assert m["capacity_alpha"] >= 2.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_preset_capacity_target(seed):
    # the target: alpha 2.5 stored (>= 95 % correct) in 100 epochs; measured
    # 0.986, 0.982, 0.986 correct at seeds 0-2 (the NumPy emulation of the schedule:
    # 0.982-0.995 at seeds 0-4)
    params = tp.Params()
    result = tp.simulate(params, seed=seed, progress=False)
    m = tp.compare(result, tp.twin(params, seed=seed))
    assert m["capacity_alpha"] >= 2.5
    assert m["tempotron_accuracy_alpha_2_5"] >= 0.97


def test_schedule_shares_patterns_among_few_copies():
    # largest problem: in_flight copies of m = ceil(P / in_flight) windows; a smaller
    # problem fewer copies of the same m; windows of a problem spread evenly over T
    sched = tp.schedule([100, 45], 10, 500)
    assert sched.windows_per_epoch == 10
    np.testing.assert_array_equal(sched.first_copy, [0, 10, 15])
    assert sched.copy_of[:12].tolist() == [*range(10), 0, 1]
    assert sched.slot_of[:12].tolist() == [0] * 10 + [1, 1]
    assert sched.copy_of[100:106].tolist() == [10, 11, 12, 13, 14, 10]
    assert sched.slot_of.max() == 9
    np.testing.assert_array_equal(sched.offsets[10:], [0, 100, 200, 300, 400])
    # offsets on a grid of the largest divisor of n_steps <= n_steps / in_flight
    assert sched.grid == 50 and tp.schedule([100, 45], 3, 500).grid == 125
    # 9 copies on 10 grid points: spacing 50 steps, one gap of 100
    np.testing.assert_array_equal(tp.schedule([100, 90], 10, 500).offsets[10:], np.arange(9) * 50)
    # every (copy, window) holds at most one pattern
    pairs = set(zip(sched.copy_of.tolist(), sched.slot_of.tolist(), strict=True))
    assert len(pairs) == 145


@pytest.mark.slow
def test_one_copy_in_flight_is_the_online_rule():
    # in_flight = 1: one copy presents the patterns one after the other, each decision on
    # the current weights: the circuit's errors and final (consolidated) weights are those
    # of the plain online tempotron with momentum and a running mean of the weights
    # (measured |dw| 1.5e-15, runtime device)
    params = tp.Params.quick().replace(
        n_afferents=30,
        alpha_min=1.0,
        alpha_max=1.0,
        n_epochs=3,
        n_templates=1,
        n_train=1,
        n_test=1,
        in_flight=1,
    )
    result = tp.simulate(params, seed=0, device="runtime", progress=False)
    task = tp.tasks(params, 0)
    steps, labels = task.capacity_steps[0], task.capacity_labels[0]
    n_aff, n_steps = params.n_afferents, params.n_steps
    w = np.random.default_rng([0, 3]).normal(0, params.w_init_std, 2 * n_aff)[:n_aff]
    dw = np.zeros(n_aff)
    w_avg = w.copy()
    beta = 1 / (params.average_epochs * len(labels))
    kernel = tpa.psp_kernel(np.arange(n_steps) * DT, TAU, TAU_S)
    padded = np.r_[np.zeros(n_steps), kernel]
    epoch = len(labels) * n_steps
    err = result.weights["err_alpha_1"]
    for e in range(params.n_epochs):
        for p in range(len(labels)):
            v = np.convolve(np.bincount(steps[p], weights=w, minlength=n_steps), kernel)
            above = v[1:n_steps] > 1.0
            fired = above.any()
            assert (1 + labels[p]) / 2 - fired == err[e, p]
            t_max = 1 + (np.argmax(above) if fired else np.argmax(v[1:n_steps]))
            # the update is applied in the window's last step
            t = (e * epoch + (p + 1) * n_steps) * DT
            rate = params.learning_rate / (1 + t / (params.lr_decay_epochs * epoch * DT))
            grad = ((1 + labels[p]) / 2 - fired) * padded[t_max - steps[p] + n_steps]
            dw = params.momentum * dw + rate * grad
            w = w + dw
            w_avg = w_avg + beta * (w - w_avg)
    np.testing.assert_allclose(result.weights["w_alpha_1"], w_avg, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_round_trips_through_nix(tp_quick, tmp_path):
    # every spike, population, phase, event and signal back from data.nix; slow because
    # NixIO reads the spike trains one by one (80 s on a loaded 2-core machine)
    check_nix_round_trip(tp_quick[1], tmp_path / "data.nix")
