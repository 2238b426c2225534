"""
Three-factor synapses beside their closed form (the template circuit)
=====================================================================

A dopamine-modulated STDP synapse (Izhikevich 2007; NEST's ``stdp_dopamine_synapse``)
does not change its weight when pre and post spikes pair: the pairing tags it with an
eligibility trace ``c``, and the weight follows ``dw/dt = c (n - b)`` while the dopamine
concentration ``n`` is above its baseline ``b``. Here 50 independent synapses see Poisson
pre, post and dopamine spikes; the twin is the rule's exact solution, computed event by
event in NumPy on the same spike trains. The two agree to float rounding.

This circuit is the template new circuits are copied from (see "Adding a circuit" in the
user guide), and this script the template of their examples. It runs the quick preset
(50 synapses for 5 s; a few seconds once Brian2's Cython code is compiled, a minute or two
on a cold cache) through :func:`spikingml.pipeline.run`, the function ``spikingml run``
calls: it is ``spikingml run three-factor-synapse --quick``, from Python. It writes
``metrics.json``, ``params.json``, ``data.nix``, ``raster.png`` and ``comparison.png`` to
``examples/output/three-factor-synapse``.
"""

# %%
# Run the circuit and its closed form
# -----------------------------------
# ``pipeline.run`` simulates the synapses, runs the twin, compares them and writes every
# output. The figures it wrote: the raster of the pre, post and dopamine neurons, then
# the weight changes of circuit and closed form, and one synapse's weight over time.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import three_factor_synapse as tfs

outdir = Path(__file__).resolve().parent / "output" / "three-factor-synapse"
record = pipeline.run("three-factor-synapse", tfs.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``tfs.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:26s} {value:11.4g}   {tfs.METRICS[name]}")

# %%
# The result is plain data
# ------------------------
# ``record.result`` is the simulation (a ``Result``: spikes, the recorded weights, the
# final weights), ``record.twin_output`` the closed form.

result, closed_form = record.result, record.twin_output
dw = result.weights["w"] - result.weights["w0"]
print(f"{len(dw)} synapses; weight changes from {dw.min():.2f} to {dw.max():.2f}")
print(f"largest |circuit - closed form|: {abs(result.weights['w'] - closed_form.w_end).max():.1e}")
for name, spikes in result.populations.items():
    print(f"{name:9s} {len(spikes.times):5d} spikes, {spikes.rate(0, result.t_stop):.1f} Hz")
