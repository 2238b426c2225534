"""
A liquid state machine beside echo state networks: how long does a random column remember?
==========================================================================================

Maass, Natschläger & Markram (2002) and Jaeger (2001) proposed the same idea twice: a
fixed random recurrent network holds a fading memory of its input, and only a linear
readout is trained. Here a column of LIF neurons (80% excitatory, 20% inhibitory,
connections more likely between neighbours, Tsodyks-Markram dynamic synapses, adapting
excitatory neurons) is driven by a scalar input coded as the rate of 40 input neurons,
through input currents whose time constants range from 5 to 300 ms (the slow mechanism),
and its spikes, filtered, are read out every bin. Beside it run a copy with static
recurrent synapses, a copy without the slow input currents, and three echo state
networks built with reservoirpy:
the rate twin (the column's own structure with tanh units), a standard tanh ESN, and a
linear ESN whose memory capacity, close to N, checks the estimator.

This script runs the quick preset (100 neurons, 200 XOR trials; 34-36 s on two shared
cores, most of it compiling the cpp_standalone program: ``benchmarks/results/reservoir.md``)
through :func:`spikingml.pipeline.run`: it is ``spikingml run reservoir --quick``, from
Python. It writes ``metrics.json``, ``params.json``, ``data.nix``, ``raster.png`` and
``comparison.png`` to ``examples/output/reservoir``. It needs the extra ``reservoir``
(reservoirpy).
"""

# %%
# Run the column and the echo state networks
# ------------------------------------------
# The memory phase (i.i.d. input per bin) gives the memory capacity, NARMA-10 and the
# separation curve; the XOR phase gives the delayed XOR of two bursts, every trial
# classified by a readout fitted on the other nine tenths of the trials. The quick preset
# at seeds 0-2: memory capacity 1.30-1.77 (rate twin 6.8-7.4), XOR 0.905-0.930 (standard
# error about 0.02 over 200 trials; the default preset's 600 trials give 0.957-0.985).

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import reservoir as res

outdir = Path(__file__).resolve().parent / "output" / "reservoir"
record = pipeline.run("reservoir", res.Params.quick(), seed=0, out=outdir, force=True)

# %%
# How much do they remember?
# --------------------------
# Every metric but the per-delay curves, with its meaning and target from ``res.METRICS``.

for name, value in record.metrics.items():
    if not name.startswith("r2_"):
        print(f"{name:26s} {value:9.4f}")

# %%
# The memory curve, delay by delay
# --------------------------------
# r^2 of u(t - k) read from each model's state (the first delays; the figure shows 20).

for model in ("lsm", "static", "fast", "rate_twin", "esn"):
    curve = [record.metrics[f"r2_{model}_delay_{k}"] for k in range(1, res.CURVE_DELAYS + 1)]
    print(f"{model:10s}", " ".join(f"{v:5.2f}" for v in curve))

for name in record.files:
    print("wrote", outdir / name)
