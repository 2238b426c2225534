"""Chunked runs, build keys and checkpoints of the v1-ica circuit: machinery, not the circuit.

The circuit, its network (:func:`spikingml.circuits.v1_ica.build_network`) and its
protocol (:func:`spikingml.circuits.v1_ica.simulate`) are in
:mod:`spikingml.circuits.v1_ica`, which re-exports what the circuit contract asks of it
(:func:`load_checkpoint`). This module holds what lets a training of ten million time
steps run fast and survive an interruption:

- :class:`ChunkRuns` runs the network chunk after chunk: under ``cpp_standalone`` the
  program is compiled once, in a persistent build directory named by :func:`build_key`,
  and run once per chunk with the chunk's inputs, the current state and the run-time
  fields (``Params.runtime_fields()``) as run arguments. The program is built for the
  parameters' structure (run-time fields at their defaults), so it serves every value
  of the run-time fields and every seed (the network draws no random numbers).
- :func:`simulate_many` runs ``(params, seed)`` pairs on one such program per
  structure (the contract's hook, re-exported by :mod:`spikingml.circuits.v1_ica`).
- :func:`save_checkpoint` writes the learned state after a chunk; :func:`load_checkpoint`
  reads it back for a run to continue exactly where the interrupted one stopped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import brian2 as b2
import numpy as np

from spikingml._files import atomic_path
from spikingml.errors import ValidationError
from spikingml.simulation import (
    brian_device,
    check_device,
    check_seed,
    remove_run_args_files,
    set_constants,
    stable_build_order,
    standalone_build_directory,
)

if TYPE_CHECKING:
    from spikingml.circuits.v1_ica import Chunk, Network, Params, State
    from spikingml.result import Result

__all__ = [
    "ChunkRuns",
    "RESUMABLE_CHANGES",
    "build_key",
    "chunk_runs",
    "load_checkpoint",
    "save_checkpoint",
    "simulate_many",
]


# ------------------------------------------------------------------------ chunked runs
class ChunkRuns:
    """The V1 network run chunk after chunk, on either device.

    Under ``runtime`` the network is built anew for every chunk (the compiled code is
    cached). Under ``cpp_standalone`` the program is built and compiled once; every chunk
    is one run of it with new inputs, learning rates, state and run-time fields as run
    arguments (:meth:`~spikingml.circuits.v1_ica.Network.run_args`), so one instance
    serves the chunks of several runs of one structure, one run after the other.
    Brian2's seed is 0: the network draws no random numbers (the patches and the initial
    state come from the run's seed through NumPy), and the program is the same for
    every seed.

    Parameters
    ----------
    build : callable
        ``build(stimulus, eta_at, state) -> Network``: the circuit's
        :func:`~spikingml.circuits.v1_ica.build_network` with the parameters the program
        is built for.
    duration : Quantity
        Simulated time of one chunk.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    key : str
        Name of the persistent ``cpp_standalone`` build directory (:func:`build_key`).

    Attributes
    ----------
    synaptic_events : int
        Synaptic events of every chunk run so far.
    """

    def __init__(
        self,
        build: Callable[[np.ndarray, np.ndarray, State], Network],
        duration: Any,
        device: str,
        key: str,
    ) -> None:
        self.build = build
        self.duration = duration
        self.device = device
        self.key = key
        self.synaptic_events = 0
        self._stack: contextlib.ExitStack | None = None
        self._network: Network | None = None

    def run(
        self,
        stimulus: np.ndarray,
        eta_at: np.ndarray,
        state: State,
        patches_seen: int,
        constants: Mapping[str, Any],
    ) -> Chunk:
        """Run one chunk from ``state``.

        Parameters
        ----------
        stimulus, eta_at : ndarray
            The chunk's inputs (:func:`~spikingml.circuits.v1_ica.chunk_inputs`).
        state : State
            State before the chunk.
        patches_seen : int
            Training patches seen once the chunk has run.
        constants : mapping of str to value
            The run's run-time fields by their names in the equations (the shared
            constants of :func:`~spikingml.circuits.v1_ica.build_network`).

        Returns
        -------
        Chunk
            What the chunk left (:meth:`~spikingml.circuits.v1_ica.Network.read`).
        """
        if self.device == "runtime":
            with brian_device("runtime", 0):
                network = self.build(stimulus, eta_at, state)
                set_constants(network.net, constants)
                network.net.run(self.duration)
                return self._read(network, patches_seen)
        if self._network is None:
            # held until close(): the locked build directory, then the standalone device
            self._stack = contextlib.ExitStack()
            directory = self._stack.enter_context(standalone_build_directory(self.key))
            self._stack.enter_context(
                brian_device("cpp_standalone", 0, directory=directory, build_on_run=False)
            )
            network = self.build(stimulus, eta_at, state)
            network.net.run(self.duration)
            stable_build_order()  # the same main.cpp in every process: nothing to recompile
            b2.device.build(run=False, directory=directory, with_output=False)
            self._network = network
        run_args = self._network.run_args(stimulus, eta_at, state, constants)
        b2.device.run(run_args=run_args, with_output=False)
        remove_run_args_files()  # or the persistent build directory grows with every chunk
        return self._read(self._network, patches_seen)

    def _read(self, network: Network, patches_seen: int) -> Chunk:
        self.synaptic_events += network.counter.total()
        return network.read(patches_seen)

    def close(self) -> None:
        """Leave the standalone device and release the build directory (it is kept)."""
        if self._stack is not None:
            stack, self._stack, self._network = self._stack, None, None
            stack.close()


#: Structural fields that only change the run arguments of the chunks (the patches, their
#: number and whitening), not the program: left out of its build directory's name.
DATA_ONLY = ("n_patches", "n_test", "n_components", "whitening_f0", "zca_eps")


def build_key(params: Params, n_chunk: int) -> str:
    """Name of the persistent build directory: the parameters that shape the program.

    Those of the parameters' structure (run-time fields at their defaults: their values
    are run arguments) but :data:`DATA_ONLY`, and the chunk length.
    """
    shaping = {k: v for k, v in params.structure().to_dict().items() if k not in DATA_ONLY}
    shaping["n_chunk"] = n_chunk
    digest = hashlib.sha1(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:12]
    return f"v1-ica-{digest}"


def chunk_runs(params: Params, device: str, fresh: bool = False) -> ChunkRuns:
    """The :class:`ChunkRuns` of a run of ``params`` on ``device``.

    Under ``cpp_standalone`` its program is built for the parameters' structure (the
    run-time fields at their defaults; each run gives its own values as run arguments),
    or for ``params`` themselves with ``fresh`` (for tests: a program of their own, the
    values written into it).
    """
    from spikingml.circuits import v1_ica

    built_from = params if fresh or device != "cpp_standalone" else params.structure()
    return ChunkRuns(
        functools.partial(v1_ica.build_network, built_from),
        v1_ica.chunk_duration(params),
        device,
        build_key(params, params.chunk_patches),
    )


def simulate_many(
    runs: Iterable[tuple[Params, int]],
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
    fresh: bool = False,
) -> Iterator[Result]:
    """Simulate ``(params, seed)`` pairs, compiling one program per structure.

    Under ``cpp_standalone`` the consecutive pairs with the same program (the same
    :func:`build_key`: the same structure, whatever their seeds and run-time fields,
    the number and whitening of the patches aside) run on one :class:`ChunkRuns`, built
    once in a persistent build directory (a later call with the same structure compiles
    nothing), each run its chunks one after the other with its own inputs, state and
    run-time fields as run arguments. Each result equals ``simulate(params, seed,
    "cpp_standalone")`` exactly (the conformance test checks against a program compiled
    for the pair's own values). Under ``runtime`` the pairs are simulated one after the
    other.

    Parameters
    ----------
    runs : iterable of (Params, int)
        The parameters and seed of each run, in the order of the results.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Log the training progress of each run (:func:`~spikingml.circuits.v1_ica.simulate`).
    jobs : int, optional
        Accepted for the circuit contract; the runs go one after the other (every chunk
        starts from the state the previous one left, so a run is a chain of program
        runs, each of a few seconds).
    fresh : bool
        ``cpp_standalone``: build a program for each run's own values (for tests).

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
    from spikingml.circuits import v1_ica

    runs = [(v1_ica._check_params(params), check_seed(seed)) for params, seed in runs]
    check_device(device)
    if device != "cpp_standalone":
        for params, seed in runs:
            yield v1_ica.simulate(params, seed=seed, device=device, progress=progress)
        return
    start = 0
    while start < len(runs):
        first = runs[start][0]
        key = build_key(first, first.chunk_patches)
        stop = start + 1
        while not fresh and stop < len(runs):
            params = runs[stop][0]
            if build_key(params, params.chunk_patches) != key:
                break
            stop += 1
        program = chunk_runs(first, device, fresh)
        try:
            for params, seed in runs[start:stop]:
                yield v1_ica._simulate(program, params, seed, progress)
        finally:
            program.close()
        start = stop


# ------------------------------------------------------------------------ checkpoints
#: Fields that may differ between a checkpoint and the run resuming from it. The patch
#: sample, its whitening and the learning-rate schedule depend on ``n_patches``, and the
#: chunk boundaries on ``chunk_patches``, so a resumed run must keep both: it continues
#: an interrupted run exactly, as if it had never stopped.
RESUMABLE_CHANGES = ("n_test",)


def save_checkpoint(
    path: str | os.PathLike, state: State, params: Params, seed: int, history: dict
) -> Path:
    """Write the learned state (and the learning history) to ``path`` atomically (.npz)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            Q=state.Q,
            W=state.W,
            theta=state.theta,
            patches_seen=state.patches_seen,
            seed=seed,
            params=json.dumps(params.to_dict()),
            history_patches=np.asarray(history["patches"]),
            history_Q=np.asarray(history["Q"]),
        )
    return path


def load_checkpoint(path: str | os.PathLike, params: Params, seed: int) -> tuple[State, dict]:
    """Read a checkpoint written by :func:`save_checkpoint` for a run to continue.

    Raises
    ------
    ValidationError
        If the file is missing or unreadable, or was written by a run with another seed
        or with parameters that differ in more than :data:`RESUMABLE_CHANGES`.
    """
    from spikingml.circuits.v1_ica import State  # v1_ica imports this module

    path = Path(path)
    if not path.is_file():
        raise ValidationError("resume", "an existing checkpoint file (.npz)", str(path))
    try:  # never unpickled: a checkpoint is a user-supplied path
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        saved = json.loads(str(data["params"]))
        if not isinstance(saved, dict):
            raise ValueError("params is not a table")
        checkpoint_seed = int(data["seed"])
        state = State(data["Q"], data["W"], data["theta"], int(data["patches_seen"]))
        history = {"patches": list(data["history_patches"]), "Q": list(data["history_Q"])}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValidationError("resume", "a checkpoint written by v1-ica", str(path)) from exc
    current = params.to_dict()
    differ = sorted(
        k
        for k in set(saved) | set(current)
        if k not in RESUMABLE_CHANGES and saved.get(k) != current.get(k)
    )
    if differ:
        raise ValidationError(
            "resume",
            f"a checkpoint of a run with the same parameters (differing: {', '.join(differ)})",
            str(path),
        )
    if checkpoint_seed != seed:
        raise ValidationError(
            "resume", f"a checkpoint of a run with seed {seed}", f"seed {checkpoint_seed}"
        )
    return state, history
