"""Compiled re-runs of the Bayesian-neuron circuit: other values of its run-time field.

Not the circuit: how its ``cpp_standalone`` program is built once per structure and run
again (:func:`spikingml.simulation.compiled_runs`). The run-time field ``eta``
(``Params.runtime_fields()``), a shared constant of the output group
(:func:`~spikingml.circuits.bayesian_neuron.build_network`), is a run argument. A seed's
hidden chain and input spikes are replayed by a ``SpikeGeneratorGroup`` whose size
depends on the seed, so they are not run arguments: each seed is a program of its own
(built in the same persistent build directory, where only what its spikes change is
compiled again). :mod:`spikingml.circuits.bayesian_neuron` re-exports
:func:`simulate_many`, the contract's hook.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, constant_args
from spikingml.simulation import simulate_many as many

if TYPE_CHECKING:
    from spikingml.circuits.bayesian_neuron import Params
    from spikingml.result import Result

__all__ = ["simulate_many"]


def _build(params: Params, seed: int) -> tuple[Any, ...]:
    """The network of ``params`` on the inputs of ``seed``, its run recorded."""
    from spikingml.analysis import hmm
    from spikingml.circuits import bayesian_neuron as bn

    stim = bn.stimulus(params, seed)
    w, theta = hmm.input_weights(stim.q_on, stim.q_off)
    network = bn.build_network(params, stim, w, theta)
    bn._run_protocol(network, params, "cpp_standalone", progress=False)
    return network, stim, w, theta


def _run_args(built: tuple[Any, ...], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time field's value (the seed's inputs are the program's own)."""
    from spikingml.circuits import bayesian_neuron as bn

    network = built[0]
    return constant_args(network.net, bn._constants(params))


def _collect(built: tuple[Any, ...], params: Params, seed: int, t_wall: float) -> Result:
    from spikingml.circuits import bayesian_neuron as bn

    network, stim, w, theta = built
    return bn._collect(params, stim, w, theta, network, seed, "cpp_standalone", t_wall)


#: The circuit's program for :func:`spikingml.simulation.compiled_runs` (a seed's inputs
#: are part of its program: ``seed_is_run_arg`` is false).
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
    ``eta`` run on one program, built and compiled once (in a persistent build
    directory: a later call with the same structure compiles nothing) and run with each
    pair's ``eta``, ``jobs`` at a time. Each result equals ``simulate(params, seed,
    "cpp_standalone")`` spike for spike (the conformance test checks against a program
    compiled for the pair's own value). Under ``runtime`` the pairs are simulated one
    after the other.

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
    from spikingml.circuits import bayesian_neuron as bn

    runs = [(bn._check_params(params), seed) for params, seed in runs]
    yield from many(bn.NAME, PROGRAM, bn.simulate, runs, device, progress, jobs, fresh)
