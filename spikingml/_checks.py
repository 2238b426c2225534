"""Checks of seeds, seed ranges and device names that need no simulator.

They live apart from :mod:`spikingml.simulation` (which imports Brian2, about two seconds)
so that :mod:`spikingml.sweep` can check its arguments and start its worker processes
before Brian2 is imported; :mod:`spikingml.simulation` re-exports them.
"""

from __future__ import annotations

import re

import numpy as np

from spikingml.errors import ValidationError

#: Brian2 devices a circuit can run on.
DEVICES = ("runtime", "cpp_standalone")

#: Largest seed: Brian2's ``seed()`` and NumPy's legacy generators take 32-bit seeds.
MAX_SEED = 2**32 - 1

#: Most seeds one range text may name.
MAX_SEEDS = 100_000


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


def parse_seeds(text: str, name: str = "--seeds", max_seeds: int = MAX_SEEDS) -> list[int]:
    """Parse a seed range: ``7``, ``0-9`` (inclusive) or ``0,3,5-7``, into sorted seeds.

    Parameters
    ----------
    text : str
        The range as given on the command line.
    name : str
        The argument's name in error messages.
    max_seeds : int
        Most seeds accepted.

    Raises
    ------
    ValidationError
        Naming ``name`` when a part is not a non-negative integer or range.
    """
    seeds: set[int] = set()
    expected = f"seeds like 0-9 or 0,3,5-7 (integers from 0 to {MAX_SEED})"
    if len(str(text)) > 1000:
        raise ValidationError(name, f"{expected}, in at most 1000 characters", text)
    for part in str(text).split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d{1,10})(?:\s*-\s*(\d{1,10}))?", part, re.ASCII)
        if not match:
            raise ValidationError(name, expected, text)
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last > MAX_SEED:
            raise ValidationError(name, expected, text)
        if last < first:
            raise ValidationError(name, f"a range low-high with low <= high ({part})", text)
        if last - first + 1 + len(seeds) > max_seeds:
            raise ValidationError(name, f"at most {max_seeds} seeds", text)
        seeds.update(range(first, last + 1))
    return sorted(seeds)
