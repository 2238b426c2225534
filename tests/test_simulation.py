"""Shared Brian2 plumbing: the persistent standalone build directories."""

import os
import time
from pathlib import Path

import brian2
import numpy as np
import pytest

from spikingml import ValidationError, simulation
from spikingml.simulation import standalone_build_directory


def _flags_tag() -> str:
    """The tag of the current compiler arguments in build directory names."""
    import hashlib

    flags = " ".join(simulation.standalone_compile_args())
    return hashlib.sha1(flags.encode()).hexdigest()[:6]


def test_build_directory_is_persistent_and_exclusive(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    monkeypatch.setenv("SPIKINGML_FAST_COMPILE", "0")
    name = f"circuit-abc-{_flags_tag()}"
    with standalone_build_directory("circuit-abc") as first:
        assert first.endswith(f"{name}-0")
        (tmp_path / "standalone" / f"{name}-0" / "marker").write_text("built")
        # a second user while the first holds it (a parallel run) gets its own slot
        with standalone_build_directory("circuit-abc") as second:
            assert second != first
            assert second.endswith(f"{name}-1")
    # released: the next run reuses the first slot and finds what was built there
    with standalone_build_directory("circuit-abc") as again:
        assert again == first
        assert (tmp_path / "standalone" / f"{name}-0" / "marker").read_text() == "built"
    with standalone_build_directory("other") as other:
        assert other.endswith(f"other-{_flags_tag()}-0")


def test_build_directory_key_is_validated(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    with pytest.raises(ValidationError, match="key"):
        with standalone_build_directory("../escape"):
            pass


def test_check_seed():
    import numpy as np
    import pytest

    from spikingml import ValidationError
    from spikingml.simulation import check_seed

    assert check_seed(np.int64(3)) == 3 and isinstance(check_seed(np.int64(3)), int)
    for bad in (-1, True, 1.5, "2"):
        with pytest.raises(ValidationError, match="seed"):
            check_seed(bad)


def test_pearson_is_nan_for_a_constant():
    import numpy as np

    from spikingml.analysis.stats import pearson

    assert pearson([1, 2, 3], [2, 4, 6.5]) > 0.99
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_private_cython_cache_starts_warm_and_shares_back(tmp_path, monkeypatch):
    """A worker's private cache links the shared modules in and its own ones back."""
    import brian2

    from spikingml import simulation

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "_cython_magic_a.so").write_bytes(b"compiled a")
    (shared / "_cython_magic_a.pyx").write_text("source, not linked")
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(simulation, "_PRIVATE_CACHE", {})
    monkeypatch.setenv(simulation.CYTHON_CACHE_ENV, "")  # restored (unset) afterwards
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "0")
    brian2.prefs.codegen.runtime.cython.cache_dir = str(shared)
    try:
        private = simulation.use_private_cython_cache()
    finally:
        brian2.prefs.codegen.runtime.cython.cache_dir = None
    assert private.startswith(str(tmp_path / "cache" / "cython" / "worker-"))
    assert os.environ[simulation.CYTHON_CACHE_ENV] == private
    assert simulation.use_private_cython_cache() == private  # once per process
    assert (Path(private) / "_cython_magic_a.so").read_bytes() == b"compiled a"
    assert not (Path(private) / "_cython_magic_a.pyx").exists()
    # brian_device points Brian2 at the private directory
    with simulation.brian_device("runtime", seed=1):
        assert brian2.prefs.codegen.runtime.cython.cache_dir == private
    # what this process compiles is offered to the shared cache (and only once)
    (Path(private) / "_cython_magic_b.so").write_bytes(b"compiled b")
    assert simulation.share_private_cython_cache() == 1
    assert (shared / "_cython_magic_b.so").read_bytes() == b"compiled b"
    assert simulation.share_private_cython_cache() == 0


