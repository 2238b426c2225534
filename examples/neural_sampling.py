"""
Neural sampling: spiking neurons that sample a Boltzmann machine and fill in digits
===================================================================================

Buesing, Bill, Nessler & Maass (2011), "Neural dynamics as sampling": a neuron that,
after each spike, stays "on" for a refractory time ``tau`` and otherwise fires with
probability ``1 / (1 + (tau / dt) exp(-u))`` per step of ``dt``, where its membrane
potential ``u = b + sum_j W_kj z_j`` sums rectangular PSPs of duration ``tau``, is one
binary variable ``z_k`` of a Boltzmann machine ``p(z) ~ exp(b'z + z'Wz / 2)``: the
network's states over time are samples of ``p``. Clamping some neurons by a strong input
makes the others sample the conditional distribution: a restricted Boltzmann machine
(RBM, scikit-learn's ``BernoulliRBM`` trained on 8 x 8 digits) with the upper half of a
digit clamped fills in the lower half. The twins are exact enumeration of ``p`` and Gibbs
sampling of the same models with as many samples (one Gibbs sweep per ``tau`` of spiking
time).

This script runs the quick preset (10 random units for 10 s, 20 digits for 1 s; about a
minute, most of it compiling the C++ program) through :func:`spikingml.pipeline.run`,
the function ``spikingml run neural-sampling --quick`` calls. It writes ``metrics.json``,
``params.json``, ``data.nix``, ``raster.png``, ``comparison.png`` and ``fill_in.png`` to
``examples/output/neural-sampling``. The default preset samples for 100 s.
"""

# %%
# Sample the model, clamp it, fill in the digits
# ----------------------------------------------
# ``pipeline.run`` simulates the circuit, runs the twins (enumeration and Gibbs), compares
# them and writes every output.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import neural_sampling as ns

outdir = Path(__file__).resolve().parent / "output" / "neural-sampling"
record = pipeline.run("neural-sampling", ns.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``ns.METRICS``. After 10 s (1000
# samples at one per ``tau``) the KL of 1024 states is dominated by the finite sample:
# compare it with ``kl_joint_iid_nats``, the KL of as many independent exact samples.

for name, value in record.metrics.items():
    print(f"{name:30s} {value:9.4f}   {ns.METRICS[name]}")

# %%
# What was written
# ----------------

for name in record.files:
    print("wrote", outdir / name)
timings = record.timings
print(
    f"{timings['simulated_seconds']:.0f} s of network time simulated in "
    f"{timings['simulate_wall_seconds']:.1f} s; {timings['wall_seconds']:.1f} s in all"
)
