"""Compiled re-runs of the attractor circuit: other values of its run-time fields.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``) is a shared constant of the groups and synapses of
:func:`~spikingml.circuits.attractor.build_network`, the initial weight ``w0`` (the
E -> E weights' initial value), or a field of the twins only, so the program built for a
structure runs with any value of them. The seed is not a run argument: it draws the
patterns, the cues (the drive's ``TimedArray``) and the E -> I connections in Python,
and the membrane noise on the device, so each seed has a program of its own (in the same
build directory). :mod:`spikingml.circuits.attractor` re-exports :func:`simulate_many`,
the contract's hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.attractor import Network, Params, Task
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> tuple[Network, Task]:
    """The network of ``params`` with its schedule's run recorded (nothing runs)."""
    from spikingml.circuits import attractor

    task = attractor.stimulus(params, seed)
    connections = attractor._ei_connections(params, seed)
    network = attractor.build_network(params, task, *connections)
    attractor._run_protocol(network, params, task)
    return network, task


def _run_args(built: tuple[Network, Task], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' shared constants and the E -> E weights' initial value."""
    from spikingml.circuits import attractor

    network, _ = built
    args = constant_args(network.net, attractor._constants(params))
    args[network.ee.w] = params.w0
    return args


def _collect(built: tuple[Network, Task], params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import attractor

    network, task = built
    return attractor._collect(params, task, network, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.attractor", PROGRAM)
