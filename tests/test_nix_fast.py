"""Tests of spikingml._nix_fast: a NIX file as NixIO writes it, written fast.

Every block is written twice, by ``neo.io.NixIO.write_block`` and by
:func:`write_block_fast`; both files are read back with NixIO and compared object by
object, and their HDF5 trees (groups, links and their order, attributes and their
types, datasets with dtype, shape, chunks and values) are compared with entity ids,
NEO names and timestamps replaced by placeholders.
"""

from __future__ import annotations

import ctypes
import os
import re
from datetime import date, datetime

import h5py
import neo
import nixio
import numpy as np
import pytest
import quantities as pq
from _roundtrip import check_nix_round_trip

from spikingml import _nix_fast
from spikingml._nix_fast import write_block_fast
from spikingml.export import to_neo
from spikingml.result import Phase, Result, Signal, SpikeData

PHASES = [Phase("acquisition", 0.0, 1.0), Phase("extinction", 1.0, 2.5)]


def make_result(seed: int = 7) -> Result:
    """2 phases, 3 populations (with silent neurons), two signals, events."""
    rng = np.random.default_rng(seed)
    populations = {}
    for name, size, silent in (("E", 12, 3), ("I", 5, 1), ("DA", 4, 4)):
        active = size - silent
        counts = rng.poisson(6, size=active) if active else np.zeros(0, dtype=int)
        indices = np.repeat(np.arange(active), counts)
        times = rng.uniform(0.0, 2.5, size=indices.size)
        populations[name] = SpikeData(indices, times, size)
    return Result(
        circuit="toy-circuit",
        params={"n_trials": 3, "tau": "20. ms", "nested": {"a": [1, 2]}},
        seed=1234,
        device="runtime",
        populations=populations,
        signals={
            "rate": Signal(
                rng.uniform(0, 50, size=(250, 3)),
                dt=0.01,
                unit="Hz",
                channels=[0, 2, 3],
                population="E",
            ),
            "v": Signal(rng.normal(-60, 5, size=(250, 1)), dt=0.01, unit="mV", population="I"),
        },
        events={"CS": np.array([0.2, 0.7, 1.2]), "US": np.array([1.5, 1.8]), "none": []},
        phases=list(PHASES),
        simulated_seconds=2.5,
        wall_seconds=0.25,
        versions={"spikingml": "0.0.test"},
    )


# --------------------------------------------------------------------------- helpers


def write_nixio(block: neo.Block, path) -> None:
    io = neo.io.NixIO(str(path), mode="ow")
    try:
        io.write_block(block)
    finally:
        io.close()


def read(path) -> neo.Block:
    io = neo.io.NixIO(str(path), mode="ro")
    try:
        return io.read_block()
    finally:
        io.close()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX = re.compile(r"(?<=\.)[0-9a-f]{32}")
_STAMP = re.compile(r"^\d{8}T\d{6}$")


