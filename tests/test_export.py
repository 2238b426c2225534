"""Tests of spikingml.export: Result -> neo.Block, and NIX round trips."""

from __future__ import annotations

import json
import os

import neo
import numpy as np
import pytest
import quantities as pq
from _optional import require
from _roundtrip import assert_same_spikes, check_nix_round_trip, check_nwb_round_trip

from spikingml.analysis.stats import firing_rates, isi_cv
from spikingml.errors import OutputExistsError, ValidationError
from spikingml.export import from_neo, read_nix, read_nwb, to_neo, write_nix, write_nwb
from spikingml.result import Phase, Result, Signal, SpikeData

PHASES = [Phase("acquisition", 0.0, 1.0), Phase("extinction", 1.0, 2.0)]


@pytest.fixture
def result() -> Result:
    # E: 4 neurons, neuron 3 never fires; neuron 2 fires only in extinction.
    # The spike at exactly 1.0 s belongs to extinction ([start, stop) intervals).
    e_times = [0.1, 0.25, 0.5, 0.999, 1.0, 1.2, 1.75, 1.9]
    e_indices = [0, 1, 0, 1, 0, 2, 2, 1]
    # I: 2 neurons, both fire; times deliberately unsorted.
    i_times = [1.5, 0.3, 0.05, 1.1]
    i_indices = [1, 0, 1, 1]
    rng = np.random.default_rng(3)
    return Result(
        circuit="toy-circuit",
        params={"n_trials": 3, "tau": "20. ms", "nested": {"a": [1, 2]}},
        seed=1234,
        device="runtime",
        populations={
            "E": SpikeData(e_indices, e_times, 4),
            "I": SpikeData(i_indices, i_times, 2),
        },
        signals={
            "rate": Signal(
                rng.uniform(0, 50, size=(200, 3)),
                dt=0.01,
                unit="Hz",
                channels=[0, 2, 3],
                population="E",
            ),
        },
        events={"CS": np.array([0.2, 0.7, 1.2]), "US": np.array([1.5, 1.8])},
        phases=list(PHASES),
        simulated_seconds=2.0,
        versions={"spikingml": "0.0.test", "brian2": "2.x"},
    )


def expected_spikes(result: Result, pop: str, index: int, phase: Phase) -> np.ndarray:
    sd = result.populations[pop]
    t = sd.times[(sd.indices == index) & (sd.times >= phase.start) & (sd.times < phase.stop)]
    return np.sort(t)


def trains_by_key(segment: neo.Segment) -> dict[tuple[str, int], neo.SpikeTrain]:
    out = {}
    for st in segment.spiketrains:
        key = (str(st.annotations["source_population"]), int(st.annotations["source_index"]))
        assert key not in out
        out[key] = st
    return out


# --------------------------------------------------------------------------- structure


def test_block_annotations(result):
    block = to_neo(result)
    assert isinstance(block, neo.Block)
    ann = block.annotations
    assert ann["circuit"] == "toy-circuit"
    assert ann["seed"] == 1234
    assert ann["device"] == "runtime"
    assert json.loads(ann["params"]) == result.params
    assert json.loads(ann["versions"]) == result.versions


def test_segments_per_phase(result):
    block = to_neo(result)
    assert [seg.name for seg in block.segments] == ["acquisition", "extinction"]
    for seg in block.segments:
        assert seg.block is block


def test_no_phases_gives_one_segment(result):
    block = to_neo(result.replace(phases=[]))
    assert len(block.segments) == 1
    seg = block.segments[0]
    assert seg.spiketrains[0].t_start == 0 * pq.s
    assert seg.spiketrains[0].t_stop == 2.0 * pq.s
    assert sum(len(st) for st in seg.spiketrains) == 12


