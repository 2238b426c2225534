"""Compiled re-runs of the three-factor-synapse circuit: other run-time values.

Not the circuit: how its ``cpp_standalone`` program is built once per structure and run
again (:func:`spikingml.simulation.compiled_runs`). Every run-time field
(``Params.runtime_fields()``) is a run argument: the rule's constants, shared constants
of the plastic synapses (:func:`~spikingml.circuits.three_factor_synapse.build_network`),
and the initial weight ``w0``, the value of ``w`` itself. A seed's spike trains are
replayed by ``SpikeGeneratorGroup`` objects whose sizes depend on the seed, so they are
not run arguments: each seed is a program of its own (built in the same persistent
build directory, where only what its spike trains change is compiled again).
:mod:`spikingml.circuits.three_factor_synapse` re-exports :func:`simulate_many`, the
contract's hook.
"""

# TEMPLATE: a circuit with run-time fields splits the cpp_standalone path of simulate()
# into a Program (build: the network with its run recorded; run_args: the values that
# turn the program of the structure into the program of these parameters; collect: read
# a finished run) and defines simulate_many with spikingml.simulation.simulate_many.
# Copy this module as circuits/_<module>_runs.py and re-export simulate_many.

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.three_factor_synapse import Network, Params
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> Network:
    """The network of ``params`` on the spike trains of ``seed``, its run recorded."""
    from spikingml.circuits import three_factor_synapse as tfs

    network = tfs.build_network(params, tfs.stimulus(params, seed))
    network.net.run(params.duration)  # recorded only: compiled_runs builds and runs
    return network


def _run_args(network: Network, params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' values: the rule's shared constants and the initial weight."""
    from spikingml.circuits import three_factor_synapse as tfs

    args = constant_args(network.net, tfs._constants(params))
    args[network.plastic.w] = params.w0
    return args


def _collect(network: Network, params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import three_factor_synapse as tfs

    return tfs._collect(params, seed, "cpp_standalone", network, t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs` (a seed's spike
#: trains are part of its program: ``seed_is_run_arg`` is false).
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=False)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.three_factor_synapse", PROGRAM)
