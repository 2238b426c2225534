"""Export a :class:`~spikingml.result.Result` as NEO objects and NIX files.

Conventions (see "NEO export conventions" in the design notes)
--------------------------------------------------------------
* One :class:`neo.Block` per run, named after the circuit and annotated with
  ``circuit`` (str), ``seed`` (int), ``device`` (str), ``simulated_seconds`` and
  ``wall_seconds`` (float), and ``params`` and ``versions`` as JSON strings: NIX
  annotations must be simple values, so nested mappings are serialised
  (``json.loads(block.annotations["params"])`` gives them back).
* One :class:`neo.Segment` per phase of the protocol, named after the phase, holding
  what happened in the half-open interval ``[start, stop)``; a run without phases gives
  one segment, ``"run"``, covering ``[0, result.t_stop)``.
* In every segment, every neuron of every population has a :class:`neo.SpikeTrain`,
  silent neurons included (as empty trains), its spike times in increasing order. Each
  train is named ``"population[index]"``, spans the phase (``t_start``/``t_stop``) and is
  annotated ``source_population`` (str) and ``source_index`` (int).
* Every recorded :class:`~spikingml.result.Signal` becomes one
  :class:`neo.AnalogSignal` per segment (time x channels), cut to the phase, with its
  units (``"1"`` means dimensionless), ``sampling_period``, ``t_start``, the
  annotations ``signal`` (its key in ``result.signals``) and ``source_population``, and
  the array annotation ``channel_index`` (index of each channel in its population).
* Every ``result.events[name]`` becomes a :class:`neo.Event` named ``name`` (each label
  is ``name`` too), cut to the phase.
* One :class:`neo.Group` per population, named after it and annotated
  ``source_population``, gathers that population's spike trains across segments and
  the signals recorded from it.

Times are in seconds throughout. Spikes, samples and events that fall outside every
phase cannot be placed in a segment: they are left out *with a warning*, never
silently. ``result.weights`` and ``result.extra`` have no NEO counterpart and are not
exported to NEO (nor to NIX); the NWB file keeps them.

:func:`write_nix` writes a run (or any block) to a NIX file atomically and refuses to
overwrite unless asked; :func:`read_nix` reads it back. :func:`from_neo` turns such a
block back into a :class:`Result` (without weights and extra).

NWB (Neurodata Without Borders, extra ``nwb``)
-----------------------------------------------
:func:`write_nwb` writes a whole :class:`Result` with ``pynwb`` (NEO's own NWB writer
drops spike-train annotations); :func:`read_nwb` gives the :class:`Result` back, with
every field (spikes come back sorted by time within each population). The layout:

* ``units``: one row per neuron of every population, silent ones included, in
  population order; ``spike_times`` in seconds (float64, so exact), and the columns
  ``population`` (str) and ``population_index`` (int, index of the neuron in it).
* ``epochs``: one row per phase, ``start_time``/``stop_time`` in seconds, ``tags`` =
  ``[phase name]``.
* ``intervals["events"]``: one row per event, sorted by time, with ``start_time`` =
  ``stop_time`` = the event time and the column ``label`` (its key in
  ``result.events``).
* ``acquisition[key]``: one :class:`pynwb.TimeSeries` per signal (time x channels) with
  its ``unit``, ``starting_time`` and ``rate`` = 1 / dt.
* What NWB has no place for is in ``scratch``: ``scratch["spikingml"]``, a JSON string
  with the circuit, params, seed, device, versions, run times, synaptic events, the
  sizes of the populations, the exact ``dt``, channels and population of every signal,
  the order of event keys (empty ones included), and ``result.extra`` (NumPy arrays,
  NumPy scalars and tuples tagged so that they come back as such); and one ``scratch`` array per
  entry of ``result.weights`` (``weights_0``, ``weights_1``, ... described by their key).
  A value of ``extra`` that JSON cannot hold is stored as its ``repr`` with a warning.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

import neo
import numpy as np
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList

from spikingml._files import write_atomically
from spikingml._nix_fast import write_block_fast
from spikingml.errors import OutputExistsError, ValidationError
from spikingml.result import Phase, Result, Signal, SpikeData

__all__ = ["to_neo", "from_neo", "write_nix", "read_nix", "write_nwb", "read_nwb"]

# Tolerance, in samples, when deciding on which side of a phase boundary a sample lies:
# sample times t_start + k * dt carry rounding errors of a few ulps.
_SAMPLE_TOL = 1e-6


def _units(unit: str, where: str) -> pq.Quantity:
    """Map a unit string of a :class:`Signal` to a ``quantities`` unit."""
    text = unit.strip()
    if text in ("", "1"):
        return pq.dimensionless
    try:
        return pq.Quantity(1.0, text).units
    except (LookupError, ValueError, SyntaxError, TypeError) as err:
        raise ValidationError(where, "a unit string that quantities understands", unit) from err


def _phases(result: Result) -> list[Phase]:
    if result.phases:
        return list(result.phases)
    return [Phase("run", 0.0, float(result.t_stop))]


def _outside(times: np.ndarray, phases: Sequence[Phase]) -> int:
    """Number of ``times`` in none of the phases' ``[start, stop)`` intervals."""
    inside = np.zeros(times.shape, dtype=bool)
    for ph in phases:
        inside |= (times >= ph.start) & (times < ph.stop)
    return int(np.count_nonzero(~inside))