def hdf5_tree(path) -> list[str]:
    """The file as lines of text, in link creation order, with ids made positional.

    Entity ids and the hex part of NixIO's object names become ``<idN>`` in order of
    appearance, timestamps ``<stamp>``; a hard link to an object already listed shows
    where it was first seen.
    """
    ids: dict[str, str] = {}

    def text(value) -> str:
        if isinstance(value, bytes):
            value = value.decode()
        if _STAMP.match(value):
            return "<stamp>"

        def sub(m):
            return ids.setdefault(m.group(0), f"<id{len(ids)}>")

        return _HEX.sub(sub, _UUID.sub(sub, value))

    def dtype(tid) -> tuple:
        if isinstance(tid, h5py.h5t.TypeStringID):
            return ("str", tid.is_variable_str(), tid.get_cset(), tid.get_strpad())
        return (type(tid).__name__, tid.get_size(), str(tid.dtype))

    def value(v):
        if isinstance(v, (bytes, str)):
            return text(v)
        if isinstance(v, np.ndarray) and v.dtype == object:
            return [text(x) for x in v.ravel()]
        return repr(np.asarray(v).tolist())

    out: list[str] = []
    seen: dict = {}

    def attrs(obj, indent):
        for key in sorted(obj.attrs):
            aid = obj.attrs.get_id(key)
            out.append(
                f"{indent}@{key} {dtype(aid.get_type())} {aid.get_space().shape}"
                f" = {value(obj.attrs[key])}"
            )

    def walk(group, indent, where):
        out.append(f"{indent}[crt_order={group.id.get_create_plist().get_link_creation_order()}]")
        attrs(group, indent)
        for name in group:
            link = group.id.links.get_info(name.encode())
            obj = group[name]
            info = h5py.h5o.get_info(obj.id)
            token = getattr(info, "token", None) or info.addr  # the object, whatever the link
            here = f"{where}/{text(name)}"
            head = f"{indent}{text(name)} (cset {link.cset})"
            if token in seen:
                out.append(f"{head} -> {seen[token]}")
                continue
            seen[token] = here
            if isinstance(obj, h5py.Group):
                out.append(head + "/")
                walk(obj, indent + "  ", here)
            else:
                dcpl = obj.id.get_create_plist()
                out.append(
                    f"{head} {dtype(obj.id.get_type())} shape={obj.shape} chunks={obj.chunks}"
                    f" max={obj.maxshape} track_times={dcpl.get_obj_track_times()}"
                    f" fill_time={dcpl.get_fill_time()} alloc_time={dcpl.get_alloc_time()}"
                    f" = {value(obj[()])}"
                )
                attrs(obj, indent + "  ")

    with h5py.File(path, "r") as f:
        walk(f, "", "")
    return out


def assert_same_layout(a, b) -> None:
    ta, tb = hdf5_tree(a), hdf5_tree(b)
    if ta != tb:
        for i, (x, y) in enumerate(zip(ta, tb, strict=False)):
            assert x == y, f"line {i}:\n  NixIO: {x}\n  fast:  {y}"
        assert len(ta) == len(tb)


def assert_same_value(x, y, what: str) -> None:
    assert type(x) is type(y), f"{what}: {type(x).__name__} != {type(y).__name__}"
    if isinstance(x, pq.Quantity):
        assert x.units == y.units, what
        np.testing.assert_allclose(x.magnitude, y.magnitude, rtol=0, atol=1e-12, err_msg=what)
    elif isinstance(x, np.ndarray):
        assert x.dtype == y.dtype, what
        np.testing.assert_array_equal(x, y, err_msg=what)
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y), what
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            assert_same_value(u, v, f"{what}[{i}]")
    else:
        assert x == y, f"{what}: {x!r} != {y!r}"


def assert_same_annotations(x, y, what: str) -> None:
    assert list(x.annotations) == list(y.annotations), what
    for key in x.annotations:
        if key == "nix_name":  # random, different in each file
            assert x.annotations[key].rsplit(".", 1)[0] == y.annotations[key].rsplit(".", 1)[0]
            continue
        assert_same_value(x.annotations[key], y.annotations[key], f"{what}.{key}")
    xa = getattr(x, "array_annotations", {})
    ya = getattr(y, "array_annotations", {})
    assert list(xa) == list(ya), what
    for key in xa:
        assert_same_value(xa[key], ya[key], f"{what} array annotation {key}")


