"""A Brian2-free circuit for the sweep tests: metrics are known functions of the inputs.

It is a real module (not built in memory) so that Dask worker processes, which import
the circuit by its module path, can import it too (``tests/`` is on their ``sys.path``).
"""

from __future__ import annotations

import dataclasses
import os
import time
import types
from typing import ClassVar

from brian2 import ms
from brian2.units.fundamentalunits import Quantity

from spikingml.params import CircuitParams, param

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

    @classmethod
    def quick(cls) -> Params:
        return cls(gain=2.0)


def simulate(params: Params, seed: int = 0, device: str = "runtime", progress: bool = True):
    if seed == params.fail_seed:
        raise RuntimeError(f"planned failure at seed {seed}")
    time.sleep(float(params.sleep / ms) / 1000)
    return types.SimpleNamespace(
        params=params, seed=seed, simulated_seconds=0.5, t_stop=0.5, pid=os.getpid(), batch=1
    )


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
