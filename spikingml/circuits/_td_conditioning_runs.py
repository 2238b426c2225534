"""Standalone re-runs of the TD-conditioning circuit over seeds, compiled once.

Not the circuit: the machinery that builds its ``cpp_standalone`` program once (in a
persistent build directory named by :func:`spikingml.simulation.build_key`) and runs it
again for each seed with that seed's initial phases as run arguments. :mod:`spikingml.circuits.
td_conditioning` re-exports :func:`simulate_seeds`, the contract's hook.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import brian2 as b2

from spikingml.simulation import (
    brian_device,
    build_key,
    check_device,
    check_seed,
    remove_run_args_files,
    rerun_standalone,
    standalone_build_directory,
)

if TYPE_CHECKING:
    from spikingml.circuits.td_conditioning import Params
    from spikingml.result import Result

__all__ = ["simulate_seeds"]


def simulate_seeds(
    params: Params | None = None,
    seeds: Iterable[int] = (0,),
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
) -> Iterator[Result]:
    """Run the protocol once per seed, compiling the ``cpp_standalone`` program once.

    Under ``cpp_standalone`` the program is built and compiled for the first seed (in a
    persistent, locked build directory, :func:`spikingml.simulation.
    standalone_build_directory`, so a later call with the same ``params`` compiles
    nothing) and run for the first seed with ``brian2.device.run(run_args=...)``: the
    seed's :func:`~spikingml.circuits.td_conditioning.initial_phases`, its only random
    draw, are passed as new initial values of ``neurons.phi``. The other seeds run the
    same program with their own phases, ``jobs`` at a time, each in its own results
    directory (:func:`spikingml.simulation.rerun_standalone`). Each result equals
    ``simulate(params, seed, "cpp_standalone")``, spike for spike, at a fraction of the
    cost (no code generation, no compilation). Under ``runtime`` the seeds are simply
    simulated one after the other.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted), the same for every seed.
    seeds : iterable of int
        Seeds, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of each simulation on stderr (``runtime`` only).
    jobs : int, optional
        ``cpp_standalone``: programs running at once after the first seed (default: the
        cores this process may use).

    Yields
    ------
    Result
        One per seed, in the order of ``seeds``. ``wall_seconds`` of the first includes
        building and compiling the program; of the others, the time since the previous
        result was yielded (with several programs at once, less than one run takes).
        Results are yielded one at a time, so only one is in memory unless the caller
        keeps them.

    Notes
    -----
    The ``cpp_standalone`` device stays selected while the generator is suspended
    (between two results); run no other Brian2 simulation in this process until it is
    exhausted or closed.
    """
    from spikingml.circuits import td_conditioning as td

    params = td._check_params(params)
    check_device(device)
    seeds = [check_seed(s) for s in seeds]
    if device != "cpp_standalone":
        for seed in seeds:
            yield td.simulate(params, seed=seed, device=device, progress=progress)
        return
    if not seeds:
        return
    sched = td.schedule(params)
    phases = td.initial_phases(params, seeds[0])
    t_wall = time.perf_counter()
    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(
            standalone_build_directory(build_key("td-conditioning", params))
        )
        stack.enter_context(
            brian_device(device, seeds[0], directory=directory, build_on_run=False)
        )
        network = td.build_network(params, sched, phases)
        td._run_protocol(network, sched, device, progress)  # recorded, not run
        b2.device.build(run=False, directory=directory, with_output=False)
        phi = network.neurons.phi
        b2.device.run(run_args={phi: phases}, with_output=False)
        remove_run_args_files()  # or the persistent build directory grows with every run
        yield td._collect(params, sched, network, seeds[0], device, t_wall)
        t_wall = time.perf_counter()
        # the other seeds: the program again, as many at once as there are cores
        runs = ({phi: td.initial_phases(params, seed)} for seed in seeds[1:])
        for k in rerun_standalone(runs, jobs):
            yield td._collect(params, sched, network, seeds[1 + k], device, t_wall)
            t_wall = time.perf_counter()
