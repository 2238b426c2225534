"""Guards on the private internals of dependencies: where they are missing, public paths.

spikingml uses members of Brian2's ``cpp_standalone`` device (to time its compilation
and runs, :func:`spikingml.simulation._time_device_methods`, and to rerun a program
several times at once, :func:`spikingml.simulation.rerun_standalone`) and of
:mod:`multiprocessing.forkserver` and Dask (the sweep's fork server,
:func:`spikingml.sweep._fork_server`) that are not their public API. Each checks for
them (and Brian2 for a tested version); here they are taken away one at a time: the
work is done the public way, with a warning, never a crash. (The NIX writer's guard is
tested in tests/test_nix_fast.py.)
"""

from __future__ import annotations

import os
import time

import brian2
import numpy as np
import pytest
from _optional import require

from spikingml import simulation


@pytest.fixture
def fresh_warnings(monkeypatch, caplog):
    """Forget what the guards have warned about; collect their warnings."""
    monkeypatch.setattr(simulation, "_INTERNALS_WARNED", set())
    caplog.set_level("WARNING")

    def warnings(logger: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == logger]

    return warnings


# --------------------------------------------------------------------------- device timing


class _Device:
    """Stands for a standalone device: ``compile_source`` and ``run`` take some time."""

    def compile_source(self):
        time.sleep(0.02)

    def run(self):
        time.sleep(0.01)


class _DeviceWithoutCompileSource:
    """A device whose build compiles otherwise (the method renamed, say)."""

    def run(self):
        time.sleep(0.01)


@pytest.mark.parametrize("case", ["no-compile_source", "brian2-2.10"])
def test_device_timing_needs_the_device_internals(case, fresh_warnings, monkeypatch):
    if case == "brian2-2.10":
        monkeypatch.setattr(brian2, "__version__", "2.10.0")
        devices, said = [_Device(), _Device()], "Brian2 2.10.0 is not a version tested here"
    else:
        devices = [_DeviceWithoutCompileSource(), _DeviceWithoutCompileSource()]
        said = "_DeviceWithoutCompileSource lacks compile_source"
    with simulation.record_device_times() as times:
        for dev in devices:  # two devices: one warning
            simulation._time_device_methods(dev)
            assert "run" not in vars(dev)  # nothing wrapped
            dev.run()
            simulation._untime_device_methods(dev)
    assert (times.compile_seconds, times.binary_seconds) == (0.0, 0.0)
    warned = fresh_warnings("spikingml.simulation")
    assert len(warned) == 1
    assert said in warned[0] and "times of cpp_standalone runs are not recorded" in warned[0]


def test_device_timing_is_on_with_the_tested_brian2(fresh_warnings):
    # the guard's other side: with Brian2 2.9 and the members present, times are recorded
    assert brian2.__version__.startswith("2.9")
    dev = _Device()
    with simulation.record_device_times() as times:
        simulation._time_device_methods(dev)
        dev.compile_source()
        simulation._untime_device_methods(dev)
    assert times.compile_seconds >= 0.02
    assert not fresh_warnings("spikingml.simulation")


# --------------------------------------------------------------------------- reruns


class _BuiltDevice:
    """A built and run program's device as Brian2's public API shows it, no more.

    ``run`` writes each array of its run arguments into ``static_arrays`` as Brian2 does
    (and lists it in ``run_args_arrays``), and records what it was given.
    """

    has_been_run = True

    def __init__(self, project_dir: str) -> None:
        self.project_dir = project_dir
        os.makedirs(os.path.join(project_dir, "static_arrays"))
        self.run_args_arrays: list[str] = []
        self.calls: list[tuple[dict, bool]] = []

    def run(self, directory=None, results_directory=None, with_output=True, run_args=None):
        self.run_args_arrays = [f"_run_arg_{len(self.calls)}"]
        path = os.path.join(self.project_dir, "static_arrays", self.run_args_arrays[0])
        np.zeros(3).tofile(path)
        self.calls.append((dict(run_args), with_output))


def test_rerun_without_device_internals_runs_one_at_a_time(fresh_warnings, monkeypatch, tmp_path):
    device = _BuiltDevice(str(tmp_path))
    monkeypatch.setattr(brian2, "get_device", lambda: device)
    runs = [{"v": k} for k in range(3)]
    seen = []
    for k in simulation.rerun_standalone(runs, jobs=2):
        # run k has finished, and no later one has started, when k is yielded
        assert [args for args, _ in device.calls] == runs[: k + 1]
        seen.append(k)
    assert seen == [0, 1, 2]
    assert all(with_output is False for _, with_output in device.calls)
    assert os.listdir(tmp_path / "static_arrays") == []  # run arguments removed
    warned = fresh_warnings("spikingml.simulation")
    assert len(warned) == 1 and "lacks _prepare_variableview_run_arg" in warned[0]
    assert "standalone reruns run one at a time" in warned[0]