def test_every_neuron_and_spike_present(result):
    block = to_neo(result)
    for seg, phase in zip(block.segments, PHASES, strict=True):
        trains = trains_by_key(seg)
        assert set(trains) == {("E", i) for i in range(4)} | {("I", i) for i in range(2)}
        for (pop, idx), st in trains.items():
            assert st.name == f"{pop}[{idx}]"
            assert isinstance(st.annotations["source_index"], int)
            assert st.t_start == phase.start * pq.s
            assert st.t_stop == phase.stop * pq.s
            assert st.segment is seg
            np.testing.assert_allclose(
                st.times.rescale("s").magnitude, expected_spikes(result, pop, idx, phase)
            )
        # the silent neuron is kept as an empty train
        assert len(trains[("E", 3)]) == 0
    total = sum(len(st) for seg in block.segments for st in seg.spiketrains)
    assert total == sum(len(sd.times) for sd in result.populations.values())


def test_groups_per_population(result):
    block = to_neo(result)
    groups = {g.name: g for g in block.groups}
    assert set(groups) == {"E", "I"}
    assert len(groups["E"].spiketrains) == 4 * len(PHASES)
    assert len(groups["I"].spiketrains) == 2 * len(PHASES)
    for name, g in groups.items():
        assert g.annotations["source_population"] == name
        assert {st.annotations["source_population"] for st in g.spiketrains} == {name}
    # the rate signal was recorded from E
    assert len(groups["E"].analogsignals) == len(PHASES)
    assert len(groups["I"].analogsignals) == 0


def test_signals_units_and_slicing(result):
    block = to_neo(result)
    sig = result.signals["rate"]
    for seg, phase in zip(block.segments, PHASES, strict=True):
        (asig,) = seg.analogsignals
        assert asig.units == pq.Hz
        assert asig.shape == (100, 3)
        assert asig.sampling_period == 0.01 * pq.s
        assert float(asig.t_start.rescale("s")) == pytest.approx(phase.start)
        assert asig.annotations["source_population"] == "E"
        np.testing.assert_array_equal(asig.array_annotations["channel_index"], [0, 2, 3])
        keep = (sig.times >= phase.start - 1e-12) & (sig.times < phase.stop - 1e-12)
        np.testing.assert_array_equal(asig.magnitude, sig.values[keep])


@pytest.mark.parametrize(
    ("unit", "expected"), [("1", pq.dimensionless), ("mV", pq.mV), ("nS", pq.nS)]
)
def test_signal_unit_mapping(result, unit, expected):
    sig = Signal(np.zeros((10, 1)), dt=0.1, unit=unit, population="I")
    block = to_neo(result.replace(signals={"x": sig}))
    assert block.segments[0].analogsignals[0].units == expected


def test_unknown_unit_is_a_validation_error(result):
    sig = Signal(np.zeros((10, 1)), dt=0.1, unit="furlongs per fortnight")
    with pytest.raises(ValidationError, match="unit"):
        to_neo(result.replace(signals={"x": sig}))


def test_events(result):
    block = to_neo(result)
    acq, ext = block.segments
    ev = {e.name: e for e in acq.events}
    assert set(ev) == {"CS", "US"}
    np.testing.assert_allclose(ev["CS"].times.rescale("s").magnitude, [0.2, 0.7])
    assert list(ev["CS"].labels) == ["CS", "CS"]
    assert len(ev["US"]) == 0
    ev = {e.name: e for e in ext.events}
    np.testing.assert_allclose(ev["CS"].times.magnitude, [1.2])
    np.testing.assert_allclose(ev["US"].times.magnitude, [1.5, 1.8])
    assert list(ev["US"].labels) == ["US", "US"]


def test_data_outside_phases_warns(result):
    short = result.replace(phases=[PHASES[0]])
    with pytest.warns(UserWarning, match="outside every phase"):
        to_neo(short)


def test_result_to_neo_method(result):
    assert [s.name for s in result.to_neo().segments] == ["acquisition", "extinction"]


# --------------------------------------------------------------------------- NIX