def assert_same_blocks(a: neo.Block, b: neo.Block) -> None:
    """Two blocks read back from NIX files hold the same objects, in the same order."""
    assert (a.name, a.description) == (b.name, b.description)
    assert_same_annotations(a, b, "block")
    assert len(a.segments) == len(b.segments)
    for k, (sa, sb) in enumerate(zip(a.segments, b.segments, strict=True)):
        where = f"segment {k}"
        assert (sa.name, sa.description) == (sb.name, sb.description), where
        assert_same_annotations(sa, sb, where)
        assert len(sa.spiketrains) == len(sb.spiketrains), where
        for x, y in zip(sa.spiketrains, sb.spiketrains, strict=True):
            what = f"{where} train {x.name}"
            assert (x.name, x.description) == (y.name, y.description), what
            assert x.units == y.units, what
            assert x.times.dtype == y.times.dtype, what
            np.testing.assert_allclose(x.magnitude, y.magnitude, rtol=0, atol=1e-12)
            assert_same_value(x.t_start, y.t_start, what + " t_start")
            assert_same_value(x.t_stop, y.t_stop, what + " t_stop")
            assert_same_annotations(x, y, what)
        assert len(sa.analogsignals) == len(sb.analogsignals), where
        for x, y in zip(sa.analogsignals, sb.analogsignals, strict=True):
            what = f"{where} signal {x.name}"
            assert (x.name, x.description, x.shape) == (y.name, y.description, y.shape), what
            assert x.units == y.units, what
            np.testing.assert_array_equal(x.magnitude, y.magnitude)
            assert_same_value(x.sampling_period, y.sampling_period, what + " period")
            assert_same_value(x.t_start, y.t_start, what + " t_start")
            assert_same_annotations(x, y, what)
        assert len(sa.events) == len(sb.events), where
        for x, y in zip(sa.events, sb.events, strict=True):
            what = f"{where} event {x.name}"
            assert (x.name, x.description) == (y.name, y.description), what
            assert_same_value(x.times, y.times, what + " times")
            np.testing.assert_array_equal(x.labels, y.labels)
            assert x.labels.dtype == y.labels.dtype, what
            assert_same_annotations(x, y, what)

    def members(group):
        def key(obj):
            return (a_or_b_segment_index(obj), obj.name)

        return (
            [key(st) for st in group.spiketrains],
            [key(s) for s in group.analogsignals],
            [key(e) for e in group.events],
        )

    def a_or_b_segment_index(obj):
        block = obj.segment.block
        return next(i for i, s in enumerate(block.segments) if s is obj.segment)

    assert [g.name for g in a.groups] == [g.name for g in b.groups]
    for ga, gb in zip(a.groups, b.groups, strict=True):
        assert ga.description == gb.description
        assert_same_annotations(ga, gb, f"group {ga.name}")
        assert members(ga) == members(gb), ga.name


def both(block_factory, tmp_path):
    """Write ``block_factory()`` with NixIO and with the fast writer; the two paths."""
    reference, fast = tmp_path / "nixio.nix", tmp_path / "fast.nix"
    write_nixio(block_factory(), reference)
    write_block_fast(block_factory(), fast, fallback=False)
    return reference, fast


# --------------------------------------------------------------------------- tests


