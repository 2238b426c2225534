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

from spikingml.simulation import Program, check_seed, constant_args, simulate_many_hook

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


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.td_conditioning", PROGRAM)


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
