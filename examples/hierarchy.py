"""
Hierarchy: does a spiking hierarchy with local rules decorrelate like backprop?
===============================================================================

Two views of a sensory hierarchy: each stage removes the redundancy of the one below
(Barlow 1961), or each stage is whatever makes the output good at its task (networks
trained by back-propagation predict the ventral stream; Yamins & DiCarlo 2016). This
circuit learns scikit-learn's digits with three spiking layers and local rules only:

- ``l1``: 9 local 4 x 4 receptive fields, each a soft winner-take-all block whose units
  move their weights towards the patches that make them fire (instar rule);
- ``l2``: one unit per ``l1`` unit, inhibited by interneurons through Hebbian synapses
  that cap the variance of every shared direction (whitening by interneurons);
- ``top``: 10 softmax units whose synapses learn by a three-factor rule, presynaptic
  eligibility x (teacher - output).

Its twins, on the same digits: the same architecture trained end to end by back-
propagation on the labels only, and an unsupervised cascade (ICA, then k-means). For
every layer of every model the run measures the mean absolute pairwise correlation, the
participation ratio and a linear-SVM probe, and the RSA between the circuit's layers and
the twins'.

This script runs the quick preset (400 training and 200 test digits; about a minute and
a half, a third of it compiling the C++ program) through :func:`spikingml.pipeline.run`,
the function ``spikingml run hierarchy --quick`` calls. It writes ``metrics.json``,
``params.json``, ``data.nix``, ``raster.png``, ``comparison.png`` (the three models'
profiles side by side) and ``rsa.png`` to ``examples/output/hierarchy``. The back-
propagation twin needs JAX: ``pip install 'spikingml[hierarchy]'``.
"""

# %%
# Train the three layers in turn, then record the responses to held-out digits
# ----------------------------------------------------------------------------
# ``pipeline.run`` simulates the circuit, trains both twins on the same training digits,
# compares the layers and writes every output.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import hierarchy as hc

outdir = Path(__file__).resolve().parent / "output" / "hierarchy"
record = pipeline.run("hierarchy", hc.Params.quick(), seed=0, out=outdir, force=True)
m = record.metrics

# %%
# The decorrelation profile of the three models
# ---------------------------------------------
# Mean abs r (lower: more decorrelated), participation ratio and probe accuracy per layer.

print(f"{'model':9s} {'layer':6s} {'mean |r|':>9s} {'PR':>6s} {'probe':>6s}")
print(
    f"{'pixels':9s} {'':6s} {m['pixels_mean_abs_correlation']:9.3f} "
    f"{m['pixels_participation_ratio']:6.1f} {m['pixels_probe_accuracy']:6.3f}"
)
for model in hc.MODELS:
    for layer in hc.LAYERS:
        key = f"{model}_{layer}_"
        print(
            f"{model:9s} {layer:6s} {m[key + 'mean_abs_correlation']:9.3f} "
            f"{m[key + 'participation_ratio']:6.1f} {m[key + 'probe_accuracy']:6.3f}"
        )

# %%
# The readout and the RSA
# -----------------------

for name in ("top_accuracy", "backprop_accuracy", "decorrelation_monotone", "rsa_mismatched_max"):
    print(f"{name:24s} {m[name]:7.3f}   {hc.METRICS[name]}")
for layer in hc.LAYERS:
    print(f"rsa_matched_{layer:12s} {m['rsa_matched_' + layer]:7.3f}")

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
