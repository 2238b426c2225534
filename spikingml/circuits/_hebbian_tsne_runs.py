"""Compiled re-runs of the Hebbian t-SNE circuit: other run-time values, one program.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``: the Kenyon cells' gain, time constant and spike limit, the
APL's weight and time constant, ``spikes_per_unit`` and the rule's values, shared
constants of the groups of :func:`~spikingml.circuits.hebbian_tsne.build_network`) is
a run argument, so the program built for a structure and a seed runs with any value of
them. A seed is not: it draws the samples, the Kenyon cells' pixels and the order, the
contents of the network's ``TimedArray`` tables, so each seed has a program of its own
(in the same build directory: the code objects are not compiled again).
:mod:`spikingml.circuits.hebbian_tsne` re-exports :func:`simulate_many`, the contract's
hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brian2 import second

from spikingml.simulation import Program, SynapticEventCounter, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.hebbian_tsne import Params
    from spikingml.result import Result

__all__ = ["PROGRAM", "simulate_many"]


def _build(params: Params, seed: int) -> tuple[Any, Any, Any]:
    """The network of ``params`` and ``seed`` with its run recorded (nothing runs)."""
    from spikingml.circuits import hebbian_tsne as ht

    inputs = ht.prepare_inputs(params, seed)
    network = ht.build_network(params, inputs)
    counter = SynapticEventCounter(network.net)
    # no report: the compiled program would read the process clock at every step
    network.net.run(ht._duration(params, inputs), report=None, report_period=10 * second)
    return network, counter, inputs


def _run_args(built: tuple[Any, Any, Any], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' values."""
    from spikingml.circuits import hebbian_tsne as ht

    network, _, _ = built
    return constant_args(network.net, ht._constants(params))


def _collect(built: tuple[Any, Any, Any], params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import hebbian_tsne as ht

    network, counter, inputs = built
    return ht._collect(params, inputs, network, counter, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.hebbian_tsne", PROGRAM)
