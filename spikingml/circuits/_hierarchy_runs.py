"""Compiled re-runs of the hierarchy circuit: other run-time values, one program.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``: the rates, gains, time constants, learning rates,
``kappa`` and ``s2``, shared constants of the groups of
:func:`~spikingml.circuits.hierarchy.build_network`, and the twin's ``backprop_epochs``)
is a run argument, so the program built for a structure and a seed runs with any value
of them. A seed is not: it draws the split and the order of the digits, the contents of
the network's ``TimedArray`` schedules, so each seed has a program of its own (in the
same build directory: the code objects are not compiled again).
:mod:`spikingml.circuits.hierarchy` re-exports :func:`simulate_many`, the contract's
hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brian2 import second

from spikingml.simulation import Program, SynapticEventCounter, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.hierarchy import Params
    from spikingml.result import Result

__all__ = ["PROGRAM", "simulate_many"]


def _build(params: Params, seed: int) -> tuple[Any, Any, Any]:
    """The network of ``params`` and ``seed`` with its run recorded (nothing runs)."""
    from spikingml.circuits import hierarchy as hc

    inputs = hc.prepare_inputs(params, seed)
    network = hc.build_network(params, inputs)
    counter = SynapticEventCounter(network.net)
    # no report: the compiled program would read the process clock at every step
    network.net.run(hc._duration(params, inputs), report=None, report_period=10 * second)
    return network, counter, inputs


def _run_args(built: tuple[Any, Any, Any], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' values (``backprop_epochs`` is not in the network)."""
    from spikingml.circuits import hierarchy as hc

    network, _, _ = built
    return constant_args(network.net, hc._constants(params))


def _collect(built: tuple[Any, Any, Any], params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import hierarchy as hc

    network, counter, inputs = built
    return hc._collect(params, inputs, network, counter, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.hierarchy", PROGRAM)
