"""Compiled re-runs of the WTA-EM circuit: other values of its run-time fields.

Not the circuit: how its ``cpp_standalone`` program is built once per structure and
seed and run again (:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``) reaches the program as a run argument: the shared
constants of :func:`~spikingml.circuits.wta_em.build_network` and the initial weights
of the learning blocks, which ``stdp_c``, ``stdp_cap``, ``init_boost``, ``input_rate``
and ``tau_epsp`` shape. A seed draws the data, the training order and Brian2's own
random numbers (the Poisson inputs, the WTA's sampling), so each seed is a program of
its own (in the same build directory: nothing is compiled again but ``main.cpp``).
:mod:`spikingml.circuits.wta_em` re-exports :func:`simulate_many`, the contract's hook.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.wta_em import Inputs, Network, Params
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> tuple[Network, Inputs]:
    """The network of ``params`` and ``seed`` with its three runs recorded (nothing runs)."""
    from spikingml.circuits import wta_em

    inputs = wta_em.prepare_inputs(params, seed)
    network = wta_em.build_network(params, inputs)
    # no report: the compiled program would read the process clock before every object
    # of every step, and it is shared by runs that do and do not report
    wta_em._run_phases(network, params, report=None)
    return network, inputs


def _run_args(built: tuple[Network, Inputs], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' values: the shared constants and the initial weights."""
    from spikingml.circuits import wta_em

    network, inputs = built
    args = constant_args(network.net, wta_em._constants(params))
    args[network.feed.w] = wta_em._with_start_weights(inputs, params).feed_w0
    return args


def _collect(built: tuple[Network, Inputs], params: Params, seed: int, t_wall: float) -> Result:
    """The finished run as a :class:`~spikingml.result.Result` (wall time from ``t_wall``)."""
    from spikingml.circuits import wta_em

    network, inputs = built
    recorded = wta_em._read_out(network)
    inputs = wta_em._with_start_weights(inputs, params)
    wall = time.perf_counter() - t_wall
    return wta_em._collect(params, seed, "cpp_standalone", inputs, recorded, wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.wta_em", PROGRAM)