@pytest.mark.slow
def test_rerun_fallback_gives_the_results_of_the_parallel_reruns(fresh_warnings, monkeypatch):
    """On a real program (compiled: ~20 s cold): Brian2 taken for an untested version
    (2.10), the fallbacks time nothing and rerun by ``device.run``, and every rerun's
    values are those of the parallel reruns, bit for bit (same program, same seed and
    inputs)."""
    monkeypatch.setattr(brian2, "__version__", "2.10.0")
    inputs = [np.array([0.5, 1.0, 1.5]) * k for k in range(3)]
    with (
        simulation.record_device_times() as times,
        simulation.standalone_build_directory("test-guards-rerun") as directory,
        simulation.brian_device("cpp_standalone", seed=5, directory=directory, build_on_run=False),
    ):
        g = brian2.NeuronGroup(
            3, "dv/dt = -v / (10*ms) + 0.3 * xi / sqrt(ms) : 1", method="euler", name="g"
        )
        mon = brian2.StateMonitor(g, "v", record=True, name="mon")
        brian2.Network(g, mon).run(2 * brian2.ms)
        brian2.device.build(run=False, directory=directory, with_output=False)
        brian2.device.run(run_args={g.v: inputs[0]}, with_output=False)
        fallback = [mon.v[:].copy() for _ in simulation.rerun_standalone({g.v: v} for v in inputs)]
        monkeypatch.setattr(brian2, "__version__", "2.9.0")
        parallel = [mon.v[:].copy() for _ in simulation.rerun_standalone({g.v: v} for v in inputs)]
    assert (times.compile_seconds, times.binary_seconds) == (0.0, 0.0)
    assert len(fresh_warnings("spikingml.simulation")) == 2  # timing, reruns
    for k, (a, b) in enumerate(zip(fallback, parallel, strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"run {k}")
        np.testing.assert_array_equal(a[:, 0], inputs[k], err_msg=f"run {k}: initial v")
    assert not np.array_equal(fallback[1], fallback[2])  # the runs differ: inputs reached


# --------------------------------------------------------------------------- fork server


@pytest.mark.parametrize(
    "missing",
    [
        "multiprocessing.forkserver._forkserver._stop",
        "multiprocessing.forkserver._forkserver._preload_modules",
        "distributed.utils._forkserver_preload_set",
    ],
)
def test_fork_server_without_its_internals_is_not_started(missing, monkeypatch, caplog):
    import multiprocessing.forkserver

    from spikingml.sweep import _fork_server

    distributed_utils = require("distributed.utils", "sweep")

    server = multiprocessing.forkserver._forkserver
    name = missing.rsplit(".", 1)[1]
    if missing.startswith("distributed"):
        monkeypatch.delattr(distributed_utils, name)
    elif name == "_stop":
        monkeypatch.delattr(type(server), name)
    else:
        monkeypatch.delattr(server, name)
    caplog.set_level("WARNING", logger="spikingml.sweep")
    with _fork_server(["json"]) as running:
        assert running is False
        assert server._forkserver_pid is None  # none started
    warned = [r.getMessage() for r in caplog.records if r.name == "spikingml.sweep"]
    assert len(warned) == 1 and missing in warned[0]
    assert "without a fork server" in warned[0]


def test_fork_server_that_fails_to_start_is_not_used(monkeypatch, caplog):
    import multiprocessing.forkserver

    from spikingml.sweep import _fork_server

    require("distributed", "sweep")

    def broken():
        raise OSError("no fork server today")

    server = multiprocessing.forkserver._forkserver
    preload = list(server._preload_modules)
    monkeypatch.setattr(multiprocessing.forkserver, "ensure_running", broken)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    caplog.set_level("WARNING", logger="spikingml.sweep")
    with _fork_server(["json"]) as running:
        assert running is False
        assert "OMP_NUM_THREADS" not in os.environ  # the environment given back
    assert server._preload_modules == preload
    warned = [r.getMessage() for r in caplog.records if r.name == "spikingml.sweep"]
    assert len(warned) == 1 and "no fork server today" in warned[0]
