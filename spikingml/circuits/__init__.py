"""Spiking circuits, one module per ML idea, all following the circuit contract.

What a circuit module must and may define is declared in
:mod:`spikingml.circuits.contract` (``NAME``, ``DESCRIPTION``, ``METRICS``, ``Params``
with a ``quick()`` preset, ``simulate``, ``twin``, ``compare``, ``figures``; optional
``DEFAULT_DEVICE``, ``simulate_seeds``, ``raster_options`` ...), and
``tests/test_contract.py`` checks every registered circuit against it. A new circuit
starts from :mod:`spikingml.circuits.three_factor_synapse`. :data:`REGISTRY` maps the command-line
name of every circuit to its module path; :func:`spikingml.pipeline.run` runs one as
``spikingml run`` does.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

from spikingml.errors import ValidationError

__all__ = ["REGISTRY", "get_circuit", "names", "reuses_compiled", "simulate_seeds"]

#: Command-line name -> module implementing the circuit contract.
REGISTRY: dict[str, str] = {
    "actor-critic": "spikingml.circuits.actor_critic",
    "attractor": "spikingml.circuits.attractor",
    "bayesian-neuron": "spikingml.circuits.bayesian_neuron",
    "eprop-memory": "spikingml.circuits.eprop_memory",
    "hebbian-tsne": "spikingml.circuits.hebbian_tsne",
    "hierarchy": "spikingml.circuits.hierarchy",
    "neural-sampling": "spikingml.circuits.neural_sampling",
    "rescorla-wagner": "spikingml.circuits.rescorla_wagner",
    "reservoir": "spikingml.circuits.reservoir",
    "td-conditioning": "spikingml.circuits.td_conditioning",
    "stochastic-synapses": "spikingml.circuits.stochastic_synapses",
    "tempotron": "spikingml.circuits.tempotron",
    "three-factor-synapse": "spikingml.circuits.three_factor_synapse",
    "v1-ica": "spikingml.circuits.v1_ica",
    "wta-em": "spikingml.circuits.wta_em",
}


def names() -> list[str]:
    """Registered circuit names, sorted."""
    return sorted(REGISTRY)


def get_circuit(name: str) -> ModuleType:
    """Import and return the module of the circuit registered as ``name``.

    Raises
    ------
    ValidationError
        If no circuit has that name (the message suggests the closest names).
    """
    if name not in REGISTRY:
        close = difflib.get_close_matches(name, REGISTRY, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValidationError("circuit", f"one of {', '.join(names())}{hint}", name)
    return importlib.import_module(REGISTRY[name])


def reuses_compiled(circuit: str | ModuleType, device: str) -> bool:
    """Whether :func:`simulate_seeds` compiles ``circuit`` once for all seeds on ``device``."""
    from spikingml.pipeline import load

    return load(circuit).reuses_compiled(device)


def simulate_seeds(
    circuit: str | ModuleType,
    params: Any = None,
    seeds: Iterable[int] = (0,),
    device: str | None = None,
    progress: bool = True,
) -> Iterator[Any]:
    """Simulate ``circuit`` once per seed, compiling once where the circuit can.

    The simulations alone (no twin, no outputs): :func:`spikingml.pipeline.simulations`.

    Parameters
    ----------
    circuit : str or module
        A registered name (``"td-conditioning"``) or a circuit module.
    params : Params, optional
        The circuit's parameters (its default preset if omitted), the same for all seeds.
    seeds : iterable of int
        Seeds, in the order of the results.
    device : {"runtime", "cpp_standalone"}, optional
        Brian2 device (default: the circuit's ``DEFAULT_DEVICE``, else ``runtime``).
    progress : bool
        Show progress of each simulation on stderr.

    Yields
    ------
    Result
        One per seed, equal (spike for spike) to ``simulate(params, seed, device)``.
        Under ``cpp_standalone``, circuits with a ``simulate_seeds`` hook build and
        compile their program for the first seed only and run it again for the others
        (:func:`reuses_compiled`); the others run ``simulate`` once per seed.

    Examples
    --------
    >>> from spikingml.circuits import simulate_seeds
    >>> for result in simulate_seeds("td-conditioning", seeds=range(10),
    ...                              device="cpp_standalone"):  # doctest: +SKIP
    ...     print(result.seed, result.wall_seconds)
    """
    from spikingml.pipeline import simulations

    yield from simulations(circuit, params, seeds, device, progress)
