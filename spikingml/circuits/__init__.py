"""Spiking circuits, one module per ML idea, all following the circuit contract.

Each module defines ``NAME``, ``DESCRIPTION``, ``METRICS`` (name -> documentation),
``Params`` (a frozen, self-validating dataclass with a ``quick()`` preset), and the
functions ``simulate(params, seed, device, progress) -> Result``, ``twin(params, seed)``,
``compare(result, twin_output) -> dict`` and ``figures(result, twin_output, outdir)``.
:data:`REGISTRY` maps the command-line name of every circuit to its module path.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from spikingml.errors import ValidationError

__all__ = ["REGISTRY", "get_circuit", "names"]

#: Command-line name -> module implementing the circuit contract.
REGISTRY: dict[str, str] = {
    "actor-critic": "spikingml.circuits.actor_critic",
    "bayesian-neuron": "spikingml.circuits.bayesian_neuron",
    "rescorla-wagner": "spikingml.circuits.rescorla_wagner",
    "td-conditioning": "spikingml.circuits.td_conditioning",
    "tempotron": "spikingml.circuits.tempotron",
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
