"""Compiled runs of the neural-sampling circuit: one program per structure and seed.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``: the models' and the RBM's parameters, the clamp strength)
reaches the network only through three arrays, the biases, clamping inputs and weights
(:func:`~spikingml.circuits.neural_sampling.run_time_values`), which are run arguments:
the program built for a structure and a seed runs any value of those fields. A seed is
not a run argument: Brian2 writes its seed of ``rand()`` into ``main.cpp``, so another
seed compiles ``main.cpp`` again (in the same build directory, not the code objects).
:mod:`spikingml.circuits.neural_sampling` re-exports :func:`simulate_many`, the
contract's hook.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.neural_sampling import Params, Task
    from spikingml.result import Result

__all__ = ["PROGRAM", "simulate_many"]

#: The tasks made last by :func:`_task`, by their parameters and seed (at most
#: :data:`_KEPT`; a task is a few hundred kB).
_TASKS: OrderedDict[str, Task] = OrderedDict()
_KEPT = 16


def _task(params: Params, seed: int) -> Task:
    """``prepare_inputs(params, seed)``, kept for the run's arguments and its reading."""
    from spikingml.circuits import neural_sampling as ns

    key = json.dumps([params.to_dict(), seed], sort_keys=True, default=str)
    if key in _TASKS:
        _TASKS.move_to_end(key)
    else:
        _TASKS[key] = ns.prepare_inputs(params, seed)
        while len(_TASKS) > _KEPT:
            _TASKS.popitem(last=False)
    return _TASKS[key]


def _build(params: Params, seed: int) -> Any:
    """The network of ``params`` and ``seed`` with its run recorded (nothing runs)."""
    from spikingml.circuits import neural_sampling as ns

    network = ns.build_network(params, _task(params, seed))
    ns._run(network, params, "cpp_standalone", progress=False)
    return network


def _run_args(network: Any, params: Params, seed: int) -> dict[Any, Any]:
    """The biases, clamping inputs and weights of ``params`` and ``seed``."""
    from spikingml.circuits import neural_sampling as ns

    return ns.run_time_values(network, params, _task(params, seed))


def _collect(network: Any, params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import neural_sampling as ns

    return ns._collect(params, _task(params, seed), network, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.neural_sampling", PROGRAM)
