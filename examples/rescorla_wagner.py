"""
A spiking Rescorla-Wagner circuit: blocking, overshadowing, inhibition, overexpectation
=======================================================================================

Rescorla & Wagner (1972): the cues present on a trial share one prediction error,
``delta = lambda - sum V``, and each learns ``Delta V_i = alpha_i beta delta``. Here the
error is carried by dopamine neurons at the time of the US (Schultz, Dayan & Montague
1997; Waelti, Dickinson & Schultz 2001): cue neurons excite value neurons through
dopamine-gated synapses, and excite inhibitory interneurons (which inhibit the value
neurons) through synapses gated the opposite way, so a cue can acquire a negative value
while every neuron keeps the sign of its synapses (Dale's law).

Six paradigms run side by side, as independent groups of one network, in four stages:
acquisition, extinction, blocking (with its control group), overshadowing (a salient cue
recruits twice the neurons), conditioned inhibition (A+ / AX-) and overexpectation (A+,
B+, then AB+). Probes of each cue alone after every trial read the values from the value
neurons; the twin is the Rescorla-Wagner model on the same schedules.

This script runs the quick preset (about 15 s of CPU time once compiled; the first run
compiles Brian2's Cython code, a minute or two on 2 cores) through
:func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run rescorla-wagner --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix`` (the spikes and signals, NEO/NIX), ``raster.png`` and
``comparison.png`` to ``examples/output/rescorla-wagner``. One paradigm alone:
``rw.Params.quick().replace(paradigm="blocking")``.
"""

# %%
# Run the six paradigms and the twin
# ----------------------------------
# All paradigms run side by side as groups of one network; the twin is the
# Rescorla-Wagner model on the same schedules. ``pipeline.run`` simulates the network,
# runs the twin meanwhile, compares the two and writes every output. The figures it
# wrote: the conditioned-inhibition group's raster, then every paradigm's learning
# curves, spiking beside the twin.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import rescorla_wagner as rw

outdir = Path(__file__).resolve().parent / "output" / "rescorla-wagner"
record = pipeline.run("rescorla-wagner", rw.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``rw.METRICS`` (one entry,
# ``curve_correlation_<group>``, documents the learning-curve correlation of every group).

for name, value in record.metrics.items():
    doc = rw.METRICS.get(name, rw.METRICS["curve_correlation_<group>"])
    print(f"{name:42s} {value:8.3f}   {doc}")

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
# The spikes as NEO objects (one segment per training stage), ready for Elephant:
block = record.result.to_neo()
print([segment.name for segment in block.segments], len(block.groups), "populations")
