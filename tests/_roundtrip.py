"""Round trips of a run through NIX and NWB, shared by the circuit test modules.

Each circuit's test module checks the run its module-scoped fixture already simulated,
so these checks add no simulation to the suite. The NWB round trip (about a second) of
every circuit's quick run is in the default suite. Reading NIX costs ~12 ms of CPU per
spike train, so the default suite does the NIX round trip where the module already reads
that file (td-conditioning, bayesian-neuron, rescorla-wagner's small blocking run) or the
run is small (v1-ica's runtime run); for the quick runs of actor-critic, tempotron,
rescorla-wagner and wta-em (thousands of trains) it is a ``slow`` test.

Spike, event and phase times are float64 seconds in both formats, stored as they are:
they must come back to within ``TIME_TOL`` = 1e-12 s, far below any simulation time
step (0.1 ms), and in practice bit for bit.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import neo
import numpy as np
import pytest
import quantities as pq
from _optional import require

from spikingml.export import _phases, from_neo, read_nix, read_nwb, write_nix, write_nwb
from spikingml.result import Phase, Result, Signal

TIME_TOL = 1e-12

#: Every field of Result; the NWB round trip checks each of them.
RESULT_FIELDS = {
    "circuit",
    "params",
    "seed",
    "device",
    "populations",
    "signals",
    "events",
    "phases",
    "weights",
    "extra",
    "simulated_seconds",
    "wall_seconds",
    "synaptic_events",
    "versions",
}


def assert_same(a, b, where: str) -> None:
    """Deep equality of plain data (arrays with shape and dtype, NaN equal to NaN)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{where}: {type(b).__name__} instead of an array"
        assert a.shape == b.shape, f"{where}: shape {b.shape} instead of {a.shape}"
        assert a.dtype == b.dtype, f"{where}: dtype {b.dtype} instead of {a.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {b!r} instead of {a!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), f"{where}: {b!r} instead of nan"
    else:
        assert a == b and type(a) is type(b), f"{where}: {b!r} instead of {a!r}"


def _inside(times: np.ndarray, phases: list[Phase] | None) -> np.ndarray:
    if phases is None:
        return np.ones(times.shape, dtype=bool)
    keep = np.zeros(times.shape, dtype=bool)
    for ph in phases:
        keep |= (times >= ph.start) & (times < ph.stop)
    return keep


def assert_same_spikes(expected: Result, back: Result, phases: list[Phase] | None = None):
    """Same populations and sizes, and every spike (in ``phases`` if given) back."""
    assert list(back.populations) == list(expected.populations)
    for pop, sd in expected.populations.items():
        got = back.populations[pop]
        assert got.size == sd.size, f"{pop}: size {got.size} instead of {sd.size}"
        keep = _inside(sd.times, phases)
        i, t = sd.indices[keep], sd.times[keep]
        order, back_order = np.lexsort((t, i)), np.lexsort((got.times, got.indices))
        assert len(got.times) == len(t), f"{pop}: {len(got.times)} spikes instead of {len(t)}"
        np.testing.assert_array_equal(got.indices[back_order], i[order], err_msg=pop)
        np.testing.assert_allclose(
            got.times[back_order], t[order], rtol=0, atol=TIME_TOL, err_msg=pop
        )


def _same_phases(a: list[Phase], b: list[Phase]) -> None:
    assert [p.name for p in b] == [p.name for p in a]
    for x, y in zip(a, b, strict=True):
        assert abs(x.start - y.start) <= TIME_TOL and abs(x.stop - y.stop) <= TIME_TOL


# id(result) -> (result, block read back, warnings of write_nix): NixIO reads ~12 ms of
# CPU per spike train (15 s for the 1260 trains of td-conditioning's quick run), so each
# test module reads its run's file once, whichever of its tests asks first.
_NIX_CACHE: dict[int, tuple[Result, neo.Block, list[str]]] = {}


def nix_block(result: Result, path) -> neo.Block:
    """``read_nix(write_nix(result, path))``, done once per run (see ``_NIX_CACHE``)."""
    return _nix(result, path)[0]


def _nix(result: Result, path) -> tuple[neo.Block, list[str]]:
    cached = _NIX_CACHE.get(id(result))
    if cached is None or cached[0] is not result:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            write_nix(result, path)
        cached = (result, read_nix(path), [str(w.message) for w in caught])
        _NIX_CACHE.clear()  # one run at a time: module-scoped runs come one after another
        _NIX_CACHE[id(result)] = cached
    return cached[1], cached[2]


def check_nix_round_trip(result: Result, path) -> Result:
    """Write ``result`` to NIX, read it back; check spikes, units, populations, phases,
    events and signals (what falls in a phase: NEO segments hold nothing else, and the
    export warns about the rest): in the block, one segment per phase with every neuron's
    train and each signal's samples of that phase; in the run read back
    (:func:`from_neo`, returned), every signal row by row."""
    phases = _phases(result)
    outside = any((~_inside(sd.times, phases)).any() for sd in result.populations.values())
    outside |= any(
        (~_inside(np.asarray(ev, float).ravel(), phases)).any() for ev in result.events.values()
    )
    block, messages = _nix(result, path)
    if outside:
        assert any("outside every phase" in m for m in messages)
    for seg in block.segments:
        for st in seg.spiketrains:
            assert st.units == pq.s
    back = from_neo(block)
    assert (back.circuit, back.seed, back.device) == (result.circuit, result.seed, result.device)
    assert back.params == json.loads(json.dumps(result.params, sort_keys=True, default=str))
    _same_phases(phases, back.phases)
    assert_same_spikes(result, back, phases)
    for key, ev in result.events.items():
        t = np.sort(np.asarray(ev, dtype=float).ravel())
        np.testing.assert_allclose(
            np.sort(back.events[key]), t[_inside(t, phases)], rtol=0, atol=TIME_TOL
        )
    _same_segments(result, phases, block)
    assert set(back.signals) <= set(result.signals), f"signals {sorted(back.signals)}"
    for key, sig in result.signals.items():
        _same_signal(key, sig, back.signals.get(key), phases)
    return back


