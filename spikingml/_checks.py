"""Checks of seeds and device names that need no simulator.

They live apart from :mod:`spikingml.simulation` (which imports Brian2, about two seconds)
so that :mod:`spikingml.sweep` can check its arguments and start its worker processes
before Brian2 is imported; :mod:`spikingml.simulation` re-exports them.
"""

from __future__ import annotations

import numpy as np

from spikingml.errors import ValidationError

#: Brian2 devices a circuit can run on.
DEVICES = ("runtime", "cpp_standalone")

#: Largest seed: Brian2's ``seed()`` and NumPy's legacy generators take 32-bit seeds.
MAX_SEED = 2**32 - 1


def check_device(device: str) -> str:
    """Return ``device`` if it is a supported Brian2 device name, else raise."""
    if device not in DEVICES:
        raise ValidationError("device", f"one of {', '.join(DEVICES)}", device)
    return device


def check_seed(seed: int, name: str = "seed") -> int:
    """Return ``seed`` as an int if it is an integer in [0, MAX_SEED] (not a bool), else raise."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, (int, np.integer))
        or not 0 <= seed <= MAX_SEED
    ):
        raise ValidationError(name, f"an integer from 0 to {MAX_SEED}", seed)
    return int(seed)
