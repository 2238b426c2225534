"""
Pattern completion: a spiking attractor network beside Hopfield networks
========================================================================

Hopfield (1982): a network whose symmetric recurrent weights store patterns completes a
corrupted cue by settling into the nearest stored pattern. Here excitatory LIF neurons
learn overlapping sparse patterns (coding level 0.1) themselves, one presentation each,
with a local, bounded Hebbian covariance rule (Tsodyks & Feigelman 1988); the negative
part of the covariance weights is carried by a pool of inhibitory neurons (Dale's law).
Recall: a cue with 20% of the pattern's active neurons moved elsewhere, then the network
settles and holds the memory. The twins are Hopfield networks of binary units: one with
the same patterns, cues and rule, and the classical one (dense +-1 patterns, Hebb rule),
whose capacity is about 0.138 patterns per neuron.

This script runs the quick preset (400 + 100 neurons, loads up to 0.2; a minute or two,
most of it compiling the C++ program) through :func:`spikingml.pipeline.run`, the
function ``spikingml run attractor --quick`` calls. It writes ``metrics.json``,
``params.json``, ``data.nix``, ``raster.png`` and ``comparison.png`` to
``examples/output/attractor``.
"""

# %%
# Learn, cue, settle
# ------------------
# ``pipeline.run`` simulates the circuit (learning blocks of 20 patterns, each followed
# by recall trials), runs the Hopfield twins, compares and writes every output.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import attractor as att

outdir = Path(__file__).resolve().parent / "output" / "attractor"
record = pipeline.run("attractor", att.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# -------------------
# Every metric, with its meaning and target from ``att.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:26s} {value:9.4f}   {att.METRICS[name]}")

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
