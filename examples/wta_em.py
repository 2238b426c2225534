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
Brian2's Cython code is compiled; the first run compiles it) through
:func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run wta-em --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix`` (the spikes, NEO/NIX), ``raster.png`` (the digits block
during the first test images) and ``comparison.png`` (learned weights as images beside
EM's components) to ``examples/output/wta-em``.
"""

# %%
# Train both blocks and run EM
# ----------------------------
# 1200 training presentations per data set (quick preset), then held-out test images.
# ``pipeline.run`` simulates the network, runs EM meanwhile, compares the two and writes
# every output. The figures it wrote: the digits block during the first test images,
# then each learned neuron's weights as an image above its matched EM component.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import wta_em

outdir = Path(__file__).resolve().parent / "output" / "wta-em"
record = pipeline.run("wta-em", wta_em.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``wta_em.METRICS`` (an entry ending in
# ``_<set>`` documents a metric of each data set).

for name, value in record.metrics.items():
    generic = name.rsplit("_", 1)[0] + "_<set>" if name.endswith(wta_em.DATASETS) else name
    print(f"{name:40s} {value:8.3f}   {wta_em.METRICS.get(generic, '')}")

# %%
# What was written
# ----------------
# ``record.files`` lists the files, ``record.timings`` where the time went;
# ``record.result`` is the simulation and ``record.twin_output`` EM's output.

for name in record.files:
    print("wrote", outdir / name)
timings = record.timings
print(
    f"{timings['simulated_seconds']:.0f} s of network time simulated in "
    f"{timings['simulate_wall_seconds']:.1f} s; {timings['wall_seconds']:.1f} s in all"
)