def test_fast_compile_uses_O0_and_caches_of_its_own(tmp_path, monkeypatch):
    """Unoptimised code is compiled with -O0 into caches that optimised code never uses."""
    import brian2

    from spikingml import simulation

    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    monkeypatch.setenv(simulation.CYTHON_CACHE_ENV, "")
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "1")
    with simulation.brian_device("runtime", seed=0):
        assert brian2.prefs.codegen.cpp.extra_compile_args_gcc == ["-w", "-O0"]
        assert brian2.prefs.codegen.runtime.cython.cache_dir == str(tmp_path / "cython-O0")
    with simulation.standalone_build_directory("prog") as directory:
        unoptimised = Path(directory).name
        assert unoptimised == f"prog-{_flags_tag()}-0"
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "0")
    with simulation.brian_device("runtime", seed=0):
        assert "-O3" in brian2.prefs.codegen.cpp.extra_compile_args_gcc
        assert brian2.prefs.codegen.runtime.cython.cache_dir is None
    with simulation.standalone_build_directory("prog") as directory:
        assert Path(directory).name == f"prog-{_flags_tag()}-0" != unoptimised


def test_runtime_target_follows_the_environment(monkeypatch):
    """SPIKINGML_RUNTIME_TARGET picks Brian2's runtime target; a wrong value is named."""
    for target in ("numpy", "cython"):
        monkeypatch.setenv(simulation.RUNTIME_TARGET_ENV, target)
        with simulation.brian_device("runtime", seed=0):
            assert brian2.prefs.codegen.target == target
    monkeypatch.setenv(simulation.RUNTIME_TARGET_ENV, "weave")
    with pytest.raises(ValidationError, match="SPIKINGML_RUNTIME_TARGET.*'cython' or 'numpy'"):
        with simulation.brian_device("runtime", seed=0):
            pass


def test_cython_and_numpy_targets_give_the_same_run(monkeypatch):
    """The default suite runs the runtime device under NumPy (tests/conftest.py); users
    run generated Cython. The Bayesian neuron's tiny run (Poisson inputs replayed, output
    neurons integrating the log-odds with a threshold and reset: a few code objects) gives
    the same spikes under both, and the same recorded variables to float rounding (NumPy
    and C evaluate the same expressions in double precision; their exp() may differ in
    the last bit)."""
    from spikingml.circuits import bayesian_neuron as bn

    params = bn.Params.tiny()
    runs = {}
    for target in ("cython", "numpy"):
        monkeypatch.setenv(simulation.RUNTIME_TARGET_ENV, target)
        runs[target] = bn.simulate(params, seed=3, device="runtime", progress=False)
    cython, numpy_ = runs["cython"], runs["numpy"]
    assert cython.populations.keys() == numpy_.populations.keys()
    for name, spikes in cython.populations.items():
        np.testing.assert_array_equal(spikes.indices, numpy_.populations[name].indices, name)
        np.testing.assert_array_equal(spikes.times, numpy_.populations[name].times, name)
    assert sum(len(s.times) for s in cython.populations.values()) > 0
    assert cython.signals.keys() == numpy_.signals.keys()
    for name, signal in cython.signals.items():
        np.testing.assert_allclose(
            numpy_.signals[name].values, signal.values, rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_standalone_programs_are_compiled_with_the_vectorising_limit(monkeypatch):
    """cpp_standalone gets Brian2's optimised flags, plus GCC's higher limit on overlap
    checks (the state updates of many arrays vectorise); runtime keeps Brian2's own."""
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "0")
    gcc = simulation._compiler_is_gcc(os.environ.get("CXX", "g++"))
    with simulation.brian_device("cpp_standalone", seed=0):
        args = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    assert args[: len(args) - gcc] == [
        "-w", "-O3", "-ffast-math", "-fno-finite-math-only", "-march=native", "-std=c++11"
    ]  # fmt: skip
    assert (simulation._GCC_VECTORISE in args) == gcc
    with simulation.brian_device("runtime", seed=0):
        assert simulation._GCC_VECTORISE not in brian2.prefs.codegen.cpp.extra_compile_args_gcc


def test_compiler_is_gcc_answers_false_for_a_missing_compiler():
    assert simulation._compiler_is_gcc("/nonexistent/compiler") is False


