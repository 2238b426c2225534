"""Compiled re-runs of the stochastic-synapses circuit: other learning rates.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Its run-time field, ``learning_rate``, is
a shared constant of the synapses of
:func:`~spikingml.circuits.stochastic_synapses.build_network`, so the program built for a
structure runs with any learning rate. The seed is not a run argument: it draws the
examples and their order in Python (the input spikes, the schedules) and the releases
on the device, so each seed has a program of its own (in the same build directory).
:mod:`spikingml.circuits.stochastic_synapses` re-exports :func:`simulate_many`, the
contract's hook.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, SynapticEventCounter, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.stochastic_synapses import Inputs, Network, Params
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> tuple[Network, SynapticEventCounter, Inputs]:
    """The network of ``params`` with its run recorded (nothing runs)."""
    from spikingml.circuits import stochastic_synapses as ss

    inputs = ss.prepare_inputs(params, seed)
    ss._silence_order_warning()
    network = ss.build_network(params, inputs)
    counter = SynapticEventCounter(network.net)
    ss._run_protocol(network, params, inputs)
    return network, counter, inputs


def _run_args(
    built: tuple[Network, SynapticEventCounter, Inputs], params: Params, seed: int
) -> dict[Any, Any]:
    """The learning rate, the synapses' shared constant."""
    network, _, _ = built
    return constant_args(network.net, params.rule().shared_constants())


def _collect(
    built: tuple[Network, SynapticEventCounter, Inputs], params: Params, seed: int, t_wall: float
) -> Result:
    from spikingml.circuits import stochastic_synapses as ss

    network, counter, inputs = built
    recorded = ss._read(network, len(inputs.windows), counter)
    wall = time.perf_counter() - t_wall
    return ss._collect(params, seed, "cpp_standalone", inputs, recorded, wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.stochastic_synapses", PROGRAM)
