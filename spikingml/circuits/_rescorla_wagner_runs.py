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
from typing import TYPE_CHECKING, Any

from brian2 import Hz

from spikingml.simulation import Program, constant_args, simulate_many_hook

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


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.rescorla_wagner", PROGRAM)
