"""Chunked runs, build keys and checkpoints of the v1-ica circuit: machinery, not the circuit.

The circuit, its network (:func:`spikingml.circuits.v1_ica.build_network`) and its
protocol (:func:`spikingml.circuits.v1_ica.simulate`) are in
:mod:`spikingml.circuits.v1_ica`, which re-exports what the circuit contract asks of it
(:func:`load_checkpoint`). This module holds what lets a training of ten million time
steps run fast and survive an interruption:

- :class:`ChunkRuns` runs the network chunk after chunk: under ``cpp_standalone`` the
  program is compiled once, in a persistent build directory named by :func:`build_key`,
  and run once per chunk with the chunk's inputs and the current state as run arguments.
- :func:`save_checkpoint` writes the learned state after a chunk; :func:`load_checkpoint`
  reads it back for a run to continue exactly where the interrupted one stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import brian2 as b2
import numpy as np

from spikingml._files import atomic_path
from spikingml.errors import ValidationError
from spikingml.simulation import (
    brian_device,
    remove_run_args_files,
    standalone_build_directory,
)

if TYPE_CHECKING:
    from spikingml.circuits.v1_ica import Chunk, Network, Params, State


# ------------------------------------------------------------------------ chunked runs
class ChunkRuns:
    """The V1 network run chunk after chunk, on either device.

    Under ``runtime`` the network is built anew for every chunk (the compiled code is
    cached). Under ``cpp_standalone`` the program is built and compiled once; every chunk
    is one run of it with new inputs, learning rates and state as run arguments
    (:meth:`~spikingml.circuits.v1_ica.Network.run_args`).

    Parameters
    ----------
    build : callable
        ``build(stimulus, eta_at, state) -> Network``: the circuit's
        :func:`~spikingml.circuits.v1_ica.build_network` with the run's parameters.
    duration : Quantity
        Simulated time of one chunk.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    seed : int
        Brian2's seed.
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
        seed: int,
        key: str,
    ) -> None:
        self.build = build
        self.duration = duration
        self.device = device
        self.seed = seed
        self.key = key
        self.synaptic_events = 0
        self._stack: contextlib.ExitStack | None = None
        self._network: Network | None = None

    def run(
        self, stimulus: np.ndarray, eta_at: np.ndarray, state: State, patches_seen: int
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

        Returns
        -------
        Chunk
            What the chunk left (:meth:`~spikingml.circuits.v1_ica.Network.read`).
        """
        if self.device == "runtime":
            with brian_device("runtime", self.seed):
                network = self.build(stimulus, eta_at, state)
                network.net.run(self.duration)
                return self._read(network, patches_seen)
        if self._network is None:
            # held until close(): the locked build directory, then the standalone device
            self._stack = contextlib.ExitStack()
            directory = self._stack.enter_context(standalone_build_directory(self.key))
            self._stack.enter_context(
                brian_device("cpp_standalone", self.seed, directory=directory, build_on_run=False)
            )
            network = self.build(stimulus, eta_at, state)
            network.net.run(self.duration)
            b2.device.build(run=False, directory=directory, with_output=False)
            self._network = network
        b2.device.run(run_args=self._network.run_args(stimulus, eta_at, state), with_output=False)
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


def build_key(params: Params, n_chunk: int) -> str:
    """Name of the persistent build directory: the parameters that shape the program."""
    data_only = ("n_patches", "n_test", "theta0", "eta_start", "eta_end", "ica_samples")
    data_only += ("n_ceiling_runs", "infomax_epochs", "n_components", "whitening_f0", "zca_eps")
    shaping = {k: v for k, v in params.to_dict().items() if k not in data_only}
    shaping["n_chunk"] = n_chunk
    digest = hashlib.sha1(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:12]
    return f"v1-ica-{digest}"


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
