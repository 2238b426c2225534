"""Plain-data results of a circuit run.

A :class:`Result` holds what a simulation recorded, as NumPy arrays in SI base units
(seconds, hertz, ...), with the unit of every signal written beside it. It knows nothing
of Brian2 objects, so it can be exported (:mod:`spikingml.export`), plotted
(:mod:`spikingml.plotting`), pickled for caching and compared with a twin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Result", "SpikeData", "Signal", "Phase"]


@dataclass
class SpikeData:
    """Spikes of one population.

    Attributes
    ----------
    indices : ndarray of int
        Neuron index of each spike, in ``range(size)``.
    times : ndarray of float
        Spike times in seconds, same length as ``indices``.
    size : int
        Number of neurons in the population, silent ones included.
    """

    indices: np.ndarray
    times: np.ndarray
    size: int

    def __post_init__(self) -> None:
        self.indices = np.asarray(self.indices, dtype=np.int64)
        self.times = np.asarray(self.times, dtype=float)
        if self.indices.shape != self.times.shape:
            raise ValueError("SpikeData: indices and times must have the same length")

    def rate(self, t_start: float, t_stop: float) -> float:
        """Mean rate per neuron (Hz) in ``[t_start, t_stop)``."""
        n = np.count_nonzero((self.times >= t_start) & (self.times < t_stop))
        return n / (self.size * (t_stop - t_start))


@dataclass
class Signal:
    """A regularly sampled recording of one variable from several neurons.

    Attributes
    ----------
    values : ndarray, shape (n_samples, n_channels)
        Samples, in ``unit``.
    dt : float
        Sampling interval in seconds.
    unit : str
        Unit of ``values`` as a string that ``quantities`` understands ("Hz", "mV", "1").
    t_start : float
        Time of the first sample, in seconds.
    channels : ndarray of int
        Index in the source population of each channel.
    population : str
        Population the channels belong to.
    """

    values: np.ndarray
    dt: float
    unit: str
    t_start: float = 0.0
    channels: np.ndarray | None = None
    population: str = ""

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        if self.channels is None:
            self.channels = np.arange(self.values.shape[1])
        self.channels = np.asarray(self.channels, dtype=np.int64)

    @property
    def times(self) -> np.ndarray:
        """Sample times in seconds."""
        return self.t_start + self.dt * np.arange(self.values.shape[0])


@dataclass
class Phase:
    """A named interval of the protocol (for example ``acquisition``), in seconds."""

    name: str
    start: float
    stop: float


@dataclass
class Result:
    """Everything one run of a circuit produced, as plain data.

    Attributes
    ----------
    circuit : str
        Registry name of the circuit (``"td-conditioning"``).
    params : dict
        The parameters, JSON-friendly (quantities as strings).
    seed : int
        Seed of every random draw in the run.
    device : str
        Brian2 device that ran it (``"runtime"`` or ``"cpp_standalone"``).
    populations : dict of str to SpikeData
        Spikes of every recorded population, in display order.
    signals : dict of str to Signal
        Recorded state variables and rates.
    events : dict of str to ndarray
        Event times in seconds (``"CS"``, ``"US"``, ``"reward"``, ...).
    phases : list of Phase
        Named intervals of the protocol, in order, covering the run.
    weights : dict of str to ndarray
        Learned weights and other arrays describing the final network.
    extra : dict
        Circuit-specific plain data (trial tables, schedules).
    simulated_seconds, wall_seconds : float
        Biological time simulated and wall-clock time taken by :func:`simulate`.
    synaptic_events : int
        Spikes delivered through synapses, every pathway (pre and post) counted
        (:class:`spikingml.simulation.SynapticEventCounter`); for benchmarks.
    versions : dict of str to str
        Versions of spikingml, Brian2, NumPy and Python.
    """

    circuit: str
    params: dict[str, Any]
    seed: int
    device: str
    populations: dict[str, SpikeData]
    signals: dict[str, Signal] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)
    phases: list[Phase] = field(default_factory=list)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    simulated_seconds: float = 0.0
    wall_seconds: float = 0.0
    synaptic_events: int = 0
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def t_stop(self) -> float:
        """End of the run in seconds."""
        return self.phases[-1].stop if self.phases else self.simulated_seconds

    def to_neo(self):
        """Return this run as a ``neo.Block`` (see :func:`spikingml.export.to_neo`)."""
        from spikingml.export import to_neo

        return to_neo(self)

    def replace(self, **changes: Any) -> Result:
        """Return a shallow copy with some attributes changed."""
        return dataclasses.replace(self, **changes)