@pytest.fixture
def result() -> Result:
    return make_result()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The export of :func:`make_result`, written by NixIO and by the fast writer."""
    result = make_result()
    return both(lambda: to_neo(result), tmp_path_factory.mktemp("written"))


def test_reads_back_as_nixio_writes(written):
    reference, fast = written
    a, b = read(reference), read(fast)
    assert_same_blocks(a, b)
    # what spikingml's export puts there, as plain types
    st = b.segments[0].spiketrains[0]
    assert type(st.annotations["source_population"]) is str
    assert isinstance(st.annotations["source_index"], (int, np.integer))
    assert isinstance(b.annotations["seed"], (int, np.integer))
    assert isinstance(b.annotations["wall_seconds"], float)
    assert sum(len(s.spiketrains) for s in b.segments) == 2 * (12 + 5 + 4)
    silent = [t for t in b.segments[1].spiketrains if t.annotations["source_population"] == "DA"]
    assert len(silent) == 4 and all(len(t) == 0 for t in silent)
    assert [e.name for e in b.segments[0].events] == ["CS", "US", "none"]
    assert list(b.segments[0].analogsignals[0].array_annotations["channel_index"]) == [0, 2, 3]
    assert {g.name: len(g.spiketrains) for g in b.groups} == {"E": 24, "I": 10, "DA": 8}


def test_hdf5_layout_is_nixio_s(written):
    assert_same_layout(*written)


def test_nixio_opens_and_validates_it_alike(written):
    reference, fast = written

    def validation(path):
        f = nixio.File.open(str(path), nixio.FileMode.ReadOnly)
        try:
            assert f.format == "nix" and f.version == (1, 2, 1)
            assert [b.type for b in f.blocks] == ["neo.block"]
            assert f.sections["neo"]["version"] == neo.__version__
            report = f.validate()
            return {
                kind: sorted(
                    (type(obj).__name__, obj.type, tuple(msgs)) for obj, msgs in found.items()
                )
                for kind, found in report.items()
            }
        finally:
            f.close()

    # NixIO's own files do not validate cleanly (spike trains' DataArrays have no
    # dimensions, empty trains no positions...): the fast file must report the same.
    assert validation(fast) == validation(reference)


def test_annotates_nix_names_and_reuses_them(result, tmp_path):
    block = to_neo(result)
    write_block_fast(block, tmp_path / "a.nix", fallback=False)
    objects = [block, *block.segments, *block.groups]
    for seg in block.segments:
        objects += [*seg.spiketrains, *seg.analogsignals, *seg.events]
    names = [obj.annotations["nix_name"] for obj in objects]
    assert len(set(names)) == len(names)
    assert block.annotations["nix_name"].startswith("neo.block.")
    assert block.segments[0].spiketrains[0].annotations["nix_name"].startswith("neo.spiketrain.")
    # written again, the block keeps its names, as with NixIO
    write_block_fast(block, tmp_path / "b.nix", fallback=False)
    again = read(tmp_path / "b.nix")
    assert again.annotations["nix_name"] == block.annotations["nix_name"]
    trains = [st.annotations["nix_name"] for st in again.segments[1].spiketrains]
    assert trains == [st.annotations["nix_name"] for st in block.segments[1].spiketrains]


def rich_block() -> neo.Block:
    """Every kind of annotation value NixIO stores, names and descriptions included."""
    block = neo.Block(
        name="rich",
        description="a block with everything",
        rec_datetime=datetime(2024, 5, 17, 10, 30, 5),
        file_datetime=datetime(2024, 5, 17, 11, 0, 0, 123),
        text="hello",
        empty_text="",
        number=3,
        big=np.int64(2**40),
        ratio=0.25,
        flag=True,
        npflag=np.bool_(False),
        npfloat=np.float32(1.5),
        ints=[1, 2, 3],
        words=["a", "bc"],
        floats=np.array([0.5, 1.5]),
        flags=[True, False],
        empty=[],
        length=3.0 * pq.mV,
        lengths=[1.0, 2.0] * pq.s,
        day=date(2024, 1, 2),
        raw=b"bytes",
        unicode="µ-Ω ✓",
    )
    block.annotations["clé µ"] = "non-ASCII key"
    for k in range(2):
        seg = neo.Segment(
            name=f"seg{k}" if k else "",
            description=None if k else "first",
            rec_datetime=datetime(2024, 5, 17, 10, 31, k),
            index=k,
        )
        t_start = (k * 2.0) * pq.s
        for i in range(20):
            n = i % 4
            st = neo.SpikeTrain(
                np.sort(np.linspace(0.1, 1.9, n)) + k * 2.0,
                units="s",
                t_start=t_start,
                t_stop=t_start + 2.0 * pq.s,
                name=f"unit{i}" if i != 3 else None,
                description="odd one" if i == 5 else None,
                array_annotations={"amplitude": np.arange(n, dtype=float)} if i % 5 == 0 else None,
                unit=i,
                group="A" if i < 10 else "B",
                quality=0.5 * (i % 3),
            )
            seg.spiketrains.append(st)
        ms = neo.SpikeTrain(
            [5.0, 7.5], units="ms", t_start=0 * pq.ms, t_stop=10 * pq.ms, name="ms"
        )
        seg.spiketrains.append(ms)
        seg.analogsignals.append(
            neo.AnalogSignal(
                np.arange(12, dtype=np.float32).reshape(6, 2) + k,
                units="mV",
                sampling_rate=1 * pq.kHz,
                t_start=t_start.rescale("ms"),
                name="v",
                description="membrane",
                array_annotations={"channel": np.array(["a", "b"]), "gain": [1.0, 2.0]},
                electrode=7,
            )
        )
        seg.analogsignals.append(
            neo.AnalogSignal(np.zeros((3, 1)), units="", sampling_period=0.5 * pq.s, name="d")
        )
        seg.events.append(
            neo.Event(
                [0.5, 1.0] * pq.s + t_start,
                labels=np.array(["go", "stop"]),
                name="cues",
                description="cue times",
                array_annotations={"code": np.array([1, 2])},
                kind="cue",
            )
        )
        seg.events.append(neo.Event([] * pq.ms, name="nothing"))
        block.segments.append(seg)
    group = neo.Group(name="A", allowed_types=[neo.SpikeTrain, neo.AnalogSignal, neo.Event])
    group.add(*[st for seg in block.segments for st in seg.spiketrains[:10]])
    group.add(block.segments[1].analogsignals[0], block.segments[0].events[0])
    block.groups.append(group)
    block.groups.append(neo.Group(name="empty", description="nothing in it", level=2))
    block.create_relationship()
    return block


def test_every_annotation_kind_as_nixio(tmp_path):
    reference, fast = both(rich_block, tmp_path)
    assert_same_layout(reference, fast)
    a, b = read(reference), read(fast)
    assert_same_blocks(a, b)
    assert a.rec_datetime == b.rec_datetime == datetime(2024, 5, 17, 10, 30, 5)
    assert [s.rec_datetime for s in a.segments] == [s.rec_datetime for s in b.segments]
    assert b.annotations["clé µ"] == "non-ASCII key"
    assert b.file_datetime == datetime(2024, 5, 17, 11, 0, 0, 123)


def test_objects_in_several_segments_as_nixio(tmp_path):
    def factory():
        block = neo.Block(name="shared")
        st = neo.SpikeTrain([0.5], units="s", t_stop=1.0, name="st", source_index=1)
        sig = neo.AnalogSignal(np.ones((4, 2)), units="Hz", sampling_rate=4 * pq.Hz, name="r")
        ev = neo.Event([0.25] * pq.s, labels=np.array(["x"]), name="e")
        for name in ("one", "two"):
            seg = neo.Segment(name=name)
            seg.spiketrains.append(st)
            seg.analogsignals.append(sig)
            seg.events.append(ev)
            block.segments.append(seg)
        return block

    reference, fast = both(factory, tmp_path)
    assert_same_layout(reference, fast)


def test_template_values_are_exact(tmp_path):
    # values shared by many trains go into the copied templates: 0.0 and -0.0 (equal,
    # but not the same) must not share one, nor 1 and True
    def factory():
        block = neo.Block(name="zeros")
        seg = neo.Segment(name="s")
        for i in range(48):
            seg.spiketrains.append(
                neo.SpikeTrain(
                    [0.5] * (i % 2),
                    units="s",
                    t_stop=1.0,
                    name=f"n{i}",
                    zero=(0.0, -0.0)[i % 2],
                    nan=float("nan"),
                    flag=(1, True)[i % 2],
                    index=i,
                )
            )
        block.segments.append(seg)
        return block

    reference, fast = both(factory, tmp_path)
    assert_same_layout(reference, fast)
    zeros = [st.annotations["zero"] for st in read(fast).segments[0].spiketrains]
    assert [np.signbit(z) for z in zeros] == [bool(i % 2) for i in range(48)]


def test_empty_block_as_nixio(tmp_path):
    reference, fast = both(lambda: neo.Block(), tmp_path)
    assert_same_layout(reference, fast)
    assert_same_blocks(read(reference), read(fast))


def test_overwrites_an_existing_file(result, tmp_path):
    path = tmp_path / "data.nix"
    path.write_bytes(b"not a NIX file")
    write_block_fast(to_neo(result), path, fallback=False)
    assert read(path).annotations["seed"] == 1234


def open_hdf5_objects() -> int:
    """Files, groups, datasets, datatypes and attributes open in h5py's HDF5 library."""
    lib = ctypes.CDLL(_nix_fast._candidate_paths()[0])
    count = lib.H5Fget_obj_count
    count.restype = ctypes.c_ssize_t
    count.argtypes = [ctypes.c_int64, ctypes.c_uint]
    return count(0xFFFFFFFF, 0x1F)  # H5F_OBJ_ALL: of all files, objects of any kind


