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

This script runs the quick preset (about 15 s of CPU time once compiled; the first run compiles
Brian2's Cython code, a minute or two on 2 cores) and writes ``raster.png`` and
``comparison.png`` to ``examples/output/rescorla-wagner``: the same as
``spikingml run rescorla-wagner --quick``, from Python. One paradigm alone:
``rw.Params.quick().replace(paradigm="blocking")``.
"""

# %%
# Run the six paradigms and the twin
# ----------------------------------
# All paradigms run side by side as groups of one network; the twin is the
# Rescorla-Wagner model on the same schedules.

from pathlib import Path

from spikingml.circuits import rescorla_wagner as rw
from spikingml.plotting import raster, save_figure

params = rw.Params.quick()
result = rw.simulate(params, seed=0)
twin = rw.twin(params)
metrics = rw.compare(result, twin)

# %%
# How close are they?
# --------------------

for name, value in metrics.items():
    doc = rw.METRICS.get(name, rw.METRICS["curve_correlation_<group>"])
    print(f"{name:42s} {value:8.3f}   {doc}")

# %%
# Figures
# -------
# The conditioned-inhibition group's raster, then every paradigm's learning curves,
# spiking beside the twin.

outdir = Path(__file__).resolve().parent / "output" / "rescorla-wagner"
outdir.mkdir(parents=True, exist_ok=True)
ax_raster, _ = raster(result, **rw.raster_options(result))
save_figure(ax_raster.figure, outdir / "raster.png")
for path in [outdir / "raster.png", *rw.figures(result, twin, outdir)]:
    print("wrote", path)

# %%
# Export
# ------
#
# The spikes as NEO objects (one segment per training stage), ready for Elephant:
block = result.to_neo()
print([segment.name for segment in block.segments], len(block.groups), "populations")
