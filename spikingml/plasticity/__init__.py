"""Reusable learning rules as Brian2 equation specifications.

A rule is described once, as a frozen dataclass of its parameters, and turned into
Brian2 model and event code by one builder method, so circuits compose rules without
copying equations. A rule never imports a circuit.
"""

from spikingml.plasticity.hebbian import (
    AntiHebbianDecorrelation,
    NonlinearPCA,
    VoltageAntiHebbian,
)
from spikingml.plasticity.homeostasis import HomeostaticThreshold

__all__ = [
    "AntiHebbianDecorrelation",
    "HomeostaticThreshold",
    "NonlinearPCA",
    "VoltageAntiHebbian",
]
