"""spikingml: machine-learning algorithms as spiking circuits, each beside its twin.

The package has three top-level ideas:

- :mod:`spikingml.circuits` -- one module per circuit (parameters, network, protocol);
- :mod:`spikingml.plasticity` -- reusable learning rules as Brian2 equation specs;
- :mod:`spikingml.analysis` -- the abstract ML twins and the metrics comparing them.

Inputs and tasks live in :mod:`spikingml.stimuli`, NEO/NIX export in
:mod:`spikingml.export`, figures in :mod:`spikingml.plotting` and
:mod:`spikingml.figures`, the run pipeline (simulate, twin, compare, outputs) in
:mod:`spikingml.pipeline` and the command line in :mod:`spikingml.cli`. Progress is
logged on the ``spikingml`` loggers (:func:`configure_logging` shows it on stderr).
"""

from spikingml._logging import configure_logging
from spikingml.errors import OutputExistsError, SpikingMLError, ValidationError
from spikingml.result import Phase, Result, Signal, SpikeData

__version__ = "0.1.0"

__all__ = [
    "OutputExistsError",
    "Phase",
    "Result",
    "Signal",
    "SpikeData",
    "SpikingMLError",
    "ValidationError",
    "__version__",
    "configure_logging",
]