def _sample_range(sig: Signal, start: float, stop: float) -> tuple[int, int]:
    """Indices ``[i0, i1)`` of the samples of ``sig`` whose time lies in ``[start, stop)``."""
    n = sig.values.shape[0]
    i0 = int(np.ceil((start - sig.t_start) / sig.dt - _SAMPLE_TOL))
    i1 = int(np.ceil((stop - sig.t_start) / sig.dt - _SAMPLE_TOL))
    return min(max(i0, 0), n), min(max(i1, 0), n)


def _spiketrains(
    name: str, size: int, times: np.ndarray, indices: np.ndarray, start: float, stop: float
) -> list[neo.SpikeTrain]:
    """Spike trains of every neuron of one population in ``[start, stop)``.

    One sort by (neuron, time) and one slice per neuron: a run writes thousands of
    trains, so the per-train cost counts.
    """
    mask = (times >= start) & (times < stop)
    t, idx = times[mask], indices[mask]
    t = np.ascontiguousarray(t[np.lexsort((t, idx))], dtype=np.float64)
    bounds = np.r_[0, np.cumsum(np.bincount(idx, minlength=size))]
    # the unit as an object and the dtype given: NEO then parses no unit string and
    # converts nothing
    t_start, t_stop = start * pq.s, stop * pq.s
    return [
        neo.SpikeTrain(
            t[bounds[i] : bounds[i + 1]],
            units=pq.s,
            dtype=np.float64,
            t_start=t_start,
            t_stop=t_stop,
            name=f"{name}[{i}]",
            source_population=name,
            source_index=i,
        )
        for i in range(size)
    ]


