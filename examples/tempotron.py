"""
The tempotron: a spiking neuron that learns spike-timing decisions, vs LDA and perceptron
=========================================================================================

Gutig & Sompolinsky (2006): a leaky integrate-and-fire neuron classifies a spatio-temporal
spike pattern by firing or staying silent. When it errs, each synapse changes by the
postsynaptic potential its spikes left at the time of the neuron's voltage maximum,
``Delta w_i = lambda * err * sum K(t_max - t_i)``; so the neuron learns from *when* its
inputs fired, not only how often.

Two tasks run side by side in one Brian2 network; a few copies of the neuron present each
task's patterns one after the other, their windows staggered, all copies sharing one set
of weights (held by the input neurons), so each decision uses nearly current weights.
Each synapse also keeps a running mean of its weight over a few epochs, which becomes its
weight when learning stops (the averaged perceptron):

* capacity: random latency patterns (every afferent fires once, at a random time) with
  random labels, at several loads alpha = patterns per synapse;
* timing: a few templates per class with jittered spike times; every afferent fires once
  in every sample of both classes, so spike counts are identical and only timing tells
  the classes apart. LDA and a perceptron on the counts stay at chance; on counts in
  50 ms bins they see the timing.

This script runs the quick preset (N = 100; about 2 s of simulation once the
cpp_standalone program is compiled, a minute or two the first time) through
:func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run tempotron --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix`` (the spikes, NEO/NIX), ``raster.png``, ``comparison.png``
(capacity curves, learning curves, timing task) and ``voltage_traces.png`` (V of a + and
a - pattern before and after learning) to ``examples/output/tempotron``.
"""

# %%
# Train the tempotron and fit the linear twins
# --------------------------------------------
# N = 100 afferents (quick preset), loads alpha = 1 to 2 and the timing task.
# ``pipeline.run`` simulates the network (on the circuit's default device,
# ``cpp_standalone``), fits the linear twins meanwhile, compares them and writes every
# output. The figures it wrote: the inputs of a + and a - pattern, capacity and learning
# curves, the timing task, and the membrane potential before and after learning.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import tempotron as tp

outdir = Path(__file__).resolve().parent / "output" / "tempotron"
record = pipeline.run("tempotron", tp.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``tp.METRICS`` (``tp.metric_doc`` reads
# the entry ending in ``_<a>`` for a metric of each load alpha).

for name, value in record.metrics.items():
    print(f"{name:36s} {value:10.4g}   {tp.metric_doc(name)[:70]}")

# %%
# What was written
# ----------------
# ``record.files`` lists the files, ``record.timings`` where the time went (under
# ``cpp_standalone`` also ``compile_seconds`` and ``binary_seconds``);
# ``record.result`` is the simulation and ``record.twin_output`` the twins' output.

for name in record.files:
    print("wrote", outdir / name)
timings = record.timings
print(
    f"{timings['simulated_seconds']:.0f} s of network time simulated in "
    f"{timings['simulate_wall_seconds']:.1f} s; {timings['wall_seconds']:.1f} s in all"
)
