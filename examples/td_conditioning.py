"""
Dopamine neurons learn a temporal-difference error
===================================================

Classical conditioning after Schultz, Dayan & Montague (1997): a cue (CS) is followed
500 ms later by a reward (US). A time-cell sequence represents the time since the cue, a
critic population learns the value of each moment through a dopamine-gated
(three-factor) rule, and dopamine neurons fire at ``tonic + g [V(t) - V(t - Delta)] +
reward``: a TD error.

Before learning the dopamine neurons burst at the reward; after learning they burst at
the cue and ignore the predicted reward; when the reward is omitted they pause at the
time it was due; in extinction the cue response fades. The twin, TD(lambda) on the same
time bins with alpha and lambda derived from the circuit's parameters, does the same.

This script runs the quick preset (about 10 s once compiled; the first run compiles
Brian2's Cython code, about two minutes on 2 cores) through
:func:`spikingml.pipeline.run`, the function ``spikingml run`` calls: it is
``spikingml run td-conditioning --quick``, from Python. It writes ``metrics.json``,
``params.json``, ``data.nix`` (the spikes and signals, NEO/NIX), ``raster.png``,
``comparison.png`` and ``learning_curves.png`` to ``examples/output/td-conditioning``.
"""

# %%
# Run the circuit and its twin
# ----------------------------
# The quick preset: 40 acquisition trials instead of 150. ``pipeline.run`` simulates the
# circuit (plain data: spikes, events, weights), runs TD(lambda) on the same time bins
# meanwhile, compares the two and writes every output. The figures it wrote: the raster
# of the last trials, ``comparison.png`` (dopamine response beside the TD error, trial by
# time) and ``learning_curves.png``.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import td_conditioning as td

outdir = Path(__file__).resolve().parent / "output" / "td-conditioning"
record = pipeline.run("td-conditioning", td.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``td.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:24s} {value:8.3f}   {td.METRICS[name]}")

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
# The spikes as NEO objects, ready for Elephant:
block = record.result.to_neo()
print(block.segments[0].name, len(block.segments[0].spiketrains), "spike trains")
