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
Brian2's Cython code, about two minutes on 2 cores) and writes ``raster.png``,
``comparison.png`` and ``learning_curves.png`` to ``examples/output/td-conditioning``. The
same as
``spikingml run td-conditioning --quick``, from Python.
"""

# %%
# Run the circuit and its twin
# ----------------------------
# The quick preset: 40 acquisition trials instead of 150. ``simulate`` returns plain
# data (spikes, events, weights); ``twin`` runs TD(lambda) on the same time bins.

from pathlib import Path

from spikingml.circuits import td_conditioning as td
from spikingml.plotting import raster, save_figure

params = td.Params.quick()
result = td.simulate(params, seed=0)
twin = td.twin(params)
metrics = td.compare(result, twin)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``td.METRICS``.

for name, value in metrics.items():
    print(f"{name:24s} {value:8.3f}   {td.METRICS[name]}")

# %%
# Figures
# -------
# The raster of the last trials, then the circuit's own figures: ``comparison.png``
# (dopamine response beside the TD error, trial by time) and ``learning_curves.png``.

outdir = Path(__file__).resolve().parent / "output" / "td-conditioning"
outdir.mkdir(parents=True, exist_ok=True)
ax_raster, _ = raster(
    result, t_start=td.raster_window(result)[0], t_stop=td.raster_window(result)[1]
)
save_figure(ax_raster.figure, outdir / "raster.png")
for path in td.figures(result, twin, outdir):
    print("wrote", path)

# %%
# Export
# ------
#
# The spikes as NEO objects, ready for Elephant:
block = result.to_neo()
print(block.segments[0].name, len(block.segments[0].spiketrains), "spike trains")
