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
standalone program is compiled, which the first run does in about half a minute) and
writes ``comparison.png`` (receptive-field mosaics), ``tuning.png`` and
``learning_curve.png`` to ``examples/output/v1-ica``. The same as
``spikingml run v1-ica --quick``, from Python.
"""

# %%
# Train the V1 layer and the twins
# --------------------------------
# 30 000 whitened patches of natural images; FastICA, infomax and PCA fit the same
# patches.

from pathlib import Path

from spikingml.circuits import v1_ica

params = v1_ica.Params.quick()
result = v1_ica.simulate(params, seed=0)  # cpp_standalone by default; "runtime" works too
twin = v1_ica.twin(params, seed=0)  # FastICA (reference and ceiling runs), infomax, PCA
metrics = v1_ica.compare(result, twin)

# %%
# How close are they?
# --------------------
# ``ceiling_ratio`` compares the match to FastICA with FastICA's match to itself
# (other seeds).

for name, value in metrics.items():
    print(f"{name:34s} {value:9.3f}")

# %%
# Figures
# -------
# Receptive-field mosaics (units beside their matched FastICA filters), tuning and the
# learning curve.

outdir = Path(__file__).resolve().parent / "output" / "v1-ica"
outdir.mkdir(parents=True, exist_ok=True)
for path in v1_ica.figures(result, twin, outdir):
    print("wrote", path)