def _samples_in(sig: Signal, phase: Phase) -> np.ndarray:
    """Indices of the samples of ``sig`` whose time lies in ``[phase.start, phase.stop)``.

    A sample time ``t_start + k * dt`` carries a rounding error of a few ulps, so a sample
    within 1e-6 of a step of a boundary counts as lying on it.
    """
    k = (sig.times - phase.start) / sig.dt
    return np.flatnonzero((k > -1e-6) & ((sig.times - phase.stop) / sig.dt < -1e-6))


def _same_segments(result: Result, phases: list[Phase], block: neo.Block) -> None:
    """One segment per phase, in order, holding every neuron's train and, per signal,
    exactly the samples of that phase (as written, rows and values)."""
    assert [seg.annotations.get("phase", seg.name) for seg in block.segments] == [
        ph.name for ph in phases
    ]
    n_neurons = sum(int(sd.size) for sd in result.populations.values())
    for ph, seg in zip(phases, block.segments, strict=True):
        assert len(seg.spiketrains) == n_neurons, f"{ph.name}: {len(seg.spiketrains)} trains"
        for st in seg.spiketrains:
            assert abs(float(st.t_start.rescale("s")) - ph.start) <= TIME_TOL
            assert abs(float(st.t_stop.rescale("s")) - ph.stop) <= TIME_TOL
        pieces = {str(a.annotations.get("signal_name", a.name)): a for a in seg.analogsignals}
        assert len(pieces) == len(seg.analogsignals), f"{ph.name}: a signal twice"
        rows = {key: _samples_in(sig, ph) for key, sig in result.signals.items()}
        assert set(pieces) == {key for key, k in rows.items() if k.size}, ph.name
        for key, asig in pieces.items():
            sig, k = result.signals[key], rows[key]
            where = f"{ph.name}: signals[{key!r}]"
            assert asig.shape == (k.size, sig.values.shape[1]), f"{where}: shape {asig.shape}"
            np.testing.assert_array_equal(asig.magnitude, sig.values[k], err_msg=where)
            t0 = float(asig.t_start.rescale("s").magnitude)
            assert abs(t0 - sig.times[k[0]]) <= TIME_TOL, f"{where}: t_start {t0}"


def _same_signal(key: str, sig: Signal, got: Signal | None, phases: list[Phase]) -> None:
    """The signal read back spans its first to its last sample in a phase: the samples in
    a phase as they were (NaN only where they were NaN), NaN rows for those between phases."""
    where = f"signals[{key!r}]"
    rows = np.unique(np.concatenate([_samples_in(sig, ph) for ph in phases]))
    if got is None:
        assert rows.size == 0, f"{where}: lost ({rows.size} samples in phases)"
        return
    assert rows.size, f"{where}: read back, but no sample lies in a phase"
    assert got.unit == sig.unit, f"{where}: unit {got.unit} instead of {sig.unit}"
    assert got.population == (sig.population or key)
    np.testing.assert_array_equal(got.channels, sig.channels)
    assert got.dt == pytest.approx(sig.dt, rel=1e-12)
    assert abs(got.t_start - sig.times[rows[0]]) <= TIME_TOL, f"{where}: t_start {got.t_start}"
    span = np.arange(rows[0], rows[-1] + 1)
    assert got.values.shape == (span.size, sig.values.shape[1]), f"{where}: {got.values.shape}"
    in_phase = np.isin(span, rows)
    np.testing.assert_array_equal(got.values[in_phase], sig.values[span[in_phase]], where)
    assert np.isnan(got.values[~in_phase]).all(), f"{where}: values between phases"


def check_nwb_round_trip(result: Result, path) -> Result:
    """Write ``result`` to NWB, read it back; check that every field of Result survives.
    Returns the run read back."""
    assert {f.name for f in dataclasses.fields(Result)} == RESULT_FIELDS, "new Result field"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_nwb(result, path)
    assert not [w for w in caught if "NWB export" in str(w.message)]
    back = read_nwb(path)
    assert_same_spikes(result, back)
    _same_phases(result.phases, back.phases)
    for name in RESULT_FIELDS - {"populations", "phases", "signals"}:
        assert_same(getattr(result, name), getattr(back, name), f"Result.{name}")
    assert list(back.signals) == list(result.signals)
    for key, sig in result.signals.items():
        got = back.signals[key]
        for attr in ("values", "channels"):
            assert_same(getattr(sig, attr), getattr(got, attr), f"signals[{key!r}].{attr}")
        for attr in ("dt", "unit", "t_start", "population"):
            assert getattr(got, attr) == getattr(sig, attr), f"signals[{key!r}].{attr}"
    return back


def check_nwb(result: Result, tmp_path) -> Result:
    """:func:`check_nwb_round_trip` into ``tmp_path``; skipped without pynwb (not in CI)."""
    require("pynwb", "nwb")
    return check_nwb_round_trip(result, tmp_path / "data.nwb")


def check_round_trips(result: Result, tmp_path) -> None:
    """Both round trips (NIX, NWB) of one run; NWB skipped without pynwb.

    Reading NIX costs ~12 ms of CPU per spike train (NixIO reads each train's HDF5
    attributes one by one), so runs with thousands of trains take their NIX round trip in
    a ``slow`` test and only the NWB one (about a second) in the default suite.
    """
    check_nix_round_trip(result, tmp_path / "data.nix")
    check_nwb(result, tmp_path)
