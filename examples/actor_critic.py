"""
A spiking actor-critic learns the water maze
============================================

After Fremaux, Sprekeler & Gerstner (2013): a simulated rat swims in a square pool
looking for a hidden platform. Place cells tell where it is; a critic population learns
the value of each place, and an actor ring, whose bump of activity sets the swimming
direction, learns which way to go. Both learn from one neuromodulatory signal, the
continuous-time TD error ``delta = r - V / tau_r + dV/dt`` (Doya 2000), through
three-factor plasticity. The pool, the walls, the platform, the reward and the return
to a start position after each trial are Brian2 equations and events, so the closed
loop runs without Python callbacks (and under ``cpp_standalone``).

Early trials wander until the timeout; after a dozen trials the rat swims almost
straight to the platform. The twin, a linear actor-critic with TD(lambda) on the same
place-cell features, learns the same map; the control (learning switched off) shows how
long the search takes without it.

This script runs the quick preset (about a minute once compiled; the first run compiles
Brian2's Cython code, a few minutes on 2 cores) and writes ``raster.png``,
``comparison.png`` and ``trajectories.png`` to ``examples/output/actor-critic``. The same
as ``spikingml run actor-critic --quick``, from Python.
"""

# %%
# Run the rat and the twin
# ------------------------
# The quick preset: 15 learning trials of at most 10 s, then control trials with
# learning off.

from pathlib import Path

from spikingml.circuits import actor_critic as ac
from spikingml.plotting import raster, save_figure

params = ac.Params.quick()
result = ac.simulate(params, seed=0)
twin = ac.twin(params, seed=0)
metrics = ac.compare(result, twin)

# %%
# How close are they?
# --------------------

for name, value in metrics.items():
    print(f"{name:24s} {value:8.3f}   {ac.METRICS[name]}")

# %%
# Figures
# -------
# Place, critic and actor neurons in the last learning trial; latencies and value maps
# beside the twin's; the swim paths of the first and last trials.

outdir = Path(__file__).resolve().parent / "output" / "actor-critic"
outdir.mkdir(parents=True, exist_ok=True)
t_start, t_stop = ac.raster_window(result)
ax_raster, _ = raster(result, t_start=t_start, t_stop=t_stop, events=("goal", "trial_end"))
save_figure(ax_raster.figure, outdir / "raster.png")
for path in ac.figures(result, twin, outdir):
    print("wrote", path)

# %%
# Export
# ------
#
# The spikes, the agent's path and its value estimate as NEO objects, ready for Elephant:
block = result.to_neo()
print(block.segments[0].name, len(block.segments[0].spiketrains), "spike trains")
