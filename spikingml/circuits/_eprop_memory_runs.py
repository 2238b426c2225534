"""Compiled runs of the e-prop memory circuit: both networks, other run-time values, one program.

Not the circuit: how its ``cpp_standalone`` program is built once and run again
(:func:`spikingml.simulation.compiled_runs`). A run of the circuit is two runs of one
program: the LIF + ALIF network and its LIF-only ablation, the same program with every
``beta`` 0. Both, and every value of the run-time fields (``Params.runtime_fields()``:
the rule's shared values, :meth:`~spikingml.plasticity.eprop.EProp.shared_values`, and
the neurons' ``beta``), are run arguments (:meth:`~spikingml.circuits.eprop_memory.
Network.run_args`), so one program serves both networks and every value of those
fields. A seed is not: its trials are input spikes replayed by a
``SpikeGeneratorGroup``, as many as the seed draws, so each seed has a program of its
own (in the same build directory: the code objects are not compiled again).
:mod:`spikingml.circuits.eprop_memory` re-exports :func:`simulate_many`, the contract's
hook.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, check_seed
from spikingml.simulation import simulate_many as many

if TYPE_CHECKING:
    from spikingml.circuits.eprop_memory import Params, Stimulus
    from spikingml.result import Result

__all__ = ["PROGRAM", "simulate_many"]


@dataclasses.dataclass(frozen=True)
class _Half:
    """One of the two program runs of a circuit run: its parameters and network
    (``"alif"``: the circuit, ``"lif"``: the ablation). Its structure is its parameters':
    :func:`~spikingml.simulation.compiled_runs` puts both halves on one program."""

    params: Params
    variant: str

    def structure(self) -> Params:
        """The parameters' structure (the program's shape)."""
        return self.params.structure()


@dataclasses.dataclass(frozen=True)
class _Recorded:
    """What one program run recorded (:func:`~spikingml.circuits.eprop_memory._read`)."""

    values: dict[str, Any]
    stim: Stimulus
    wall_seconds: float


def _build(params: Params | _Half, seed: int) -> tuple[Any, Any]:
    """The network of ``params`` (a structure, or a half's own values when fresh) with
    its run recorded (nothing runs)."""
    from spikingml.circuits import eprop_memory as em

    params = params.params if isinstance(params, _Half) else params
    stim = em.stimulus(params, seed)
    network = em.build_network(params, stim, em.initial_weights(params, seed))
    # no report: the compiled program would read the process clock at every step
    network.net.run(em._duration(params), report=None)
    return network, stim


def _run_args(built: tuple[Any, Any], half: _Half, seed: int) -> dict[Any, Any]:
    """The half's network and the run-time fields' values."""
    network, _ = built
    return network.run_args(half.params, half.variant)


def _collect(built: tuple[Any, Any], half: _Half, seed: int, t_wall: float) -> _Recorded:
    from spikingml.circuits import eprop_memory as em

    network, stim = built
    values = em._read(network, half.variant)
    return _Recorded(values, stim, time.perf_counter() - t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs` (its runs are
#: halves of circuit runs: :func:`simulate_many` pairs them).
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
    their run-time fields run on one program, built and compiled once (in the persistent
    build directory of their structure: a later call compiles nothing) and run twice per
    pair, once per network (:data:`~spikingml.circuits.eprop_memory.VARIANTS`), with the
    pair's run arguments, ``jobs`` program runs at a time. Each result equals a program
    compiled for the pair's own values (the conformance test checks). Under ``runtime``
    the pairs are simulated one after the other.

    Parameters
    ----------
    runs : iterable of (Params, int)
        The parameters and seed of each run, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of each simulation on stderr.
    jobs : int, optional
        ``cpp_standalone``: program runs at once (default: the cores this process may
        use).
    fresh : bool
        ``cpp_standalone``: compile a program for each run's own values (for tests).

    Yields
    ------
    Result
        One per run, in order, each yielded as soon as both its networks are read.
        ``wall_seconds`` of the first run of a program includes building and compiling
        it.

    Notes
    -----
    The ``cpp_standalone`` device stays selected while the generator is suspended
    (between two results); run no other Brian2 simulation in this process until it is
    exhausted or closed.
    """
    from spikingml.circuits import eprop_memory as em

    runs = [(em._check_params(params), check_seed(seed)) for params, seed in runs]
    if device != "cpp_standalone":
        yield from many(em.NAME, PROGRAM, em.simulate, runs, device, progress, jobs, fresh)
        return
    halves = [(_Half(params, v), seed) for params, seed in runs for v in em.VARIANTS]
    parts = many(em.NAME, PROGRAM, em.simulate, halves, device, progress, jobs, fresh)
    for params, seed in runs:
        values: dict[str, Any] = {}
        wall = 0.0
        for _ in em.VARIANTS:
            part = next(parts)
            values.update(part.values)
            wall += part.wall_seconds
        yield em._collect(params, seed, device, part.stim, values, wall)
