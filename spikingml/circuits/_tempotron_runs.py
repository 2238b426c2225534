"""The tempotron's standalone machinery: one kept program per structure, run again.

Not the circuit (that is :func:`spikingml.circuits.tempotron.build_network`): what lets
one compiled ``cpp_standalone`` program serve every value of the run-time fields
(``Params.runtime_fields()``) and every seed of a structure.

- :data:`PROGRAM` builds the program of a structure and seed
  (:func:`spikingml.simulation.compiled_runs`: in the persistent build directory of the
  parameters' structure) and runs it with the run-time fields as run arguments: the
  shared constants of :func:`~spikingml.circuits.tempotron.build_network`, the
  decisions' rule values (``beta`` from ``average_epochs``) and the initial weights
  (``w_init_std``). A seed's patterns shape the wiring (delays, recorded copies), so
  each seed builds its program again, in the same directory: the generated code is the
  same, and nothing is compiled again. The programs of other ``n_epochs`` and
  ``jitter`` values (structural: they change the protocol's runs and the wiring) share
  that directory too, and compile only ``main.cpp``.
- :class:`NamedClock` keeps the generated ``main.cpp`` the same from one process to the
  next, so ``make`` finds nothing to recompile.

:mod:`spikingml.circuits.tempotron` re-exports :func:`simulate_many`, the contract's hook.
"""

from __future__ import annotations

import time
import zlib
from typing import TYPE_CHECKING, Any

import brian2 as b2

from spikingml.errors import ValidationError
from spikingml.simulation import Program, constant_args, simulate_many_hook

if TYPE_CHECKING:
    from spikingml.circuits.tempotron import Inputs, Network, Params
    from spikingml.result import Result

__all__ = ["NamedClock", "simulate_many"]


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


def _fix_brian_seed() -> None:
    """Give the program Brian2's seed 0 instead of the run's.

    The network draws no random numbers (the patterns and the initial weights come from
    the seed through NumPy), and the seed is written into ``main.cpp``: with a fixed one
    the generated program is the same for every seed and a warm build directory is not
    recompiled. Where Brian2's device keeps no ``main_queue`` the seed is left alone
    (``main.cpp`` is then compiled again for a new seed; the results are the same).
    """
    device = b2.get_device()
    queue = getattr(device, "main_queue", None)
    if isinstance(queue, list):
        queue[:] = [(func, 0 if func == "seed" else args) for func, args in queue]


def _build(params: Params, seed: int) -> tuple[Network, Inputs]:
    """The network of ``params`` and ``seed`` with its protocol recorded (nothing runs)."""
    from spikingml.circuits import tempotron as tp

    _fix_brian_seed()
    inputs = tp.prepare_inputs(params, seed)
    network = tp.build_network(params, inputs)
    # no report: Brian2's standalone loop would read the process clock (a system call)
    # before every object in every step, which more than doubled the time
    tp._run_phases(network, params, inputs, report=None)
    return network, inputs


def _run_args(built: tuple[Network, Inputs], params: Params, seed: int) -> dict[Any, Any]:
    """The run-time fields' values: shared constants, the decisions' values, the weights."""
    from spikingml.circuits import tempotron as tp

    network, inputs = built
    args = constant_args(network.network, tp._constants(params, inputs.epoch))
    # the running mean's rate per decision (average_epochs); lam0, mu and tau_lr, the
    # other decision values, are shared constants above
    rule = tp.learning_rule(params, inputs.epoch)
    args[network.cells.beta] = rule.consolidation_rate(inputs.n_learning)
    w_init = tp.initial_weights(params, seed, len(inputs.w_init))
    args[network.afferents.w] = w_init
    args[network.afferents.wc] = w_init
    return args


def _collect(built: tuple[Network, Inputs], params: Params, seed: int, t_wall: float) -> Result:
    """The finished run as a :class:`~spikingml.result.Result` (wall time from ``t_wall``)."""
    from spikingml.circuits import tempotron as tp

    network, inputs = built
    recording = tp._read(network, params.dt)
    wall = time.perf_counter() - t_wall
    return tp._result(params, seed, "cpp_standalone", inputs, recording, wall)


#: Structural fields that change only what ``main.cpp`` holds and the inputs' files,
#: as a seed does: the number of training runs and the patterns' jitter.
_SHARING_A_DIRECTORY = ("n_epochs", "jitter")


def _directory_of(structure: Params) -> Params:
    """The structure whose build directory ``structure``'s program shares.

    The programs of every ``n_epochs`` and ``jitter`` are built in one directory, one
    after the other: the code objects are the same, so each compiles only ``main.cpp``.
    """
    from spikingml.circuits import tempotron as tp

    defaults = tp.Params()
    try:
        return structure.replace(**{f: getattr(defaults, f) for f in _SHARING_A_DIRECTORY})
    except ValidationError:  # the defaults do not fit the other fields: a directory apart
        return structure


#: The circuit's program for :func:`spikingml.simulation.compiled_runs`.
PROGRAM = Program(
    build=_build,
    run_args=_run_args,
    collect=_collect,
    seed_is_run_arg=False,
    directory_of=_directory_of,
)


#: The contract's hook (:func:`spikingml.simulation.simulate_many_hook`).
simulate_many = simulate_many_hook("spikingml.circuits.tempotron", PROGRAM)