def to_neo(result: Result) -> neo.Block:
    """Convert a run to a NEO block.

    Parameters
    ----------
    result : Result
        The run to export.

    Returns
    -------
    neo.Block
        One block with a segment per phase and a group per population, laid out as
        described in the module docstring; parent/child relationships are set.

    Raises
    ------
    ValidationError
        If a signal's unit is not understood by ``quantities``.

    Warns
    -----
    UserWarning
        If spikes, samples or events fall outside every phase (they are not exported).
    """
    phases = _phases(result)
    block = neo.Block(
        name=result.circuit,
        description=f"spikingml run of {result.circuit!r} (seed {result.seed})",
        circuit=str(result.circuit),
        seed=int(result.seed),
        device=str(result.device),
        simulated_seconds=float(result.simulated_seconds),
        wall_seconds=float(result.wall_seconds),
        params=json.dumps(result.params, sort_keys=True, default=str),
        versions=json.dumps(result.versions, sort_keys=True, default=str),
    )

    groups: dict[str, neo.Group] = {}

    def group(population: str) -> neo.Group:
        if population not in groups:
            groups[population] = neo.Group(
                name=population,
                allowed_types=[neo.SpikeTrain, neo.AnalogSignal],
                source_population=population,
            )
        return groups[population]

    for pop in result.populations:
        group(pop)

    lost: list[str] = []
    for pop, sd in result.populations.items():
        n = _outside(sd.times, phases)
        if n:
            lost.append(f"{n} spike(s) of population {pop!r}")
    for key, sig in result.signals.items():
        n = _outside(sig.times, phases)
        if n:
            lost.append(f"{n} sample(s) of signal {key!r}")
    for key, ev in result.events.items():
        n = _outside(np.asarray(ev, dtype=float).ravel(), phases)
        if n:
            lost.append(f"{n} {key!r} event(s)")
    if lost:
        warnings.warn(
            "NEO export: outside every phase, so not exported: " + ", ".join(lost),
            UserWarning,
            stacklevel=2,
        )

    units = {
        key: _units(sig.unit, f"Result.signals[{key!r}].unit")
        for key, sig in result.signals.items()
    }

    group_trains: dict[str, list[neo.SpikeTrain]] = {pop: [] for pop in result.populations}
    for k, ph in enumerate(phases):
        seg = neo.Segment(name=ph.name, index=k, phase=ph.name)
        start, stop = float(ph.start), float(ph.stop)

        seg_trains = []
        for pop, sd in result.populations.items():
            trains = _spiketrains(pop, int(sd.size), sd.times, sd.indices, start, stop)
            seg_trains.extend(trains)
            group_trains[pop].extend(trains)
        # one list at once: appending checks each train against every train already
        # there (thousands of trains: a quadratic cost); these are all new and distinct
        seg.spiketrains = SpikeTrainList(items=seg_trains, parent=seg)

        for key, sig in result.signals.items():
            i0, i1 = _sample_range(sig, start, stop)
            if i1 <= i0:
                continue
            population = sig.population or key
            asig = neo.AnalogSignal(
                sig.values[i0:i1],
                units=units[key],
                sampling_period=sig.dt * pq.s,
                t_start=(sig.t_start + i0 * sig.dt) * pq.s,
                name=key,
                array_annotations={"channel_index": np.asarray(sig.channels, dtype=np.int64)},
                signal_name=key,
                source_population=population,
            )
            seg.analogsignals.append(asig)
            group(population).add(asig)

        for key, ev in result.events.items():
            t = np.sort(np.asarray(ev, dtype=float).ravel())
            t = t[(t >= start) & (t < stop)]
            seg.events.append(
                neo.Event(t * pq.s, labels=np.array([key] * len(t), dtype="U"), name=key)
            )

        block.segments.append(seg)

    for pop, trains in group_trains.items():
        groups[pop].spiketrains = SpikeTrainList(items=trains)
    block.groups.extend(groups.values())
    block.create_relationship()
    block.check_relationships()
    return block


def write_nix(
    result_or_block: Result | neo.Block, path: str | os.PathLike, *, force: bool = False
) -> Path:
    """Write a run to a NIX file, atomically.

    The block is written to a temporary file in the destination directory, which then
    replaces ``path`` in one step, so a crash never leaves a half-written file behind.

    Parameters
    ----------
    result_or_block : Result or neo.Block
        What to write; a :class:`Result` is converted with :func:`to_neo` first.
    path : str or path-like
        Destination file (conventionally ``.nix``).
    force : bool, optional
        Overwrite ``path`` if it exists. Default ``False``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    ValidationError
        If ``path`` is a directory or its directory does not exist.

    Notes
    -----
    The file is written in exactly the layout of ``neo.io.NixIO`` (nixio format 1.2.1)
    by :func:`spikingml._nix_fast.write_block_fast`, which calls the HDF5 library
    directly and copies one template per kind of spike train: ~2 ms per train instead
    of NixIO's ~35 ms, identical HDF5 objects, and the file reads back with
    ``neo.io.NixIO``. Blocks it does not handle are written by NixIO itself. NixIO
    annotates every written NEO object
    with a ``nix_name``; when a block is passed in, it is modified that way.
    """
    path = _destination(path, force)
    block = to_neo(result_or_block) if isinstance(result_or_block, Result) else result_or_block
    return _write_atomically(path, lambda tmp: write_block_fast(block, tmp))


