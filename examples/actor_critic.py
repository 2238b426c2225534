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
Brian2's Cython code, a few minutes on 2 cores) through :func:`spikingml.pipeline.run`,
the function ``spikingml run`` calls: it is ``spikingml run actor-critic --quick``, from
Python. It writes ``metrics.json``, ``params.json``, ``data.nix`` (spikes, the agent's
path and its value estimate, NEO/NIX), ``raster.png``, ``comparison.png`` and
``trajectories.png`` to ``examples/output/actor-critic``.
"""

# %%
# Run the rat and the twin
# ------------------------
# The quick preset: 15 learning trials of at most 10 s, then control trials with
# learning off. ``pipeline.run`` simulates the closed loop, runs the twin meanwhile,
# compares them and writes every output. The figures it wrote: place, critic and actor
# neurons in the last learning trial; latencies and value maps beside the twin's; the
# swim paths of the first and last trials.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import actor_critic as ac

outdir = Path(__file__).resolve().parent / "output" / "actor-critic"
record = pipeline.run("actor-critic", ac.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How close are they?
# --------------------
# Every metric, with its meaning and target from ``ac.METRICS``.

for name, value in record.metrics.items():
    print(f"{name:24s} {value:8.3f}   {ac.METRICS[name]}")

# %%
# What was written
# ----------------

for name in record.files:
    print("wrote", outdir / name)

# %%
# Export
# ------
#
# ``record.result`` is the simulation (a ``Result``). The spikes, the agent's path and
# its value estimate as NEO objects, ready for Elephant:
block = record.result.to_neo()
print(block.segments[0].name, len(block.segments[0].spiketrains), "spike trains")
