"""
A Bayesian spiking neuron: the log-odds of a hidden Markov state, and what it signals
=====================================================================================

Deneve (2008), "Bayesian spiking neurons I": a hidden state switches on and off at
random (rates ``r_on``, ``r_off``), and 20 Poisson input neurons fire faster or slower
depending on it. A neuron whose synaptic weights are the inputs' log likelihood ratios
``log(q_on / q_off)``, whose leak is the prior's pull and whose constant drift is the
evidence carried by silence integrates exactly the posterior log-odds ``L`` of the hidden
state. Its output spikes signal only what its past output did not predict: two output
neurons (on and off) share a prediction ``G`` and fire when ``L`` leaves ``G`` by more
than ``eta / 2``, so ``G``, a function of the output spikes alone, tracks the exact
log-odds. The twin is the exact forward filter of the same hidden Markov model.

This script runs the quick preset (10 s of the chain; a few seconds once Brian2's Cython
code is compiled, a minute or two on a cold cache) and writes ``raster.png`` and
``comparison.png`` to ``examples/output/bayesian-neuron``: the same as
``spikingml run bayesian-neuron --quick``, from Python. Deneve's original single output
neuron: ``bn.Params.quick().replace(output_code="single")``.
"""

# %%
# Run the neuron and the exact filter
# -----------------------------------
# 10 s of the hidden chain (quick preset).

from pathlib import Path

from spikingml.circuits import bayesian_neuron as bn
from spikingml.plotting import raster, save_figure

params = bn.Params.quick()
result = bn.simulate(params, seed=0)
twin = bn.twin(params, seed=0)
metrics = bn.compare(result, twin)

# %%
# How close are they?
# --------------------

for name, value in metrics.items():
    print(f"{name:30s} {value:9.4f}   {bn.METRICS[name]}")

# %%
# Figures
# -------
# The input and output spikes, then the hidden state with the exact, internal and
# decoded log-odds.

outdir = Path(__file__).resolve().parent / "output" / "bayesian-neuron"
outdir.mkdir(parents=True, exist_ok=True)
ax_raster, _ = raster(result, **bn.raster_options(result))
save_figure(ax_raster.figure, outdir / "raster.png")
for path in [outdir / "raster.png", *bn.figures(result, twin, outdir)]:
    print("wrote", path)

# %%
# Export
# ------
#
# The spikes and the log-odds traces as NEO objects (segments: the decoder's fit and
# test halves), ready for Elephant:
block = result.to_neo()
print([segment.name for segment in block.segments], len(block.groups), "groups")
