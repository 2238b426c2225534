"""The tempotron's standalone machinery: one kept program per parameter set.

Not the circuit (that is :func:`spikingml.circuits.tempotron.build_network`): what lets
every seed of a parameter set reuse one compiled ``cpp_standalone`` program.

- :func:`build_key` names the kept build directory after the parameters that shape the
  generated code (a change of the others only changes values the program reads);
- :class:`NamedClock` keeps the generated ``main.cpp`` the same from one process to the
  next, so ``make`` finds nothing to recompile;
- :func:`device_context` selects the device, and under ``cpp_standalone`` the kept
  directory, with Brian2's seed fixed: the network draws no random numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zlib
from collections.abc import Iterator

import brian2 as b2

from spikingml.params import CircuitParams
from spikingml.simulation import brian_device, standalone_build_directory

__all__ = ["VALUES_ONLY", "NamedClock", "build_key", "device_context"]

#: Parameters that do not shape the generated code: initial values, values the program
#: reads, the twins' settings and the run lengths (``n_epochs``).
VALUES_ONLY = (
    "learning_rate",
    "momentum",
    "lr_decay_epochs",
    "w_init_std",
    "jitter",
    "average_epochs",
    "criterion",
    "bin_width",
    "n_epochs",
)


class NamedClock(b2.Clock):
    """A Brian2 clock hashed by its name (the same in every process).

    Brian2 gathers a network's clocks in a set and writes their initialisation into the
    standalone program in the set's order; with clocks hashed by address that order (and
    so ``main.cpp``) changed from one process to the next, and the kept program was
    recompiled (~10 s) about every other run. (Brian2 hashes the clock before its
    ``__init__`` has named it: 0 then, for its own weak references.)
    """

    # Brian2 routes attribute writes to its variables unless the class itself defines
    # the attribute: the property of Clock, here too
    dt = b2.Clock.dt

    def __hash__(self) -> int:
        return zlib.crc32(self.__dict__.get("_name", "").encode())


def build_key(name: str, params: CircuitParams) -> str:
    """Name of the persistent standalone build directory: the parameters in its code.

    ``name`` (the circuit's) followed by a hash of every parameter but
    :data:`VALUES_ONLY`.
    """
    shaping = {k: v for k, v in params.to_dict().items() if k not in VALUES_ONLY}
    digest = hashlib.sha1(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()
    return f"{name}-{digest[:12]}"


@contextlib.contextmanager
def device_context(device: str, key: str) -> Iterator[str | None]:
    """Brian2's ``device`` for a ``with`` block, built on demand (``build_on_run=False``).

    Yields the kept build directory of ``key`` under ``cpp_standalone``
    (:func:`spikingml.simulation.standalone_build_directory`), ``None`` otherwise.
    """
    with contextlib.ExitStack() as stack:
        directory = None
        if device == "cpp_standalone":
            directory = stack.enter_context(standalone_build_directory(key))
        # the network draws no random numbers (the patterns and initial weights come from
        # the seed through NumPy): Brian2's own seed is fixed, so the generated program
        # is the same for every seed and a warm build directory is not recompiled
        stack.enter_context(brian_device(device, 0, directory, build_on_run=False))
        yield directory
