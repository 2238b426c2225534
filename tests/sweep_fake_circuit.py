"""A Brian2-free circuit for the sweep tests: metrics are known functions of the inputs.

It is a real module (not built in memory) so that Dask worker processes, which import
the circuit by its module path, can import it too (``tests/`` is on their ``sys.path``).

Two parameters let a test synchronise with the workers or fault them, through files in
the directory named by the environment variable :data:`SIGNALS_ENV` (which worker
processes inherit): runs of seeds from ``hold_from`` on wait until the file ``release``
exists there; the first run of seed ``kill_seed`` creates ``killed-seed-SEED`` there
(holding its process id) and kills its own worker process with SIGKILL, mid-task; a
later run of that seed (the task run again) finds the file and goes on.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
import types
from pathlib import Path
from typing import ClassVar

from brian2 import ms
from brian2.units.fundamentalunits import Quantity

from spikingml.params import CircuitParams, param

#: Environment variable naming the directory of the signal files (see the module docstring).
SIGNALS_ENV = "SPIKINGML_SWEEP_FAKE_SIGNALS"
#: The file whose existence releases held runs.
RELEASE = "release"
#: Longest a held run waits for :data:`RELEASE` (s) before it fails.
HOLD_TIMEOUT = 120.0

NAME = "sweep-fake"
DESCRIPTION = "fake circuit for the sweep tests"
METRICS = {
    "score": "gain * (seed + 1) + tau / ms",
    "seed_echo": "the seed",
    "worker_pid": "process id of the worker that ran it",
    "batch_size": "seeds simulated together by simulate_seeds (1: by simulate)",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the fake circuit."""

    circuit_name: ClassVar[str] = "SweepFake"

    gain: float = param(1.0, "gain", low=0.0)
    tau: Quantity = param(10 * ms, "time constant", unit=ms, low=0 * ms, low_inclusive=False)
    fail_seed: int = param(-1, "seed at which simulate raises (-1: never)", integer=True)
    sleep: Quantity = param(0 * ms, "wall time each run takes", unit=ms, low=0 * ms)
    hold_from: int = param(-1, "seed from which runs wait for release (-1: none)", integer=True)
    kill_seed: int = param(-1, "seed whose first run kills its worker (-1: none)", integer=True)

    @classmethod
    def quick(cls) -> Params:
        return cls(gain=2.0)


def simulate(params: Params, seed: int = 0, device: str = "runtime", progress: bool = True):
    if seed == params.fail_seed:
        raise RuntimeError(f"planned failure at seed {seed}")
    time.sleep(float(params.sleep / ms) / 1000)
    if seed == params.kill_seed:
        _kill_worker_once(seed)
    if 0 <= params.hold_from <= seed:
        _wait_for_release(seed)
    return types.SimpleNamespace(  # what the run pipeline reads of a Result, and more
        params=params,
        seed=seed,
        simulated_seconds=0.5,
        t_stop=0.5,
        wall_seconds=0.0,
        synaptic_events=0,
        pid=os.getpid(),
        batch=1,
    )


def _signals() -> Path:
    path = os.environ.get(SIGNALS_ENV)
    if not path:
        raise RuntimeError(f"hold_from and kill_seed need {SIGNALS_ENV} (a directory)")
    return Path(path)


def _kill_worker_once(seed: int) -> None:
    """The first run of ``seed`` kills this process; the marker file says it happened."""
    try:  # created by exactly one process, however many try at once
        fd = os.open(_signals() / f"killed-seed-{seed}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


def _wait_for_release(seed: int) -> None:
    release = _signals() / RELEASE
    deadline = time.monotonic() + HOLD_TIMEOUT
    while not release.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"seed {seed} held for {HOLD_TIMEOUT} s: {release} never came")
        time.sleep(0.02)


def simulate_seeds(params: Params, seeds=(0,), device: str = "runtime", progress: bool = True):
    """The compile-once hook: results tagged with the number of seeds run together."""
    seeds = list(seeds)
    for seed in seeds:
        result = simulate(params, seed=seed, device=device, progress=progress)
        result.batch = len(seeds)
        yield result


def twin(params: Params, seed: int = 0) -> float:
    return float(params.tau / ms)


def compare(result, twin_output: float) -> dict[str, float]:
    return {
        "score": result.params.gain * (result.seed + 1) + twin_output,
        "seed_echo": float(result.seed),
        "worker_pid": float(result.pid),
        "batch_size": float(result.batch),
    }


def figures(result, twin_output: float, outdir) -> list:
    """None: sweeps draw no figures of single runs."""
    return []