def test_nix_round_trip(result, tmp_path):
    path = tmp_path / "data.nix"
    write_nix(result, path)
    assert path.is_file()

    io = neo.io.NixIO(str(path), mode="ro")
    try:
        block = io.read_block()
    finally:
        io.close()

    assert block.annotations["circuit"] == "toy-circuit"
    assert block.annotations["seed"] == 1234
    assert json.loads(block.annotations["params"]) == result.params
    assert [seg.name for seg in block.segments] == ["acquisition", "extinction"]

    n_back = 0
    for seg, phase in zip(block.segments, PHASES, strict=True):
        trains = trains_by_key(seg)
        assert set(trains) == {("E", i) for i in range(4)} | {("I", i) for i in range(2)}
        for (pop, idx), st in trains.items():
            assert st.name == f"{pop}[{idx}]"
            want = expected_spikes(result, pop, idx, phase)
            got = st.times.rescale("s").magnitude
            assert len(got) == len(want)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
            n_back += len(got)
        assert len(trains[("E", 3)]) == 0

        (asig,) = seg.analogsignals
        assert asig.units == pq.Hz
        assert asig.sampling_period == 0.01 * pq.s
        assert asig.annotations["source_population"] == "E"
        np.testing.assert_array_equal(asig.array_annotations["channel_index"], [0, 2, 3])
        sig = result.signals["rate"]
        keep = (sig.times >= phase.start - 1e-12) & (sig.times < phase.stop - 1e-12)
        np.testing.assert_array_equal(asig.magnitude, sig.values[keep])

        for ev in seg.events:
            want = result.events[ev.name]
            want = want[(want >= phase.start) & (want < phase.stop)]
            np.testing.assert_allclose(ev.times.rescale("s").magnitude, want, atol=1e-12)
            assert list(ev.labels) == [ev.name] * len(want)
        assert {ev.name for ev in seg.events} == {"CS", "US"}

    assert n_back == sum(len(sd.times) for sd in result.populations.values())
    groups = {g.name: g for g in block.groups}
    assert set(groups) == {"E", "I"}
    assert len(groups["E"].spiketrains) == 8
    assert len(groups["E"].analogsignals) == 2


def test_read_nix(result, tmp_path):
    path = write_nix(result, tmp_path / "data.nix")
    block = read_nix(path)
    assert block.annotations["seed"] == 1234
    assert sum(len(st) for seg in block.segments for st in seg.spiketrains) == 12
    with pytest.raises(ValidationError, match="an existing NIX file"):
        read_nix(tmp_path / "missing.nix")


def test_write_block(result, tmp_path):
    path = write_nix(to_neo(result), tmp_path / "block.nix")
    assert read_nix(path).annotations["circuit"] == "toy-circuit"


def test_no_overwrite_without_force(result, tmp_path):
    path = tmp_path / "data.nix"
    write_nix(result, path)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="force"):
        write_nix(result.replace(seed=99), path)
    assert path.read_bytes() == before
    assert read_nix(path).annotations["seed"] == 1234

    write_nix(result.replace(seed=99), path, force=True)
    assert read_nix(path).annotations["seed"] == 99
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.nix"]