def _destination(path: str | os.PathLike, force: bool) -> Path:
    """Check that a file can be written at ``path``; return it as a :class:`Path`."""
    path = Path(path)
    if path.is_dir():
        raise ValidationError("path", "a file name, not a directory", str(path))
    if not path.parent.is_dir():
        raise ValidationError("path", "a file in an existing directory", str(path))
    if path.exists() and not force:
        raise OutputExistsError(f"{path} already exists; pass force=True to overwrite it")
    return path


def _write_atomically(path: Path, write) -> Path:
    """Call ``write(tmp)`` on a temporary name next to ``path``, then move it to ``path``."""
    # spikingml._files: a fresh name that keeps the extension (pynwb checks it), created
    # by the writer itself (so with the umask's permissions), removed if the write fails
    return write_atomically(path, write)


def read_nix(path: str | os.PathLike) -> neo.Block:
    """Read the first block of a NIX file.

    Parameters
    ----------
    path : str or path-like
        A NIX file, such as one written by :func:`write_nix`.

    Returns
    -------
    neo.Block
        The block, fully loaded (the file is closed before returning).

    Raises
    ------
    ValidationError
        If ``path`` is not an existing, readable NIX file holding a block (an empty,
        truncated or foreign file, a plain HDF5 file); the message names the file and
        what the reader found.
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError("path", "an existing NIX file", str(path))
    try:
        io = neo.io.NixIO(str(path), mode="ro")
        try:
            block = io.read_block(lazy=False)
        finally:
            io.close()
    except Exception as exc:  # a damaged or foreign file fails in h5py, nixio or neo
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:120]
        raise ValidationError("path", "a readable NIX file", f"{path} ({reason})") from exc
    if block is None:
        raise ValidationError("path", "a NIX file holding a NEO block", f"{path} (none)")
    return block


# -------------------------------------------------------------------- NEO -> Result


def _unit_string(units: pq.Quantity) -> str:
    text = units.dimensionality.string
    return "1" if text in ("dimensionless", "") else text


def _loads(value, default):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return default if value is None else value


def from_neo(block: neo.Block) -> Result:
    """Turn a block laid out by :func:`to_neo` back into a :class:`Result`.

    The block may come from :func:`read_nix`. Phases come from the segments (their spike
    trains' ``t_start``/``t_stop``), spikes from the trains'
    ``source_population``/``source_index`` annotations (a population's size is its number of
    trains), signals from the analog signals (pieces of one signal in successive segments
    are joined; a gap between phases is filled with NaN), events from the :class:`neo.Event`
    objects, and circuit, params, seed, device, run times and versions from the block's
    annotations. ``weights`` and ``extra`` are empty: NEO does not hold them.

    Parameters
    ----------
    block : neo.Block
        The run as NEO objects.

    Returns
    -------
    Result

    Warns
    -----
    UserWarning
        Naming any data objects it cannot carry (irregularly sampled signals, epochs,
        ...), which are left out.
    """
    ann = block.annotations
    phases: list[Phase] = []
    spikes: dict[str, dict[int, list[np.ndarray]]] = {}
    pieces: dict[str, list[neo.AnalogSignal]] = {}
    events: dict[str, list[np.ndarray]] = {}
    skipped: dict[str, int] = {}
    for k, seg in enumerate(block.segments):
        children = [*seg.spiketrains, *seg.analogsignals, *seg.events]
        if seg.spiketrains:
            start = float(seg.spiketrains[0].t_start.rescale("s").magnitude)
            stop = float(seg.spiketrains[0].t_stop.rescale("s").magnitude)
        elif children:
            start = float(seg.t_start.rescale("s").magnitude)
            stop = float(seg.t_stop.rescale("s").magnitude)
        else:
            start = stop = phases[-1].stop if phases else 0.0
        phases.append(
            Phase(str(seg.annotations.get("phase", seg.name or f"segment_{k}")), start, stop)
        )
        for j, st in enumerate(seg.spiketrains):
            pop = str(st.annotations.get("source_population", "spiketrains"))
            index = int(st.annotations.get("source_index", j))
            times = np.asarray(st.times.rescale("s").magnitude, dtype=float)
            spikes.setdefault(pop, {}).setdefault(index, []).append(times)
        for asig in seg.analogsignals:
            key = str(asig.annotations.get("signal_name", asig.name or "signal"))
            pieces.setdefault(key, []).append(asig)
        for ev in seg.events:
            key = str(ev.name or "event")
            events.setdefault(key, []).append(np.asarray(ev.times.rescale("s").magnitude))
        for attr in ("irregularlysampledsignals", "epochs", "imagesequences"):
            n = len(getattr(seg, attr, []))
            if n:
                skipped[attr] = skipped.get(attr, 0) + n
    if skipped:
        warnings.warn(
            "from_neo: no Result counterpart, so left out: "
            + ", ".join(f"{n} {kind}" for kind, n in skipped.items()),
            UserWarning,
            stacklevel=2,
        )

    populations = {}
    for pop, trains in spikes.items():
        size = max(trains) + 1
        idx = np.concatenate(
            [np.full(len(t), i, dtype=np.int64) for i in sorted(trains) for t in trains[i]]
            or [np.zeros(0, np.int64)]
        )
        times = np.concatenate([t for i in sorted(trains) for t in trains[i]] or [np.zeros(0)])
        order = np.lexsort((idx, times))
        populations[pop] = SpikeData(idx[order], times[order], size)

    signals = {}
    for key, parts in pieces.items():
        first = parts[0]
        dt = float(first.sampling_period.rescale("s").magnitude)
        t0 = float(first.t_start.rescale("s").magnitude)
        values = []
        n = 0
        for part in parts:
            k0 = int(round((float(part.t_start.rescale("s").magnitude) - t0) / dt))
            if k0 > n:  # a gap between phases
                values.append(np.full((k0 - n, part.shape[1]), np.nan))
                n = k0
            values.append(np.asarray(part.magnitude, dtype=float))
            n += part.shape[0]
        channels = first.array_annotations.get("channel_index")
        signals[key] = Signal(
            np.concatenate(values),
            dt=dt,
            unit=_unit_string(first.units),
            t_start=t0,
            channels=None if channels is None else np.asarray(channels, dtype=np.int64),
            population=str(first.annotations.get("source_population", "")),
        )

    return Result(
        circuit=str(ann.get("circuit", block.name or "")),
        params=_loads(ann.get("params"), {}),
        seed=int(ann.get("seed", 0)),
        device=str(ann.get("device", "")),
        populations=populations,
        signals=signals,
        events={key: np.concatenate(parts) for key, parts in events.items()},
        phases=phases,
        simulated_seconds=float(ann.get("simulated_seconds", phases[-1].stop if phases else 0)),
        wall_seconds=float(ann.get("wall_seconds", 0.0)),
        versions=_loads(ann.get("versions"), {}),
    )


# ------------------------------------------------------------------------------ NWB

#: Name of the scratch entry holding what NWB has no place for (JSON).
NWB_META = "spikingml"
_NWB_LAYOUT = 1


def _pynwb():
    try:
        import pynwb
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "NWB export needs pynwb: pip install 'spikingml[nwb]' (or pip install pynwb)"
        ) from err
    return pynwb


def _encode(value, where: str, lost: list[str]):
    """``value`` as JSON-ready data; arrays and tuples tagged to come back as such."""
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":  # before float
        return {"__scalar__": value.item(), "dtype": value.dtype.str}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufU":
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": value.shape}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]", lost) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]", lost) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v, f"{where}[{k!r}]", lost) for k, v in value.items()}
        return {
            "__items__": [
                [_encode(k, f"{where} key", lost), _encode(v, f"{where}[{k!r}]", lost)]
                for k, v in value.items()
            ]
        }
    lost.append(f"{where} ({type(value).__name__})")
    return {"__repr__": repr(value)}


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return np.array(value["__ndarray__"], dtype=value["dtype"]).reshape(value["shape"])
    if "__scalar__" in value:
        return np.dtype(value["dtype"]).type(value["__scalar__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {_decode(k): _decode(v) for k, v in value["__items__"]}
    if "__repr__" in value and len(value) == 1:
        return value["__repr__"]
    return {k: _decode(v) for k, v in value.items()}


def _nwb_name(key: str, taken: set[str], fallback: str) -> str:
    """``key`` if it can name an NWB object (no '/', unique), else ``fallback``."""
    name = key if key and "/" not in key and key not in taken else fallback
    taken.add(name)
    return name


def _nwbfile(result: Result):
    """Build the ``pynwb.NWBFile`` of a run (layout in the module docstring)."""
    import datetime

    from hdmf.common import VectorData, VectorIndex
    from pynwb import NWBFile, TimeSeries
    from pynwb.epoch import TimeIntervals
    from pynwb.misc import Units

    from spikingml import __version__

    nwb = NWBFile(
        session_description=(
            f"spikingml run of {result.circuit!r} (seed {result.seed}, device {result.device})"
        ),
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.datetime.now(datetime.UTC),
        source_script=f"spikingml {__version__}",
        source_script_file_name="spikingml",
        notes=(
            "Brian2 simulation written by spikingml.export.write_nwb. Times in seconds from "
            f"the start of the simulation. scratch[{NWB_META!r}] holds what NWB has no "
            "place for (params, versions, signal channels, extra) as JSON; "
            "spikingml.export.read_nwb reads the whole run back."
        ),
    )
    lost: list[str] = []
    meta = {
        "layout": _NWB_LAYOUT,
        "circuit": result.circuit,
        "params": _encode(result.params, "Result.params", lost),
        "seed": int(result.seed),
        "device": str(result.device),
        "simulated_seconds": float(result.simulated_seconds),
        "wall_seconds": float(result.wall_seconds),
        "synaptic_events": int(result.synaptic_events),
        "versions": _encode(result.versions, "Result.versions", lost),
        "populations": {pop: int(sd.size) for pop, sd in result.populations.items()},
        "signals": {},
        "events": {},
        "weights": {},
        "extra": _encode(result.extra, "Result.extra", lost),
    }

    # units: every neuron of every population, spike times sorted per neuron
    spike_times, counts, pop_col, index_col = [], [], [], []
    for pop, sd in result.populations.items():
        if len(sd.indices) and (sd.indices.min() < 0 or sd.indices.max() >= sd.size):
            raise ValidationError(
                f"Result.populations[{pop!r}].indices", f"indices in range({sd.size})", "others"
            )
        order = np.lexsort((sd.times, sd.indices))
        idx, times = sd.indices[order], sd.times[order]
        n = np.bincount(idx, minlength=int(sd.size)) if len(idx) else np.zeros(int(sd.size))
        spike_times.append(times)
        counts.append(np.asarray(n, dtype=np.int64))
        pop_col.extend([pop] * int(sd.size))
        index_col.append(np.arange(int(sd.size), dtype=np.int64))
    if pop_col:
        flat = np.concatenate(spike_times)
        st = VectorData(name="spike_times", description="spike times (s)", data=flat)
        nwb.units = Units(
            name="units",
            description="every neuron of every population, silent ones included",
            id=np.arange(len(pop_col)),
            columns=[
                st,
                VectorIndex(
                    name="spike_times_index", data=np.cumsum(np.concatenate(counts)), target=st
                ),
                VectorData(name="population", description="population", data=pop_col),
                VectorData(
                    name="population_index",
                    description="index of the neuron in its population",
                    data=np.concatenate(index_col),
                ),
            ],
        )

    for ph in result.phases:
        nwb.add_epoch(start_time=float(ph.start), stop_time=float(ph.stop), tags=[ph.name])

    rows = []
    for key, ev in result.events.items():
        arr = np.asarray(ev, dtype=float)
        meta["events"][key] = list(arr.shape)
        rows.extend((t, key, i) for i, t in enumerate(arr.ravel()))
    if rows:
        rows.sort(key=lambda row: row[0])
        table = TimeIntervals(name="events", description="events of the protocol (s)")
        table.add_column("label", "event name (key in Result.events)")
        table.add_column("position", "index of the event in its array (flattened)")
        for t, key, i in rows:
            table.add_row(start_time=float(t), stop_time=float(t), label=key, position=i)
        nwb.add_time_intervals(table)

    taken: set[str] = set()
    for k, (key, sig) in enumerate(result.signals.items()):
        name = _nwb_name(key, taken, f"signal_{k}")
        meta["signals"][key] = {
            "name": name,
            "dt": float(sig.dt),
            "t_start": float(sig.t_start),
            "unit": sig.unit,
            "population": sig.population,
            "channels": np.asarray(sig.channels).tolist(),
        }
        nwb.add_acquisition(
            TimeSeries(
                name=name,
                data=sig.values,
                unit=sig.unit,
                starting_time=float(sig.t_start),
                rate=1.0 / float(sig.dt),
                description=(
                    f"Result.signals[{key!r}], population {sig.population!r}, channels "
                    f"{np.asarray(sig.channels).tolist()}"
                )[:1000],
            )
        )

    for k, (key, w) in enumerate(result.weights.items()):
        arr = np.asarray(w)
        if arr.ndim == 0 or arr.dtype.kind not in "biuf" or arr.size == 0:
            meta["weights"][key] = {"json": _encode(w, f"Result.weights[{key!r}]", lost)}
            continue
        name = f"weights_{k}"
        meta["weights"][key] = {"scratch": name}
        nwb.add_scratch(arr, name=name, description=f"Result.weights[{key!r}]")

    if lost:
        warnings.warn(
            "NWB export: JSON cannot hold these values, stored as their repr: " + ", ".join(lost),
            UserWarning,
            stacklevel=3,
        )
    nwb.add_scratch(
        json.dumps(meta),
        name=NWB_META,
        description="spikingml Result fields NWB has no place for (JSON)",
    )
    return nwb


def write_nwb(
    result_or_block: Result | neo.Block, path: str | os.PathLike, *, force: bool = False
) -> Path:
    """Write a run to an NWB file (HDF5), atomically.

    Written with ``pynwb`` in the layout described in the module docstring, into a
    temporary file in the destination directory that then replaces ``path`` in one step.

    Parameters
    ----------
    result_or_block : Result or neo.Block
        What to write; a block (such as one from :func:`read_nix`) is converted with
        :func:`from_neo` first, so it carries no weights or extra.
    path : str or path-like
        Destination file (conventionally ``.nwb``).
    force : bool, optional
        Overwrite ``path`` if it exists. Default ``False``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    ValidationError
        If ``path`` is a directory or its directory does not exist.
    ImportError
        If ``pynwb`` is not installed (extra ``nwb``).

    Warns
    -----
    UserWarning
        If a value of ``result.extra`` (or params, versions) cannot be written as JSON;
        its ``repr`` is stored instead.
    """
    path = _destination(path, force)
    pynwb = _pynwb()
    result = result_or_block if isinstance(result_or_block, Result) else from_neo(result_or_block)
    nwb = _nwbfile(result)

    def write(tmp: str) -> None:
        with pynwb.NWBHDF5IO(tmp, mode="w") as io:
            io.write(nwb)

    return _write_atomically(path, write)


def read_nwb(path: str | os.PathLike) -> Result:
    """Read a run written by :func:`write_nwb` back as a :class:`Result`.

    Every field comes back: spikes (sorted by time within each population, times
    exact), population sizes, signals with their units, dt, channels and population,
    events (in their original order and shape), phases, weights, extra, params, seed,
    device, run times and versions. ``read_nwb(path).to_neo()`` gives the NEO block.

    Parameters
    ----------
    path : str or path-like
        An NWB file written by :func:`write_nwb`.

    Returns
    -------
    Result

    Raises
    ------
    ValidationError
        If ``path`` does not exist, is not an NWB file, or was not written by
        :func:`write_nwb`.
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError("path", "an existing NWB file", str(path))
    pynwb = _pynwb()
    try:
        io = pynwb.NWBHDF5IO(str(path), mode="r")
    except Exception as err:  # h5py and hdmf raise OSError, ValueError, ...
        raise ValidationError("path", "an NWB (HDF5) file", str(path)) from err
    with io:
        try:
            nwb = io.read()
        except Exception as err:  # an HDF5 file that is not NWB (TypeError from pynwb)
            raise ValidationError("path", "an NWB file", str(path)) from err
        if NWB_META not in nwb.scratch:
            raise ValidationError(
                "path", f"an NWB file written by spikingml (scratch[{NWB_META!r}])", str(path)
            )
        meta = json.loads(nwb.scratch[NWB_META].data)

        populations = {}
        if nwb.units is not None and len(nwb.units.id) > 0:
            flat = np.asarray(nwb.units.spike_times.data[:], dtype=float)
            ends = np.asarray(nwb.units.spike_times_index.data[:], dtype=np.int64)
            pop_col = np.asarray(nwb.units["population"].data[:]).astype(str)
            index_col = np.asarray(nwb.units["population_index"].data[:], dtype=np.int64)
            counts = np.diff(np.concatenate([[0], ends]))
            row_pop = np.repeat(pop_col, counts)
            row_index = np.repeat(index_col, counts)
        for pop, size in meta["populations"].items():
            if nwb.units is not None and len(nwb.units.id) > 0:
                sel = row_pop == pop
                idx, times = row_index[sel], flat[sel]
            else:
                idx, times = np.zeros(0, np.int64), np.zeros(0)
            order = np.lexsort((idx, times))
            populations[pop] = SpikeData(idx[order], times[order], int(size))

        phases = []
        if nwb.epochs is not None:
            starts = nwb.epochs["start_time"].data[:]
            stops = nwb.epochs["stop_time"].data[:]
            tags = nwb.epochs["tags"][:]
            for start, stop, tag in zip(starts, stops, tags, strict=True):
                phases.append(Phase(str(tag[0]), float(start), float(stop)))

        events = {}
        table = nwb.intervals.get("events") if nwb.intervals else None
        if table is not None:
            t = np.asarray(table["start_time"].data[:], dtype=float)
            labels = np.asarray(table["label"].data[:]).astype(str)
            position = np.asarray(table["position"].data[:], dtype=np.int64)
        for key, shape in meta["events"].items():
            arr = np.zeros(int(np.prod(shape)))
            if table is not None:
                sel = labels == key
                arr[position[sel]] = t[sel]
            events[key] = arr.reshape(shape)

        signals = {}
        for key, info in meta["signals"].items():
            ts = nwb.acquisition[info["name"]]
            signals[key] = Signal(
                np.asarray(ts.data[:], dtype=float),
                dt=info["dt"],
                unit=info["unit"],
                t_start=info["t_start"],
                channels=np.asarray(info["channels"], dtype=np.int64),
                population=info["population"],
            )

        weights = {}
        for key, info in meta["weights"].items():
            if "scratch" in info:
                weights[key] = np.asarray(nwb.scratch[info["scratch"]].data[()])
            else:
                weights[key] = _decode(info["json"])

    return Result(
        circuit=meta["circuit"],
        params=_decode(meta["params"]),
        seed=meta["seed"],
        device=meta["device"],
        populations=populations,
        signals=signals,
        events=events,
        phases=phases,
        weights=weights,
        extra=_decode(meta["extra"]),
        simulated_seconds=meta["simulated_seconds"],
        wall_seconds=meta["wall_seconds"],
        synaptic_events=meta["synaptic_events"],
        versions=_decode(meta["versions"]),
    )
