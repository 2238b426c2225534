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

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, constant_args
from spikingml.simulation import simulate_many as many

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


def simulate_many(
    runs: Iterable[tuple[Params, int]],
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
    fresh: bool = False,
) -> Iterator[Result]:
    """Simulate ``(params, seed)`` pairs, compiling one program per structure and seed.

    Under ``cpp_standalone`` consecutive pairs with the same seed that differ only in
    their run-time fields run on one program, built and compiled once (in a persistent
    build directory: a later call with the same structure compiles nothing) and run with
    each pair's run arguments, ``jobs`` at a time. Each result equals ``simulate(params,
    seed, "cpp_standalone")`` (the conformance test checks against a program compiled
    for the pair's own values). Under ``runtime`` the pairs are simulated one after the
    other.

    Parameters
    ----------
    runs : iterable of (Params, int)
        The parameters and seed of each run, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of each simulation on stderr (``runtime`` only).
    jobs : int, optional
        ``cpp_standalone``: programs running at once (default: the cores this process may
        use).
    fresh : bool
        ``cpp_standalone``: compile a program for each run's own values (for tests).

    Yields
    ------
    Result
        One per run, in order, each yielded as soon as it is read. ``wall_seconds`` of
        the first of a program includes building and compiling it.

    Notes
    -----
    The ``cpp_standalone`` device stays selected while the generator is suspended
    (between two results); run no other Brian2 simulation in this process until it is
    exhausted or closed.
    """
    from spikingml.circuits import three_factor_synapse as tfs

    runs = [(tfs._check_params(params), seed) for params, seed in runs]
    yield from many(tfs.NAME, PROGRAM, tfs.simulate, runs, device, progress, jobs, fresh)
