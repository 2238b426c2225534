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
code is compiled, a minute or two on a cold cache) through
:func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run bayesian-neuron --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix`` (the spikes and traces, NEO/NIX), ``raster.png`` and
``comparison.png`` to ``examples/output/bayesian-neuron``. Deneve's original single
output neuron: ``bn.Params.quick().replace(output_code="single")``.
"""

# %%
# Run the neuron and the exact filter
# -----------------------------------
# 10 s of the hidden chain (quick preset). ``pipeline.run`` simulates the neuron, runs
# the exact filter meanwhile, compares the two and writes every output. The figures it
# wrote: the input and output spikes, then the hidden state with the exact, internal and
# decoded log-odds.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import bayesian_neuron as bn

outdir = Path(__file__).resolve().parent / "output" / "bayesian-neuron"
record = pipeline.run("bayesian-neuron", bn.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``bn.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:30s} {value:9.4f}   {bn.METRICS[name]}")

# %%
# What was written
# ----------------
# ``record.files`` lists the files, ``record.timings`` where the time went.

for name in record.files:
    print("wrote", outdir / name)
timings = record.timings
print(
    f"{timings['simulated_seconds']:.0f} s of network time simulated in "
    f"{timings['simulate_wall_seconds']:.1f} s; {timings['wall_seconds']:.1f} s in all"
)

# %%
# Export
# ------
#
# ``record.result`` is the simulation (a ``Result``), ``record.twin_output`` the twin's.
# The spikes and the log-odds traces as NEO objects (segments: the decoder's fit and
# test halves), ready for Elephant:
block = record.result.to_neo()
print([segment.name for segment in block.segments], len(block.groups), "groups")
