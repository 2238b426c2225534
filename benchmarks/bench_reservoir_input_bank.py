"""How much memory the reservoir's input currents can hold: the slow mechanism alone.

Every column neuron of :mod:`spikingml.circuits.reservoir` filters the input spikes it
receives with its own time constant ``tau_in`` (5-300 ms, log-uniform). Before any
spiking, that bank of exponential filters bounds what the column can remember of its
input. This script computes the bank exactly from the circuit's own draws
(:func:`~spikingml.circuits.reservoir.prepare_inputs`: the same input, input spikes,
input synapses and ``tau_in``; no Brian2), reads it every bin, and scores it with the
circuit's memory capacity estimator, for three inputs: the circuit's Poisson input
spikes, regular input spikes (``input_code="regular"``) and the noise-free ``u`` itself.

Usage::

    python benchmarks/bench_reservoir_input_bank.py [--seeds 0-2] [--quick]

Prints one line per seed and input; writes nothing.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from spikingml._checks import parse_seeds
from spikingml.analysis import reservoir as rc
from spikingml.circuits import reservoir as res


def input_bank(params: res.Params, seed: int, noise_free: bool = False) -> np.ndarray:
    """Every neuron's input current ``I_in`` at the end of every memory-phase bin.

    With ``noise_free``, the bank filters ``u`` itself (one unit of input per bin).
    """
    inputs = res.prepare_inputs(params, seed)
    m, n = params.n_memory_bins, params.n_neurons
    bw, dt = float(params.bin_width), float(params.dt)
    decay = np.exp(-bw / inputs.tau_in)
    if noise_free:
        inflow = np.repeat(inputs.u[:m, None], n, axis=1)
    else:
        weights = np.zeros((params.n_inputs, n))
        np.add.at(weights, (inputs.inp["pre"], inputs.inp["post"]), inputs.inp["w"])
        t = inputs.input_steps * dt
        keep = t < m * bw
        which = (t[keep] // bw).astype(int)
        age = (which + 1) * bw - t[keep]  # from the spike to the end of its bin
        inflow = np.zeros((m, n))
        contribution = weights[inputs.input_indices[keep]] * np.exp(
            -age[:, None] / inputs.tau_in[None, :]
        )
        np.add.at(inflow, which, contribution)
    bank = np.empty((m, n))
    current = np.zeros(n)
    for k in range(m):
        current = current * decay + inflow[k]
        bank[k] = current
    return bank


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--quick", action="store_true", help="the quick preset (N = 100)")
    args = parser.parse_args(argv)
    base = res.Params.quick() if args.quick else res.Params()
    base = base.replace(n_xor_trials=8)  # only the memory phase is used
    for seed in parse_seeds(args.seeds):
        for name, params, noise_free in (
            ("poisson input spikes", base, False),
            ("regular input spikes", base.replace(input_code="regular"), False),
            ("noise-free u", base, True),
        ):
            m = params.n_memory_bins
            u = res.prepare_inputs(params, seed).u[:m]
            mc = rc.memory_capacity(input_bank(params, seed, noise_free), u, params.max_delay)
            curve = " ".join(f"{v:.2f}" for v in mc.r2[:5])
            print(f"seed {seed}  {name:22s} MC {mc.total:6.2f}  r2 delays 1-5: {curve}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