@pytest.mark.parametrize("reuse", [True, False])
def test_synaptic_event_counter_counts_every_pathway(reuse):
    """Events = spikes of each pathway's source neurons times their synapses there.

    With ``reuse`` the counts come from the network's own spike monitors (also for a
    pathway from a subgroup of a monitored group) and no monitor is added.
    """
    with simulation.brian_device("runtime", seed=3):
        brian2.prefs.codegen.target = "numpy"  # nothing to compile: a fast test
        pre = brian2.PoissonGroup(20, 80 * brian2.Hz)
        post = brian2.NeuronGroup(
            5, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
        )
        plastic = brian2.Synapses(pre, post, "w : 1", on_pre="v_post += 0.4", on_post="w += 1")
        plastic.connect(p=0.5)
        # pathways from subgroups into a subgroup: indices are within the subgroups
        partial = brian2.Synapses(pre[:10], post[2:], on_pre="v_post += 0.1")
        partial.connect()
        upper = brian2.Synapses(pre[12:], post[:2], on_pre="v_post += 0.1")
        upper.connect(p=0.7)
        pre_mon, post_mon = brian2.SpikeMonitor(pre), brian2.SpikeMonitor(post)
        net = brian2.Network(pre, post, plastic, partial, upper, pre_mon, post_mon)
        n_objects = len(net.objects)
        counter = simulation.SynapticEventCounter(net, reuse=reuse)
        # without reuse: one counting monitor for pre (also serving its subgroups), one for post
        assert len(net.objects) == (n_objects if reuse else n_objects + 2)
        net.run(0.5 * brian2.second)
        n_pre = np.bincount(pre_mon.i[:], minlength=20)
        n_post = np.bincount(post_mon.i[:], minlength=5)
        expected = (
            n_pre[plastic.i[:]].sum()
            + n_post[plastic.j[:]].sum()
            + n_pre[:10][partial.i[:]].sum()
            + n_pre[12:][upper.i[:]].sum()
        )
        assert n_post.sum() > 0  # the post pathway is exercised
        assert counter.total() == expected


def test_synaptic_event_counter_reuses_only_the_monitors_named():
    """``reuse=[...]``: a monitor not named (switched off part of the run) is not used."""
    with simulation.brian_device("runtime", seed=4):
        brian2.prefs.codegen.target = "numpy"
        pre = brian2.PoissonGroup(10, 100 * brian2.Hz)
        post = brian2.NeuronGroup(3, "v : 1")
        syn = brian2.Synapses(pre, post, on_pre="v_post += 1")
        syn.connect()
        partial_mon = brian2.SpikeMonitor(pre)
        net = brian2.Network(pre, post, syn, partial_mon)
        counter = simulation.SynapticEventCounter(net, reuse=[])
        partial_mon.active = False
        net.run(0.1 * brian2.second)
        partial_mon.active = True
        net.run(0.1 * brian2.second)
        assert counter.total() == post.v[:].sum() > 3 * partial_mon.num_spikes


def test_record_device_times_adds_up_timed_methods():
    """Wrapped compile/run calls add their wall time to every active recorder, once."""

    class Device:
        def compile_source(self):
            time.sleep(0.02)

        def run(self):
            time.sleep(0.01)

    dev = Device()
    with simulation.record_device_times() as outer:
        simulation._time_device_methods(dev)
        dev.compile_source()
        with simulation.record_device_times() as inner:
            dev.run()
            dev.run()
        simulation._untime_device_methods(dev)
        dev.run()  # no longer timed
    assert outer.compile_seconds >= 0.02
    assert inner.compile_seconds == 0.0
    assert inner.binary_seconds >= 0.02
    assert outer.binary_seconds == pytest.approx(inner.binary_seconds)
    assert "run" not in vars(dev)  # the class's method again


def test_rerun_standalone_needs_a_built_and_run_program():
    with pytest.raises(RuntimeError, match="build and run the program once first"):
        next(simulation.rerun_standalone([{}]))