def test_no_temporary_file_left_on_failure(result, tmp_path, monkeypatch):
    def boom(block, path, **kwargs):
        open(path, "wb").close()  # a partial file, then the failure
        raise RuntimeError("disk full")

    monkeypatch.setattr("spikingml.export.write_block_fast", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_nix(result, tmp_path / "data.nix")
    assert list(tmp_path.iterdir()) == []


def test_written_file_respects_umask(result, tmp_path):
    old = os.umask(0o022)
    try:
        path = write_nix(result, tmp_path / "data.nix")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_fast_spiketrain_writer_matches_nixio(result, tmp_path):
    # write_nix writes the file itself in NixIO's own layout; a file written by NixIO
    # alone must read back identically (trains, annotations, groups, the rest).
    from spikingml._nix_fast import write_block_fast

    def read(path):
        io = neo.io.NixIO(str(path), mode="ro")
        try:
            return io.read_block()
        finally:
            io.close()

    reference = tmp_path / "nixio.nix"
    io = neo.io.NixIO(str(reference), mode="ow")
    try:
        io.write_block(to_neo(result))
    finally:
        io.close()
    fast = tmp_path / "fast.nix"
    write_block_fast(to_neo(result), str(fast), fallback=False)
    a, b = read(reference), read(fast)
    assert a.annotations.keys() == b.annotations.keys()
    for seg_a, seg_b in zip(a.segments, b.segments, strict=True):
        assert seg_a.name == seg_b.name
        ta, tb = trains_by_key(seg_a), trains_by_key(seg_b)
        assert ta.keys() == tb.keys()
        for key in ta:
            x, y = ta[key], tb[key]
            assert (x.name, x.t_start, x.t_stop, x.units) == (y.name, y.t_start, y.t_stop, y.units)
            np.testing.assert_array_equal(x.magnitude, y.magnitude)
            for ann in ("source_population", "source_index"):
                assert x.annotations[ann] == y.annotations[ann]
                assert type(x.annotations[ann]) is type(y.annotations[ann])
        assert len(seg_a.analogsignals) == len(seg_b.analogsignals)
        assert [e.name for e in seg_a.events] == [e.name for e in seg_b.events]
    members_a = {g.name: sorted(st.name for st in g.spiketrains) for g in a.groups}
    members_b = {g.name: sorted(st.name for st in g.spiketrains) for g in b.groups}
    assert members_a == members_b


# --------------------------------------------------------------------------- NEO -> Result


def test_from_neo_gives_the_run_back(result, tmp_path):
    back = check_nix_round_trip(result, tmp_path / "data.nix")
    assert back.versions == result.versions
    assert (back.weights, back.extra) == ({}, {})


def test_from_neo_after_a_gap_between_phases(result, tmp_path):
    # spikes, samples and events in the gap [0.8, 1.0) are left out with a warning
    gapped = result.replace(phases=[Phase("a", 0.0, 0.8), Phase("b", 1.0, 2.0)])
    back = check_nix_round_trip(gapped, tmp_path / "data.nix")
    assert np.isnan(back.signals["rate"].values[80:100]).all()


def test_from_neo_warns_about_what_it_cannot_carry(result):
    block = to_neo(result)
    block.segments[0].epochs.append(neo.Epoch([0.1] * pq.s, durations=[0.2] * pq.s))
    with pytest.warns(UserWarning, match="1 epochs"):
        from_neo(block)


# --------------------------------------------------------------------------- NWB


@pytest.fixture
def rich(result) -> Result:
    """The toy run with weights and extra of every kind Results hold."""
    return result.replace(
        weights={
            "w": np.arange(6.0).reshape(2, 3),
            "mask": np.array([True, False]),
            "counts": np.arange(4, dtype=np.int32),
            "scalar": np.float64(2.5),
            "empty": np.zeros((0, 3)),
        },
        extra={
            "trial_kind": ["CS+", "CS-"],
            "latencies": [0.5, float("nan")],
            "pair": (1, 2),
            "table": np.arange(6).reshape(3, 2),
            "n": np.int64(7),
            "offsets": {"a": 0, "b": 4},
            "by_index": {1: "x"},
            "nothing": None,
        },
        events={**result.events, "never": np.zeros(0)},
        wall_seconds=1.25,
        synaptic_events=99,
    )


def test_nwb_round_trip_keeps_every_field(rich, tmp_path):
    require("pynwb", "nwb")
    back = check_nwb_round_trip(rich, tmp_path / "data.nwb")
    assert isinstance(back.extra["n"], np.int64) and back.extra["pair"] == (1, 2)


def test_nwb_round_trip_without_phases_or_spikes(result, tmp_path):
    require("pynwb", "nwb")
    bare = result.replace(
        phases=[], populations={"E": SpikeData([], [], 3)}, signals={}, events={}
    )
    back = check_nwb_round_trip(bare, tmp_path / "data.nwb")
    assert back.phases == [] and back.populations["E"].size == 3


def test_nwb_keeps_spikes_outside_phases(result, tmp_path):
    # NEO segments cannot hold them; NWB's units table can
    require("pynwb", "nwb")
    late = result.replace(
        populations={**result.populations, "late": SpikeData([0, 0], [2.5, 3.0], 1)}
    )
    back = check_nwb_round_trip(late, tmp_path / "data.nwb")
    np.testing.assert_array_equal(back.populations["late"].times, [2.5, 3.0])


def test_nwb_warns_naming_what_json_cannot_hold(result, tmp_path):
    require("pynwb", "nwb")
    odd = result.replace(extra={"fine": 1, "odd": {"z": 1j}})
    with pytest.warns(UserWarning, match=r"Result.extra\['odd'\]\['z'\] \(complex\)"):
        write_nwb(odd, tmp_path / "data.nwb")
    assert read_nwb(tmp_path / "data.nwb").extra == {"fine": 1, "odd": {"z": "1j"}}


def test_nwb_layout_for_other_tools(result, tmp_path):
    pynwb = require("pynwb", "nwb")
    write_nwb(result, tmp_path / "data.nwb")
    with pynwb.NWBHDF5IO(str(tmp_path / "data.nwb"), mode="r") as io:
        nwb = io.read()
        units = nwb.units.to_dataframe()
        assert list(units["population"]) == ["E"] * 4 + ["I"] * 2
        assert list(units["population_index"]) == [0, 1, 2, 3, 0, 1]
        np.testing.assert_array_equal(units["spike_times"].iloc[2], [1.2, 1.75])
        assert len(units["spike_times"].iloc[3]) == 0  # the silent neuron is kept
        epochs = nwb.epochs.to_dataframe()
        assert [list(t) for t in epochs["tags"]] == [["acquisition"], ["extinction"]]
        events = nwb.intervals["events"].to_dataframe()
        assert list(events["label"]) == ["CS", "CS", "CS", "US", "US"]
        assert list(events["start_time"]) == [0.2, 0.7, 1.2, 1.5, 1.8]
        rate = nwb.acquisition["rate"]
        assert rate.unit == "Hz" and rate.rate == pytest.approx(100.0)
        assert rate.data.shape == (200, 3)
        meta = json.loads(nwb.scratch["spikingml"].data)
        assert meta["params"] == result.params and meta["seed"] == 1234


def test_write_nwb_from_a_block(result, tmp_path):
    require("pynwb", "nwb")
    write_nix(result, tmp_path / "data.nix")
    write_nwb(read_nix(tmp_path / "data.nix"), tmp_path / "data.nwb")
    back = read_nwb(tmp_path / "data.nwb")
    assert_same_spikes(result, back)
    assert [p.name for p in back.phases] == ["acquisition", "extinction"]
    assert back.params == result.params


def test_read_nwb_to_neo(result, tmp_path):
    require("pynwb", "nwb")
    block = read_nwb(write_nwb(result, tmp_path / "data.nwb")).to_neo()
    assert sum(len(st) for seg in block.segments for st in seg.spiketrains) == 12


def test_nwb_no_overwrite_without_force(result, tmp_path):
    require("pynwb", "nwb")
    path = write_nwb(result, tmp_path / "data.nwb")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="force=True"):
        write_nwb(result.replace(seed=1), path)
    assert path.read_bytes() == before
    write_nwb(result.replace(seed=1), path, force=True)
    assert read_nwb(path).seed == 1


