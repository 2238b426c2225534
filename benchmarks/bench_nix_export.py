"""Time the NIX writers on a run-sized block: NEO's NixIO against the fast writer.

Builds a synthetic :class:`~spikingml.result.Result` with 2 phases and 3 populations of
450 neurons in all (some silent), i.e. 900 spike trains of ~100 spikes each, plus a
3-channel signal and two kinds of events, converts it with
:func:`spikingml.export.to_neo`, then writes it with ``neo.io.NixIO.write_block`` and
with :func:`spikingml._nix_fast.write_block_fast` and prints the seconds each took
(best of ``--repeat`` for the fast writer; NixIO is timed once, it takes tens of seconds).

Usage::

    python benchmarks/bench_nix_export.py [--trains 900] [--spikes 100] [--repeat 3]
                                          [--skip-nixio]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import neo
import numpy as np

from spikingml._nix_fast import write_block_fast
from spikingml.export import to_neo
from spikingml.result import Phase, Result, Signal, SpikeData


def make_result(n_trains: int = 900, spikes: int = 100, seed: int = 0) -> Result:
    """A run with ``n_trains`` spike trains (2 phases) of ``spikes`` spikes on average."""
    rng = np.random.default_rng(seed)
    neurons = n_trains // 2
    sizes = {"E": neurons * 2 // 3, "I": neurons // 6}
    sizes["DA"] = neurons - sizes["E"] - sizes["I"]
    t_stop = 20.0
    populations = {}
    for name, size in sizes.items():
        active = size - max(1, size // 20)  # the last 5 % never fire
        counts = rng.poisson(2 * spikes, size=active)
        indices = np.repeat(np.arange(active), counts)
        times = rng.uniform(0.0, t_stop, size=indices.size)
        populations[name] = SpikeData(indices, times, size)
    return Result(
        circuit="bench",
        params={"n": n_trains},
        seed=seed,
        device="runtime",
        populations=populations,
        signals={
            "rate": Signal(rng.uniform(0, 20, size=(2000, 3)), dt=0.01, unit="Hz", population="E")
        },
        events={"CS": np.arange(0.5, t_stop, 2.0), "US": np.arange(1.5, t_stop, 2.0)},
        phases=[Phase("acquisition", 0.0, t_stop / 2), Phase("extinction", t_stop / 2, t_stop)],
        simulated_seconds=t_stop,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trains", type=int, default=900)
    parser.add_argument("--spikes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-nixio", action="store_true", help="time the fast writer only")
    args = parser.parse_args(argv)

    result = make_result(args.trains, args.spikes)
    block = to_neo(result)
    n_trains = sum(len(seg.spiketrains) for seg in block.segments)
    n_spikes = sum(len(st) for seg in block.segments for st in seg.spiketrains)
    print(f"python {platform.python_version()} on {platform.machine()}, neo {neo.__version__}")
    print(f"{n_trains} spike trains, {n_spikes / n_trains:.0f} spikes each on average")

    with tempfile.TemporaryDirectory() as tmp:
        fast, cpu = [], []
        for i in range(args.repeat):
            path = Path(tmp) / f"fast{i}.nix"
            fresh = to_neo(result)  # each writer annotates the block it writes
            t0, c0 = time.perf_counter(), time.process_time()
            write_block_fast(fresh, path, fallback=False)
            fast.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        size = path.stat().st_size
        print(
            f"write_block_fast:      {min(fast):7.2f} s  (runs: "
            + ", ".join(f"{t:.2f}" for t in fast)
            + f"; CPU {min(cpu):.2f} s; {size / 1e6:.1f} MB)"
        )
        if not args.skip_nixio:
            path = Path(tmp) / "nixio.nix"
            t0 = time.perf_counter()
            io = neo.io.NixIO(str(path), mode="ow")
            try:
                io.write_block(block)
            finally:
                io.close()
            slow = time.perf_counter() - t0
            print(f"NixIO.write_block:     {slow:7.2f} s  ({path.stat().st_size / 1e6:.1f} MB)")
            print(f"speed-up:              {slow / min(fast):7.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
