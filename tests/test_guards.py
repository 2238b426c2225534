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