@pytest.mark.parametrize("writer", [write_nix, write_nwb])
def test_bad_destination_is_a_validation_error(writer, result, tmp_path):
    if writer is write_nwb:
        require("pynwb", "nwb")
    with pytest.raises(ValidationError, match="existing directory"):
        writer(result, tmp_path / "missing" / "data.file")
    with pytest.raises(ValidationError, match="not a directory"):
        writer(result, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_read_nwb_bad_paths(result, tmp_path):
    pynwb = require("pynwb", "nwb")
    with pytest.raises(ValidationError, match="an existing NWB file"):
        read_nwb(tmp_path / "missing.nwb")
    (tmp_path / "text.nwb").write_text("not HDF5")
    with pytest.raises(ValidationError, match="an NWB"):
        read_nwb(tmp_path / "text.nwb")
    write_nix(result, tmp_path / "data.nix")  # HDF5, not NWB
    with pytest.raises(ValidationError, match="an NWB file"):
        read_nwb(tmp_path / "data.nix")
    import datetime

    other = pynwb.NWBFile("not spikingml", "x", datetime.datetime.now(datetime.UTC))
    with pynwb.NWBHDF5IO(str(tmp_path / "other.nwb"), mode="w") as io:
        io.write(other)
    with pytest.raises(ValidationError, match="written by spikingml"):
        read_nwb(tmp_path / "other.nwb")


def test_no_temporary_nwb_file_left_on_failure(result, tmp_path, monkeypatch):
    pynwb = require("pynwb", "nwb")

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_nwb(result, tmp_path / "data.nwb")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- Elephant


def test_rates_and_cv_match_elephant(result, tmp_path):
    # Both sides divide the same float64 counts and intervals: agreement to rounding.
    statistics = require("elephant.statistics", "analysis")
    # The toy run's trains have at most 2 spikes per phase (no CV); population D adds
    # trains with CVs: neuron 0 fires 10 and 12 times, neuron 1 3 times then twice.
    rng = np.random.default_rng(11)
    d_times = [
        *np.linspace(0.05, 0.95, 10),
        *(1.0 + np.sort(rng.uniform(0.0, 1.0, 12))),
        *[0.2, 0.5, 0.55, 1.3, 1.9],
    ]
    dense = SpikeData([0] * 22 + [1] * 5, d_times, 3)  # neuron 2 is silent
    result = result.replace(populations={**result.populations, "D": dense})
    block = read_nix(write_nix(result, tmp_path / "data.nix"))
    n_rates = n_cvs = n_undefined = 0
    for seg, phase in zip(block.segments, PHASES, strict=True):
        for st in seg.spiketrains:
            sd = result.populations[st.annotations["source_population"]]
            i = st.annotations["source_index"]
            rate = firing_rates(sd, phase.start, phase.stop)[i]
            expected = statistics.mean_firing_rate(st).rescale("Hz").magnitude
            assert rate == pytest.approx(float(expected), rel=1e-12, abs=0)
            n_rates += 1
            cv = isi_cv(sd, phase.start, phase.stop)[i]
            if len(st) >= 3:
                isis = statistics.isi(st).rescale("s").magnitude
                assert cv == pytest.approx(float(statistics.cv(isis)), rel=1e-12, abs=1e-15)
                n_cvs += 1
            else:  # fewer than 2 intervals: no CV
                assert np.isnan(cv)
                n_undefined += 1
    # every train of both phases (4 + 2 + 3 neurons); D's three trains with >= 3 spikes
    assert (n_rates, n_cvs, n_undefined) == (18, 3, 15)


def test_stats_known_values():
    sd = SpikeData([0, 0, 0, 0, 1], [0.1, 0.2, 0.4, 0.7, 0.5], 3)
    np.testing.assert_allclose(firing_rates(sd, 0.0, 1.0), [4.0, 1.0, 0.0])
    np.testing.assert_allclose(firing_rates(sd, 0.15, 0.45), [2 / 0.3, 0.0, 0.0])
    isis = np.array([0.1, 0.2, 0.3])
    cv = isi_cv(sd, 0.0, 1.0)
    assert cv[0] == pytest.approx(isis.std() / isis.mean())
    assert np.isnan(cv[1]) and np.isnan(cv[2])
