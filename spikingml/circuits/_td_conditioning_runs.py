"""Compiled re-runs of the TD-conditioning circuit: other seeds, other run-time values.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). A seed's only random draw, the initial
phases (:func:`~spikingml.circuits.td_conditioning.initial_phases`), and every run-time
field (``Params.runtime_fields()``, the shared constants of
:func:`~spikingml.circuits.td_conditioning.build_network`) are run arguments, so one
program serves every seed and every value of those fields.
:mod:`spikingml.circuits.td_conditioning` re-exports :func:`simulate_many` and
:func:`simulate_seeds`, the contract's hooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, check_seed, constant_args
from spikingml.simulation import simulate_many as many

if TYPE_CHECKING:
    from spikingml.circuits.td_conditioning import Params
    from spikingml.result import Result

__all__ = ["simulate_many", "simulate_seeds"]


def _build(params: Params, seed: int) -> tuple[Any, Any]:
    """The network of ``params`` with its protocol recorded (nothing runs)."""
    from spikingml.circuits import td_conditioning as td

    sched = td.schedule(params)
    network = td.build_network(params, sched, td.initial_phases(params, seed))
    td._run_protocol(network, sched, "cpp_standalone", progress=False)
    return network, sched


def _run_args(built: tuple[Any, Any], params: Params, seed: int) -> dict[Any, Any]:
    """The seed's initial phases and the run-time fields' values."""
    from spikingml.circuits import td_conditioning as td

    network, _ = built
    args = constant_args(network.net, td._constants(params))
    args[network.neurons.phi] = td.initial_phases(params, seed)
    return args


def _collect(built: tuple[Any, Any], params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import td_conditioning as td

    network, sched = built
    return td._collect(params, sched, network, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(build=_build, run_args=_run_args, collect=_collect, seed_is_run_arg=True)


def simulate_many(
    runs: Iterable[tuple[Params, int]],
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
    fresh: bool = False,
) -> Iterator[Result]:
    """Simulate ``(params, seed)`` pairs, compiling one program per structure.

    Under ``cpp_standalone`` the pairs that differ only in their seeds and run-time
    fields run on one program, built and compiled once (in a persistent build directory:
    a later call with the same structure compiles nothing) and run with each pair's
    run arguments, ``jobs`` at a time. Each result equals ``simulate(params, seed,
    "cpp_standalone")`` spike for spike (the conformance test checks against a program
    compiled for the pair's own values). Under ``runtime`` the pairs are simulated one
    after the other.

    Parameters
    ----------
    runs : iterable of (Params, int)
        The parameters and seed of each run, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of each simulation on stderr.
    jobs : int, optional
        ``cpp_standalone``: programs running at once (default: the cores this process may
        use).
    fresh : bool
        ``cpp_standalone``: compile a program for each run's own values (for tests).

    Yields
    ------
    Result
        One per run, in order, each yielded as soon as it is read. ``wall_seconds`` of
        the first of a structure includes building and compiling its program.

    Notes
    -----
    The ``cpp_standalone`` device stays selected while the generator is suspended
    (between two results); run no other Brian2 simulation in this process until it is
    exhausted or closed.
    """
    from spikingml.circuits import td_conditioning as td

    runs = [(td._check_params(params), seed) for params, seed in runs]
    yield from many(td.NAME, PROGRAM, td.simulate, runs, device, progress, jobs, fresh)


def simulate_seeds(
    params: Params | None = None,
    seeds: Iterable[int] = (0,),
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
) -> Iterator[Result]:
    """Run the protocol once per seed, compiling the ``cpp_standalone`` program once.

    :func:`simulate_many` with the same ``params`` for every seed: the seeds' initial
    phases are run arguments of one program.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted), the same for every seed.
    seeds : iterable of int
        Seeds, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of each simulation on stderr.
    jobs : int, optional
        ``cpp_standalone``: programs running at once after the first seed (default: the
        cores this process may use).

    Yields
    ------
    Result
        One per seed, in the order of ``seeds``.
    """
    from spikingml.circuits import td_conditioning as td

    params = td._check_params(params)
    runs = [(params, check_seed(seed)) for seed in seeds]
    yield from simulate_many(runs, device=device, progress=progress, jobs=jobs)
