"""Compiled re-runs of the actor-critic: other values of its run-time fields.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``) is a shared constant of the groups of
:func:`~spikingml.circuits.actor_critic.build_network` (or only used by the twin), so
the program built for a structure runs with any value of them. The seed is not a run
argument: Brian2 draws the place cells' spikes, the actor's noise and the start
positions on the device, from the seed compiled into the program, so each seed has a
program of its own (in the same build directory: only its ``main`` is compiled again).
:mod:`spikingml.circuits.actor_critic` re-exports :func:`simulate_many`, the contract's
hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, SynapticEventCounter, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.actor_critic import Params
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> tuple[Any, SynapticEventCounter, float]:
    """The network of ``params`` with both phases of the protocol recorded (nothing runs).

    Returns the network, its synaptic-event counter and the time of the switch to the
    control (s).
    """
    from spikingml.circuits import actor_critic as ac

    maze = params.maze()
    network = ac.build_network(params, maze, seed)
    counter = SynapticEventCounter(network.net)
    t_switch, _ = ac._run_protocol(network, params, maze, seed, "cpp_standalone", False)
    return network, counter, t_switch


def _run_args(
    built: tuple[Any, SynapticEventCounter, float], params: Params, seed: int
) -> dict[Any, Any]:
    """The run-time fields' values: every shared constant of the network."""
    from spikingml.circuits import actor_critic as ac

    network, _, _ = built
    args: dict[Any, Any] = {}
    for objects, values in ac._constant_sets(network, params, params.maze()):
        args.update(constant_args(objects, values))
    return args


def _collect(
    built: tuple[Any, SynapticEventCounter, float], params: Params, seed: int, t_wall: float
) -> Result:
    from spikingml.circuits import actor_critic as ac

    network, counter, t_switch = built
    return ac._result(network, counter, params, seed, "cpp_standalone", t_switch, t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.actor_critic", PROGRAM)