def test_no_hdf5_object_left_open(result, tmp_path):
    before = open_hdf5_objects()
    write_block_fast(to_neo(result), tmp_path / "a.nix", fallback=False)
    assert open_hdf5_objects() == before


def test_failure_leaves_nothing_open(result, tmp_path):
    before = open_hdf5_objects()
    with pytest.raises(OSError):  # the file cannot be created
        write_block_fast(to_neo(result), tmp_path / "missing" / "a.nix", fallback=False)
    assert open_hdf5_objects() == before
    block = to_neo(result)
    for seg in block.segments:  # two segments under one name: fails half-way
        seg.annotate(nix_name="neo.segment.same")
    with pytest.raises(OSError):
        write_block_fast(block, tmp_path / "b.nix", fallback=False)
    assert open_hdf5_objects() == before
    write_block_fast(to_neo(result), tmp_path / "c.nix", fallback=False)  # still works
    assert read(tmp_path / "c.nix").annotations["seed"] == 1234


def test_file_mode_follows_umask(result, tmp_path):
    old = os.umask(0o027)
    try:
        write_block_fast(to_neo(result), tmp_path / "a.nix", fallback=False)
    finally:
        os.umask(old)
    assert (tmp_path / "a.nix").stat().st_mode & 0o777 == 0o640