@pytest.mark.slow
def test_rerun_standalone_may_make_a_built_programs_first_runs(tmp_path):
    """``allow_first=True``: a program built but never run runs only through the reruns
    (side by side), each run's values are those of ``device.run`` with the same
    arguments, the programs' time counts as binary time and their progress reports
    reach ``progress`` (compiled: ~20 s cold)."""
    inputs = [np.array([0.5, 1.0, 1.5]) * k for k in (1, 2)]
    with (
        simulation.record_device_times() as times,
        simulation.brian_device(
            "cpp_standalone", seed=5, directory=str(tmp_path / "b"), build_on_run=False
        ),
    ):
        g = brian2.NeuronGroup(3, "dv/dt = -v / (10*ms) : 1", method="exact", name="g")
        mon = brian2.StateMonitor(g, "v", record=True, name="mon", dt=1 * brian2.ms)
        # 20 s of simulated time (a second or so): long enough to be seen running
        brian2.Network(g, mon).run(20 * brian2.second, report="stderr")
        brian2.device.build(run=False, directory=str(tmp_path / "b"), with_output=False)
        compiled = times.compile_seconds
        seen = []
        reruns = [
            mon.v[:].copy()
            for _ in simulation.rerun_standalone(
                ({g.v: v} for v in inputs),
                allow_first=True,
                progress=lambda k, line: seen.append((k, line)),
                progress_period=0.02,
            )
        ]
        assert times.binary_seconds > 0
        direct = []
        for v in inputs:
            brian2.device.run(run_args={g.v: v}, with_output=False)
            direct.append(mon.v[:].copy())
    assert compiled > 0 and times.compile_seconds == compiled  # compiled once
    for k, (a, b) in enumerate(zip(reruns, direct, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"run {k}")
        np.testing.assert_allclose(a[:, 10], inputs[k] * np.exp(-10 / 10), rtol=1e-9)
    # the programs' own report reached the callback, for the runs that were running
    assert seen and {k for k, _ in seen} <= {0, 1}
    assert any("simulation" in line or "simulated" in line for _, line in seen), seen[:3]


def test_available_cores_is_a_positive_integer():
    assert isinstance(simulation.available_cores(), int)
    assert simulation.available_cores() >= 1


@pytest.mark.standalone
def test_remove_run_args_files_removes_only_the_run_arguments(tmp_path):
    """Array run arguments (and their locks) go; the program keeps running with new ones."""
    directory = str(tmp_path / "build")
    with simulation.brian_device(
        "cpp_standalone", seed=0, directory=directory, build_on_run=False
    ):
        group = brian2.NeuronGroup(3, "v : 1\nw : 1")
        group.w = np.array([0.5, 1.5, 2.5])  # a static array of the program itself
        brian2.Network(group).run(1 * brian2.ms)
        brian2.device.build(run=False, directory=directory, with_output=False)
        static = Path(directory) / "static_arrays"
        static.mkdir(exist_ok=True)
        own = set(os.listdir(static))
        assert own  # the program's own array is there, and must stay
        for values in ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]):
            brian2.device.run(run_args={group.v: np.array(values)}, with_output=False)
            written = set(os.listdir(static)) - own
            assert len(written) == 2  # the array and the lock Brian2 took to write it
            assert simulation.remove_run_args_files() == 2
            assert set(os.listdir(static)) == own
            np.testing.assert_array_equal(group.v[:], values)  # results still read back
            np.testing.assert_array_equal(group.w[:], [0.5, 1.5, 2.5])
        assert simulation.remove_run_args_files() == 0  # nothing left to remove


def test_constants_equations_declare_shared_constants_with_their_units():
    text = simulation.constants_equations({"tau": 5 * brian2.ms, "gain": 0.5, "r": 3 * brian2.Hz})
    assert text.splitlines() == [
        "",
        "tau : second (shared, constant)",
        "gain : 1 (shared, constant)",
        "r : second ** -1 (shared, constant)",
    ]
    assert simulation.constants_equations({}) == ""


