"""
A V1 layer learns ICA-like receptive fields from natural images
================================================================

Bell & Sejnowski (1997) showed that the independent components of natural image
patches are localised, oriented edge filters, like the receptive fields of simple cells
in primary visual cortex. Here 64 leaky integrate-and-fire units learn such filters from
whitened 8x8 patches of the photographs that ship with scikit-image, with only local
rules: feedforward synapses that learn from the input's error after feedback from the
units (the sparse-coding / nonlinear-PCA rule), a voltage-based anti-Hebbian term that
pushes apart units whose drives correlate with either sign, anti-Hebbian lateral
inhibition that decorrelates the units' spikes, and thresholds that hold each unit at a
sparse target rate. Their filters are matched one to one to FastICA's on the same patches and
scored against a ceiling (FastICA with other seeds) and floors (PCA, random filters).

This script runs the quick preset (30 000 training patches; about 20 s once the
standalone program is compiled, which the first run does in about half a minute) through
:func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run v1-ica --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix``, ``raster.png``, ``comparison.png`` (receptive-field
mosaics), ``tuning.png`` and ``learning_curve.png`` to ``examples/output/v1-ica``.
"""

# %%
# Train the V1 layer and the twins
# --------------------------------
# 30 000 whitened patches of natural images (cpp_standalone, the circuit's default
# device; ``device="runtime"`` works too); FastICA, infomax and PCA fit the same patches
# meanwhile. The figures: the raster, receptive-field mosaics (units beside their matched
# FastICA filters), tuning and the learning curve.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import v1_ica

outdir = Path(__file__).resolve().parent / "output" / "v1-ica"
record = pipeline.run("v1-ica", v1_ica.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# ``ceiling_ratio`` compares the match to FastICA with FastICA's match to itself
# (other seeds).

for name, value in record.metrics.items():
    print(f"{name:34s} {value:9.3f}")

# %%
# What was written
# ----------------

for name in record.files:
    print("wrote", outdir / name)
