"""Compiled re-runs of the Rescorla-Wagner circuit: other seeds, other run-time values.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). A seed's only random draw, the initial
phases (:func:`~spikingml.circuits.rescorla_wagner.initial_phases`), and every run-time
field (``Params.runtime_fields()``) are run arguments: the shared constants of
:func:`~spikingml.circuits.rescorla_wagner.build_network`, and the neurons' tonic drive
``f_i``, made from ``value_rate0``, ``dopamine_rate`` and ``dopamine_spread``. One
program serves every seed and every value of those fields.
:mod:`spikingml.circuits.rescorla_wagner` re-exports :func:`simulate_many`, the
contract's hook.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from brian2 import Hz

from spikingml.simulation import Program, constant_args
from spikingml.simulation import simulate_many as many

if TYPE_CHECKING:
    from spikingml.circuits.rescorla_wagner import Inputs, Network, Params
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> tuple[Network, Inputs]:
    """The network of ``params`` with its protocol recorded (nothing runs)."""
    from spikingml.circuits import rescorla_wagner as rw

    inputs = rw.prepare_inputs(params, seed)
    network = rw.build_network(params, inputs)
    rw._run_protocol(network, params)
    return network, inputs


def _run_args(built: tuple[Network, Inputs], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' values, the tonic drives they make and the seed's phases."""
    from spikingml.circuits import rescorla_wagner as rw

    network, inputs = built
    args = constant_args(network.net, rw._constants(params))
    args[network.neurons.f_i] = rw._populations(params, inputs.groups).f_i * Hz
    args[network.neurons.phi] = rw.initial_phases(inputs.populations.n_total, seed)
    return args


def _collect(built: tuple[Network, Inputs], params: Params, seed: int, t_wall: float) -> Result:
    """Read a finished run (the layout and wiring of ``inputs`` are the structure's)."""
    from spikingml.circuits import rescorla_wagner as rw

    network, inputs = built
    recorded = rw._read_out(network)
    wall = time.perf_counter() - t_wall
    return rw._collect(params, seed, "cpp_standalone", inputs, recorded, wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=True)


def simulate_many(
    runs: Iterable[tuple[Params, int]],
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
    fresh: bool = False,
) -> Iterator[Result]:
    """Simulate ``(params, seed)`` pairs, compiling one program per structure.

    Under ``cpp_standalone`` the pairs that differ only in their seeds and run-time
    fields run on one program, built and compiled once (in a persistent build directory:
    a later call with the same structure compiles nothing) and run with each pair's
    run arguments, ``jobs`` at a time. Each result equals ``simulate(params, seed,
    "cpp_standalone")`` spike for spike (the conformance test checks against a program
    compiled for the pair's own values). Under ``runtime`` the pairs are simulated one
    after the other.

    Parameters
    ----------
    runs : iterable of (Params, int)
        The parameters and seed of each run, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of each simulation on stderr (``runtime`` only).
    jobs : int, optional
        ``cpp_standalone``: programs running at once (default: the cores this process may
        use).
    fresh : bool
        ``cpp_standalone``: compile a program for each run's own values (for tests).

    Yields
    ------
    Result
        One per run, in order, each yielded as soon as it is read. ``wall_seconds`` of
        the first of a structure includes building and compiling its program.

    Notes
    -----
    The ``cpp_standalone`` device stays selected while the generator is suspended
    (between two results); run no other Brian2 simulation in this process until it is
    exhausted or closed.
    """
    from spikingml.circuits import rescorla_wagner as rw

    runs = [(rw._check_params(params), seed) for params, seed in runs]
    yield from many(rw.NAME, PROGRAM, rw.simulate, runs, device, progress, jobs, fresh)
