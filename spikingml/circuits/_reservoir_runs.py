"""Compiled re-runs of the reservoir circuit: other values of its run-time fields.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``) reaches the network of
:func:`~spikingml.circuits.reservoir.build_network` only as a shared constant of the
column, as a per-neuron or per-synapse initial value (refractory periods, adaptation
jumps, the fast copy's input time constant ``tau_e``, the static copy's release), or is
used only by the twins and the readout, so the program built for a structure runs with
any value of them: all are run arguments. The seed is not a run argument: it draws the
wiring and the input spikes, so each seed has a program of its own (in the same build
directory). :mod:`spikingml.circuits.reservoir` re-exports :func:`simulate_many`, the
contract's hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, SynapticEventCounter, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.reservoir import Inputs, Network, Params
    from spikingml.result import Result

__all__ = ["simulate_many"]

Built = tuple["Network", SynapticEventCounter, "Inputs"]


def _build(params: Params, seed: int) -> Built:
    """The network of ``params`` with its run recorded (nothing runs)."""
    from spikingml.circuits import reservoir

    inputs = reservoir.prepare_inputs(params, seed)
    network = reservoir.build_network(params, inputs)
    counter = SynapticEventCounter(network.net)
    reservoir._run_protocol(network, params)
    return network, counter, inputs


def _run_args(built: Built, params: Params, seed: int) -> dict[Any, Any]:
    """Every value that run-time fields set (shared constants, per-neuron and per-synapse
    initial values)."""
    from spikingml.circuits import reservoir

    network, _, inputs = built
    return reservoir._run_time_values(network, params, inputs)


def _collect(built: Built, params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import reservoir

    network, counter, inputs = built
    return reservoir._read(network, counter, params, inputs, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.reservoir", PROGRAM)