def test_unsupported_blocks_go_to_nixio(tmp_path):
    block = neo.Block(name="b")
    block.segments.append(neo.Segment(name="s"))
    block.segments[0].spiketrains.append(neo.SpikeTrain([0.5], units="s", t_stop=1.0))
    block.segments[0].epochs.append(
        neo.Epoch([0.1] * pq.s, durations=[0.2] * pq.s, labels=np.array(["e"]), name="ep")
    )
    with pytest.raises(NotImplementedError, match="epochs"):
        write_block_fast(block, tmp_path / "no.nix", fallback=False)
    assert not (tmp_path / "no.nix").exists()
    write_block_fast(block, tmp_path / "yes.nix")  # through NixIO
    back = read(tmp_path / "yes.nix")
    assert [e.name for e in back.segments[0].epochs] == ["ep"]
    assert len(back.segments[0].spiketrains) == 1


@pytest.mark.parametrize(
    "value", [{"a": 1}, [[1, 2], [3]], [1, "a"], None], ids=["dict", "nested", "mixed", "none"]
)
def test_unusual_annotations_go_to_nixio(value, tmp_path):
    block = neo.Block(name="b", odd=value)
    with pytest.raises(NotImplementedError):
        write_block_fast(block, tmp_path / "x.nix", fallback=False)


def test_hdf5_library_is_h5pys():
    lib = _nix_fast._hdf5()
    assert lib is not None, "h5py's HDF5 library should be reachable on this platform"
    probe = h5py.h5t.C_S1.copy()
    probe.set_size(321)
    size = ctypes.CDLL(_nix_fast._candidate_paths()[0]).H5Tget_size
    size.restype = ctypes.c_size_t
    size.argtypes = [ctypes.c_int64]
    assert size(probe.id) == 321


# --------------------------------------------------------------------------- version guard


