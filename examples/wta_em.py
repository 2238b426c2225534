"""
Spike-timing-dependent plasticity as expectation-maximisation in a winner-take-all circuit
==========================================================================================

Nessler, Pfeiffer, Buesing & Maass (2013): output neurons under lateral inhibition fire
with probability softmax(u + b), u the summed EPSPs of the inputs that spiked in the
last 10 ms; an STDP rule with LTP c exp(-w) - 1 (input before output spike) and LTD -1
(otherwise) drives every weight to a log-probability, and an excitability rule drives
every b to a log prior. Each output spike samples a component (E step) and moves its
neuron's weights toward the input (M step): an online EM for a mixture of Bernoulli
distributions.

Two blocks learn side by side: a synthetic Bernoulli mixture and scikit-learn's 8 x 8
digits (binarised, on/off input pairs). The twin is batch and online EM from the same
start. A second population in each block receives EM's parameters (no learning): its
clustering separates what spiking inference loses from what learning loses.

This script runs the quick preset (a few seconds to a few tens of seconds of CPU once
Brian2's Cython code is compiled; the first run compiles it) and writes ``raster.png``
(the digits block during the first test images) and ``comparison.png`` (learned weights
as images beside EM's components) to ``examples/output/wta-em``: the same as
``spikingml run wta-em --quick``, from Python.
"""

# %%
# Train both blocks and run EM
# ----------------------------
# 1200 training presentations per data set (quick preset), then held-out test images.

from pathlib import Path

from spikingml.circuits import wta_em
from spikingml.plotting import raster, save_figure

params = wta_em.Params.quick()
result = wta_em.simulate(params, seed=0)
twin = wta_em.twin(params, seed=0)
metrics = wta_em.compare(result, twin)

# %%
# How close are they?
# --------------------

for name, value in metrics.items():
    generic = name.rsplit("_", 1)[0] + "_<set>" if name.endswith(wta_em.DATASETS) else name
    print(f"{name:40s} {value:8.3f}   {wta_em.METRICS.get(generic, '')}")

# %%
# Figures
# -------
# The digits block during the first test images, then each learned neuron's weights as an
# image above its matched EM component.

outdir = Path(__file__).resolve().parent / "output" / "wta-em"
outdir.mkdir(parents=True, exist_ok=True)
ax_raster, _ = raster(result, **wta_em.raster_options(result))
save_figure(ax_raster.figure, outdir / "raster.png")
for path in [outdir / "raster.png", *wta_em.figures(result, twin, outdir)]:
    print("wrote", path)
