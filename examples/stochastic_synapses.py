"""
Dropout as unreliable synapses: a spiking classifier that learns through failing synapses
=========================================================================================

Dropout (Srivastava et al. 2014) and DropConnect (Wan et al. 2013) silence units or
weights at random while a network learns, and so keep it from memorising its few
training examples. Real synapses fail too: a presynaptic spike releases transmitter only
with some probability ``p``. Here a spiking classifier learns binarised 8 x 8 digits
from only 6 examples per digit. Every active pixel sends one spike per example; every
synapse releases it with probability ``p`` (a fresh random draw per spike) and the
output neurons learn by the delta rule from the spikes that got through. At test every
synapse transmits, scaled by ``p``. One copy of the classifier per ``p`` (1, 0.8, 0.6,
0.4, 0.2, 0.1) learns side by side from the same spikes; the twin is the same
classifier in NumPy trained with DropConnect masks at the same ``p``.

This script runs the quick preset (100 epochs; 300 validation and 300 test digits)
through :func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run stochastic-synapses --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix``, ``raster.png`` (the input spikes), ``comparison.png``
(accuracy and generalisation gap vs ``p``, and accuracy after deleting synapses) and
``weights.png`` to ``examples/output/stochastic-synapses``. The program is compiled
once (cpp_standalone: about 20 s).
"""

# %%
# Train every copy and its twin
# -----------------------------
# ``pipeline.run`` simulates the circuit, trains the twin, compares them and writes the
# figures.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import stochastic_synapses as ss

outdir = Path(__file__).resolve().parent / "output" / "stochastic-synapses"
record = pipeline.run("stochastic-synapses", ss.Params.quick(), seed=0, out=outdir, force=True)

# %%
# The generalisation gap against the release probability
# -------------------------------------------------------
# Train accuracy minus test accuracy, for the circuit and its DropConnect twin.

params = record.params
print(" p     circuit gap   twin gap   circuit test accuracy")
for p in params.grid:
    label = ss.p_label(p)
    m = record.metrics
    print(
        f"{p:4.2f}  {m[f'gap_{label}']:10.3f}  {m[f'twin_gap_{label}']:9.3f}"
        f"  {m[f'test_accuracy_{label}']:10.3f}"
    )

# %%
# Every metric
# ------------
# With its meaning and target from ``ss.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:32s} {value:8.4f}")

# %%
# What was written
# ----------------

for name in record.files:
    print("wrote", outdir / name)
print(f"{record.timings['wall_seconds']:.1f} s in all")
