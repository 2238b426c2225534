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

from typing import TYPE_CHECKING, Any

from spikingml.simulation import Program, constant_args, simulate_many_hook

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


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.bayesian_neuron", PROGRAM)