def test_set_constants_and_constant_args_find_every_group_that_declares_them():
    # under the runtime device: the values are set; the run arguments name the same
    # variables; a name no group declares is refused (a typo would leave it at zero)
    with simulation.brian_device("runtime", seed=0):
        values = {"tau": 7 * brian2.ms, "gain": 2.0}
        g = brian2.NeuronGroup(
            2,
            "dv/dt = gain * (1 - v) / tau : 1" + simulation.constants_equations(values),
            method="euler",
            name="g",
        )
        h = brian2.NeuronGroup(
            1, "x : 1" + simulation.constants_equations({"tau": values["tau"]}), name="h"
        )
        net = brian2.Network(g, h)
        assert simulation.set_constants(net, values) == 3
        assert float(g.tau[:]) == pytest.approx(0.007) and float(h.tau[:]) == pytest.approx(0.007)
        assert float(g.gain[:]) == 2.0
        args = simulation.constant_args(net, {"tau": 9 * brian2.ms})
        assert sorted(f"{view.group_name}.{view.name}" for view in args) == ["g.tau", "h.tau"]
        assert all(value == 9 * brian2.ms for value in args.values())
        with pytest.raises(ValidationError, match="tua"):
            simulation.set_constants(net, {"tua": 1 * brian2.ms})
        net.run(1 * brian2.ms)  # the equations compile with them


def test_standalone_builds_use_ccache_where_it_is_installed(monkeypatch):
    # make's command line names ccache as the compiler launcher; SPIKINGML_CCACHE=0 or no
    # ccache leaves the compiler alone
    real_which = simulation.shutil.which

    def which(name):
        return "/opt/bin/ccache" if name == "ccache" else real_which(name)

    monkeypatch.setattr(simulation.shutil, "which", which)
    monkeypatch.delenv("CXX", raising=False)
    for env, expected in (("1", True), ("0", False)):
        monkeypatch.setenv("SPIKINGML_CCACHE", env)
        with simulation.brian_device("cpp_standalone", seed=0):
            args = list(brian2.prefs.devices.cpp_standalone.extra_make_args_unix)
        assert ("'CXX=/opt/bin/ccache g++'" in args) is expected, args
    monkeypatch.setattr(simulation.shutil, "which", lambda name: None)
    monkeypatch.delenv("SPIKINGML_CCACHE")
    with simulation.brian_device("cpp_standalone", seed=0):
        args = list(brian2.prefs.devices.cpp_standalone.extra_make_args_unix)
    assert not any("ccache" in a for a in args)


def test_standalone_progress_says_which_run_runs_and_for_how_long(caplog, monkeypatch):
    from spikingml import simulation

    clock = iter([100.0, 110.0, 110.0])
    monkeypatch.setattr(simulation.time, "perf_counter", lambda: next(clock))
    report = simulation.standalone_progress("wta-em", 8, period=10.0)
    with caplog.at_level("INFO", logger="spikingml.simulation"):
        report(1, "")  # first seen: running for one period already
        report(1, "50% done")
        report(2, "")
    assert [r.getMessage() for r in caplog.records] == [
        "wta-em: run 2 of 8 running, 10 s",
        "wta-em: run 2 of 8 running, 20 s (50% done)",
        "wta-em: run 3 of 8 running, 10 s",
    ]


def test_code_templates_sort_names_that_differ_only_in_case_the_same_way_always():
    # Jinja2's case-blind sort left U and u in a set's order (another in every process):
    # the generated code changed, and a kept build compiled it again at every run
    from brian2.codegen.runtime.cython_rt import CythonCodeObject
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    from spikingml.simulation import brian_device, case_sensitive_template_sort

    with brian_device("runtime", 0):
        pass
    assert case_sensitive_template_sort() == 0  # done by brian_device already
    for cls in (CPPStandaloneCodeObject, CythonCodeObject):
        template = cls.templater.env.from_string("{% for v in names | sort %}{{ v }},{% endfor %}")
        assert template.render(names=["u", "U", "b"]) == "U,b,u,"
        assert template.render(names=["U", "u", "b"]) == "U,b,u,"
