"""
Hebbian t-SNE: a mushroom-body-like spiking circuit maps digits in two dimensions
=================================================================================

t-SNE (van der Maaten & Hinton 2008) draws high-dimensional data as a 2-D map that keeps
each point's nearest neighbours. Yoshida & Toyoizumi (2025) showed that a feedforward
network can learn such a map online with a three-factor Hebbian rule: input -> a large,
sparse expansion layer (as the Kenyon cells of the fly's mushroom body) -> two output
coordinates, whose synapses change by (change of presynaptic activity) x (change of
postsynaptic activity) x (a global signal comparing how similar the last two inputs were
in the expansion layer with how similar their outputs were). Here the Kenyon cells are
spiking neurons kept sparse by a graded inhibitory neuron (APL), each coordinate is the
rate difference of two opponent pools of output neurons, and one modulatory neuron
computes the third factor once per input. The twin is scikit-learn's t-SNE of the same
digits, with a 2-D PCA as a baseline.

This script runs the quick preset (200 digits, 500 Kenyon cells, 300 passes; about a
minute, most of it compiling the C++ program) through :func:`spikingml.pipeline.run`,
the function ``spikingml run hebbian-tsne --quick`` calls. It writes ``metrics.json``,
``params.json``, ``data.nix``, ``raster.png``, ``comparison.png`` (the three maps) and
``learning.png`` (trustworthiness over the training passes) to
``examples/output/hebbian-tsne``.
"""

# %%
# Learn the map, then show every digit once
# -----------------------------------------
# ``pipeline.run`` simulates the circuit, runs t-SNE and PCA on the same digits,
# compares the three maps and writes every output.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import hebbian_tsne as ht

outdir = Path(__file__).resolve().parent / "output" / "hebbian-tsne"
record = pipeline.run("hebbian-tsne", ht.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# -------------------
# Every metric, with its meaning and target from ``ht.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:26s} {value:9.4f}   {ht.METRICS[name]}")

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