@pytest.fixture
def nixio_calls(monkeypatch):
    """Count the blocks written by ``NixIO.write_block``; forget earlier warnings."""
    calls = []
    original = neo.io.NixIO.write_block

    def write_block(self, block, *args, **kwargs):
        calls.append(block)
        return original(self, block, *args, **kwargs)

    monkeypatch.setattr(neo.io.NixIO, "write_block", write_block)
    monkeypatch.setattr(_nix_fast, "_WARNED", set())
    return calls


def header_version(path) -> tuple[int, ...]:
    with h5py.File(path, "r") as f:
        return tuple(int(v) for v in f.attrs["version"])


def fallback_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "spikingml._nix_fast" and r.levelname == "WARNING"
    ]


@pytest.mark.parametrize("breakage", ["nix-format-1.3.0", "no-h5py-phil"])
def test_unknown_nixio_or_missing_internals_fall_back_to_nixio(
    breakage, written, nixio_calls, monkeypatch, caplog, tmp_path
):
    """A nixio writing another format, or an h5py without the lock the fast writer takes:
    NixIO writes the file (what a fast file reads back as), with one warning."""
    fast_back = read(written[1])  # the fast writer's file, before the breakage
    if breakage == "nix-format-1.3.0":
        monkeypatch.setattr(nixio.file, "HDF_FF_VERSION", (1, 3, 0))
        expected_version, message = (1, 3, 0), "NIX format 'nix' 1.3.0"
    else:
        import h5py._objects

        monkeypatch.delattr(h5py._objects, "phil")
        expected_version, message = (1, 2, 1), "h5py._objects.phil"
    with pytest.raises(NotImplementedError, match=re.escape(message)):
        write_block_fast(to_neo(make_result()), tmp_path / "no.nix", fallback=False)
    assert not nixio_calls and not fallback_warnings(caplog)

    caplog.set_level("WARNING", logger="spikingml._nix_fast")
    for name in ("a.nix", "b.nix"):
        write_block_fast(to_neo(make_result()), tmp_path / name)
    assert len(nixio_calls) == 2  # both files written by NixIO...
    warned = fallback_warnings(caplog)
    assert len(warned) == 1 and message in warned[0]  # ...said once
    # nixio's own version in the header: the file claims no layout it lacks
    assert header_version(tmp_path / "a.nix") == expected_version
    assert_same_blocks(fast_back, read(tmp_path / "a.nix"))


def test_export_round_trip_without_the_fast_writer(nixio_calls, monkeypatch, tmp_path):
    """``export.write_nix`` takes the same fallback, and the run comes back whole."""
    monkeypatch.setattr(nixio.file, "HDF_FF_VERSION", (1, 3, 0))
    result = make_result()
    check_nix_round_trip(result, tmp_path / "run.nix")
    assert len(nixio_calls) == 1
    assert header_version(tmp_path / "run.nix") == (1, 3, 0)


def test_header_holds_the_layout_s_version_not_nixio_s(nixio_calls, monkeypatch, tmp_path):
    """Under a nixio declared compatible (here a made-up 1.2.9), the fast writer still
    writes its own layout's version, 1.2.1, and nixio reads the file."""
    monkeypatch.setattr(nixio.file, "HDF_FF_VERSION", (1, 2, 9))
    monkeypatch.setattr(_nix_fast, "SUPPORTED_NIX_VERSIONS", ((1, 2, 1), (1, 2, 9)))
    write_block_fast(to_neo(make_result()), tmp_path / "a.nix", fallback=False)
    assert not nixio_calls
    assert header_version(tmp_path / "a.nix") == _nix_fast.NIX_FORMAT_VERSION == (1, 2, 1)
    assert read(tmp_path / "a.nix").annotations["seed"] == 1234


def test_installed_nixio_is_supported():
    """The installed nixio writes the format of the frozen layout: the fast path runs
    (pyproject.toml bounds nixio so that this holds)."""
    assert _nix_fast._internals_problem() is None
    assert nixio.file.HDF_FF_VERSION in _nix_fast.SUPPORTED_NIX_VERSIONS
