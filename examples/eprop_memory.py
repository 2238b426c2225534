"""
A spiking network that learns to remember a bit for seconds, beside an LSTM
===========================================================================

Bellec et al. (2020): a recurrent network of spiking neurons can learn a task that needs
memory with a local three-factor rule, e-prop. Each synapse keeps an eligibility trace of
its own recent activity; a learning signal, the output error sent back to every neuron
through fixed random weights, turns the trace into a weight change. Half of the neurons
adapt (ALIF: the threshold rises with each spike and relaxes over 1.2 s), and that slow
variable is what can hold the bit (LSNN, Bellec et al. 2018).

The task is store-recall: a stream of 0/1 symbols, a *store* cue with one of them, then
distractors, then a *recall* cue, and the network must report the stored bit 0.8-1.6 s
after it was shown. The same compiled program also trains a LIF-only copy (every
``beta`` = 0: no slow variable), and an LSTM of the same size learns the same trials by
back-propagation through time (JAX; the extra ``lstm``).

This script runs the quick preset (shorter trials; about two minutes, most of it
compiling and running the cpp_standalone program) through
:func:`spikingml.pipeline.run`: it is ``spikingml run eprop-memory --quick``, from
Python. It writes ``metrics.json``, ``params.json``, ``data.nix``, ``raster.png`` and
``comparison.png`` to ``examples/output/eprop-memory``. It needs the extra ``lstm``
(``pip install 'spikingml[lstm]'``).
"""

# %%
# Train the three networks
# ------------------------
# The spiking networks learn online, many trials at once as copies of the network
# sharing their weights, then are tested on new trials with learning off; the LSTM
# learns the same training trials.

from pathlib import Path

from spikingml import pipeline
from spikingml.circuits import eprop_memory as em

outdir = Path(__file__).resolve().parent / "output" / "eprop-memory"
record = pipeline.run("eprop-memory", em.Params.quick(), seed=0, out=outdir, force=True)

# %%
# Who remembers, and for how long?
# --------------------------------
# Test accuracy per delay (store cue to recall cue) for each model; chance is 0.5.

prefixes = {"LIF + ALIF": "", "LIF only": "lif_", "LSTM": "lstm_"}
delays = sorted(
    int(k[len("recall_accuracy_") : -2])
    for k in record.metrics
    if k.startswith("recall_accuracy_") and k.endswith("ms")
)
print("delay (ms)   " + "".join(f"{d:>7d}" for d in delays))
for model, prefix in prefixes.items():
    accs = [record.metrics[f"{prefix}recall_accuracy_{d}ms"] for d in delays]
    print(f"{model:12s} " + "".join(f"{a:7.2f}" for a in accs))

# %%
# The summary metrics
# -------------------

for name in ("recall_accuracy_long", "lif_recall_accuracy_long", "lstm_recall_accuracy_long"):
    print(f"{name:28s} {record.metrics[name]:.3f}   ({em.METRICS[name]})")
for name in ("trials_to_95", "lstm_trials_to_95", "firing_rate_hz"):
    print(f"{name:28s} {record.metrics[name]:.1f}")

for name in record.files:
    print("wrote", outdir / name)
