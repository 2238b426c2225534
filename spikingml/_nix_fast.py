"""Fast writing of a NEO block to a NIX file, in exactly the layout of NEO's ``NixIO``.

``neo.io.NixIO.write_block`` goes through nixio, which creates every HDF5 object and
attribute with several h5py calls (and rewrites timestamps after most of them): about
35 ms per spike train, tens of seconds for the few hundred neurons x phases of a run.
:func:`write_block_fast` writes the same HDF5 objects, attributes, datatypes, chunk
shapes and link order, calling the HDF5 C library directly (through :mod:`ctypes`: the
very library h5py has loaded), and makes the spike trains, nearly all of the file, by
copying templates (``H5Ocopy``): about 2 ms per spike train on a slow machine.

A spike train is a MultiTag with a ``positions`` DataArray and a metadata section with
~6 properties: 11 HDF5 objects, 42 attributes. Trains with the same properties (names,
types, units) share a template, in a scratch HDF5 file in memory, with the values they
have in common (``t_start``, ``t_stop``, ``source_population``). For each train, the
template's names, entity ids and other values are written in place (its attributes and
datasets stay open), the template is copied into the file with one ``H5Ocopy``, and the
copy gets its ``data`` and its links into the segment and the block.

What is written, as ``NixIO`` writes it (``nixio`` file format 1.2.1):

* the file header (attributes ``format``, ``version``, ``id``, ``created_at``,
  ``updated_at``), the ``data`` and ``metadata`` groups and the ``neo`` section with the
  NEO version;
* the block (``data/<nix_name>``) and its metadata section, a group
  (``groups/<nix_name>``) and a section per segment and per :class:`neo.Group`;
* per AnalogSignal, one DataArray per channel (``data``, a sampled time dimension) with
  a shared metadata section (``t_start``, ``neo_name``, annotations, array annotations);
* per Event and SpikeTrain, a MultiTag with a ``positions`` DataArray and a metadata
  section; events also get a set dimension with their labels and reference the
  segment's signals;
* every annotation as a metadata property (NixIO's ``_write_property``), ``nix_name``
  included: like NixIO, the function annotates every written object with the
  ``nix_name`` it was written under (and reuses one it already has).

All groups track link creation order, as nixio's do, so segments, signals, channels,
events, spike trains and annotations read back in the order they were written.

Blocks holding anything else NixIO supports (epochs, irregularly sampled signals, image
sequences, channel views, subgroups, waveforms, proxy objects), unusual annotation
values, or a platform where h5py's HDF5 library cannot be reached through ctypes, are
handed to ``NixIO.write_block`` instead (``fallback=False`` raises ``NotImplementedError``).

The layout is frozen at NIX format 1.2.1 (:data:`NIX_FORMAT_VERSION`, written into every
file's header), and the writer uses members of h5py, nixio and neo that are not their
public API (h5py's global lock ``phil`` and its chunk guess ``guess_chunk``, nixio's
timestamps, NixIO's annotation conversion: :data:`_INTERNALS`). Each call checks that the
installed nixio writes a format listed in :data:`SUPPORTED_NIX_VERSIONS` and that those
members exist; if not, the block goes to ``NixIO.write_block`` (the public, slow path)
and a warning is logged once: a newer nixio then writes its own layout, never a file
that claims a format it does not have.
"""

from __future__ import annotations

import ctypes
import gc
import glob
import importlib
import itertools
import logging
import os
import sys
from collections.abc import Iterable
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

import h5py
import neo
import numpy as np
import quantities as pq

__all__ = ["NIX_FORMAT_VERSION", "SUPPORTED_NIX_VERSIONS", "write_block_fast"]

_log = logging.getLogger(__name__)

#: The NIX file-format version of the layout written here (nixio 1.5's, format 1.2.1),
#: written into every file's header whatever the installed nixio calls its own format.
NIX_FORMAT_VERSION: tuple[int, int, int] = (1, 2, 1)

#: Formats of the installed nixio (``nixio.file.HDF_FF_VERSION``) under which the fast
#: writer is used: those whose files have exactly the layout written here. Under any
#: other, blocks are written by ``NixIO.write_block``. Add a version only after checking
#: that tests/test_nix_fast.py passes with that nixio.
SUPPORTED_NIX_VERSIONS: tuple[tuple[int, int, int], ...] = (NIX_FORMAT_VERSION,)

#: The NIX file format's name (``nixio.file.FILE_FORMAT``), in the file header.
_NIX_FILE_FORMAT = "nix"

#: Members of h5py, nixio and neo used here that are not their documented API, as
#: (module, name): checked before each write (:func:`_internals_problem`).
_INTERNALS: tuple[tuple[str, str], ...] = (
    ("h5py._objects", "phil"),  # h5py's global lock, held around every HDF5 call
    ("h5py._hl.filters", "guess_chunk"),  # the chunk shape h5py (so nixio) chooses
    ("nixio.util", "now_int"),  # nixio's timestamps...
    ("nixio.util", "time_to_str"),  # ...and their text
    ("neo.io.nixio", "dt_to_nix"),  # NixIO's conversion of dates and times
    ("neo.io.nixio", "ARRAYANNOTATION"),  # NixIO's property types
    ("neo.io.nixio", "EMPTYANNOTATION"),
)

_DATETIME_TYPES = (date, dtime, datetime)

# Constants of the HDF5 C API (stable since HDF5 1.10, where hid_t became 64 bits)
_H5F_ACC_TRUNC = 0x0002
_H5P_DEFAULT = 0
_H5S_ALL = 0
_CRT_ORDER = 0x0001 | 0x0002  # H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED


# --------------------------------------------------------------------------- HDF5 library


class _Lib:
    """The HDF5 C functions used here, bound to h5py's own copy of the library."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        hid, herr, cp, vp = ctypes.c_int64, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p
        hsize_p = ctypes.POINTER(ctypes.c_uint64)

        def bind(name, restype, *argtypes):
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = list(argtypes)
            fn.errcheck = _errcheck
            return fn

        self.Fcreate = bind("H5Fcreate", hid, cp, ctypes.c_uint, hid, hid)
        self.Fclose = bind("H5Fclose", herr, hid)
        self.Gopen2 = bind("H5Gopen2", hid, hid, cp, hid)
        self.Gcreate2 = bind("H5Gcreate2", hid, hid, cp, hid, hid, hid)
        self.Gclose = bind("H5Gclose", herr, hid)
        self.Acreate2 = bind("H5Acreate2", hid, hid, cp, hid, hid, hid, hid)
        self.Aopen = bind("H5Aopen", hid, hid, cp, hid)
        self.Awrite = bind("H5Awrite", herr, hid, hid, vp)
        self.Aclose = bind("H5Aclose", herr, hid)
        self.Dcreate2 = bind("H5Dcreate2", hid, hid, cp, hid, hid, hid, hid, hid)
        self.Dwrite = bind("H5Dwrite", herr, hid, hid, hid, hid, hid, vp)
        self.Dopen2 = bind("H5Dopen2", hid, hid, cp, hid)
        self.Dclose = bind("H5Dclose", herr, hid)
        self.Aopen_by_name = bind("H5Aopen_by_name", hid, hid, cp, cp, hid, hid)
        self.Ocopy = bind("H5Ocopy", herr, hid, cp, hid, cp, hid, hid)
        self.Adelete = bind("H5Adelete", herr, hid, cp)
        self.Olink = bind("H5Olink", herr, hid, hid, cp, hid, hid)
        self.Lcreate_hard = bind("H5Lcreate_hard", herr, hid, cp, hid, cp, hid, hid)
        self.Screate_simple = bind("H5Screate_simple", hid, ctypes.c_int, hsize_p, hsize_p)
        self.Sclose = bind("H5Sclose", herr, hid)


def _errcheck(result, func, args):
    if result < 0:
        names = ", ".join(repr(a.decode(errors="replace")) for a in args if isinstance(a, bytes))
        raise OSError(f"HDF5 call {func.__name__}({names}) failed")
    return result


def _candidate_paths() -> list[str]:
    """Files that may be h5py's HDF5 library, most likely first."""
    paths: list[str] = []
    try:  # Linux: the libraries mapped into this process (h5py is imported)
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rsplit(None, 1)[-1]
                base = os.path.basename(path)
                if base.startswith("libhdf5") and not base.startswith("libhdf5_hl"):
                    if path not in paths:
                        paths.append(path)
    except OSError:
        pass
    here = os.path.dirname(h5py.__file__)
    for pattern in (
        os.path.join(here, os.pardir, "h5py.libs", "libhdf5*"),  # manylinux wheels
        os.path.join(here, ".dylibs", "libhdf5*"),  # macOS wheels
        os.path.join(here, "hdf5*.dll"),  # Windows wheels
        os.path.join(sys.prefix, "lib", "libhdf5.*"),  # conda and the like
        os.path.join(sys.prefix, "Library", "bin", "hdf5*.dll"),
    ):
        for path in sorted(glob.glob(pattern)):
            path = os.path.realpath(path)
            if "hdf5_hl" not in os.path.basename(path) and path not in paths:
                paths.append(path)
    return paths


_LIB_CACHE: list[_Lib | None] = []


def _hdf5() -> _Lib | None:
    """h5py's HDF5 library through ctypes, or None where it cannot be found.

    A candidate is accepted only if it knows an identifier h5py has just created (a
    string type of an unusual size): the same library instance, not merely a copy.
    """
    if _LIB_CACHE:
        return _LIB_CACHE[0]
    found = None
    probe = h5py.h5t.C_S1.copy()
    probe.set_size(4567)
    for path in _candidate_paths():
        try:
            lib = ctypes.CDLL(path)
            get_size = lib.H5Tget_size
            get_size.restype = ctypes.c_size_t
            get_size.argtypes = [ctypes.c_int64]
            is_valid = lib.H5Iis_valid
            is_valid.restype = ctypes.c_int
            is_valid.argtypes = [ctypes.c_int64]
            if is_valid(probe.id) > 0 and get_size(probe.id) == 4567:
                version = [ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()]
                lib.H5get_libversion(*(ctypes.byref(v) for v in version))
                if (version[0].value, version[1].value) >= (1, 10):  # 64-bit hid_t
                    found = _Lib(lib)
                break
        except (OSError, AttributeError):
            continue
    _LIB_CACHE.append(found)
    return found


# --------------------------------------------------------------------------- NEO -> NIX values


class _Unsupported(Exception):
    """The block holds something only NixIO itself writes."""


def _units_to_string(pqunit) -> str:
    """``neo.io.nixio.units_to_string``."""
    dim = str(pqunit.dimensionality)
    if dim.startswith("(") and dim.endswith(")"):
        return dim.strip("()")
    return dim


def _sanitize_unit(unit):
    """What nixio stores for a unit (``DataArray.unit``/``Property.unit`` setters)."""
    if unit:
        unit = unit.replace(" ", "").replace("mu", "u").replace("µ", "u").replace("μ", "u")
    if unit == "":
        unit = None
    return unit


def _nix_kind(value) -> str:
    """``nixio.DataType.get_dtype``, as a storage kind."""
    if isinstance(value, (bool, np.bool_)):
        return "b1"
    if isinstance(value, (int, np.integer)):
        if not -(2**63) <= value < 2**63:
            raise _Unsupported(f"integer {value} out of the int64 range")
        return "i8"
    if isinstance(value, (float, np.floating)):
        return "f8"
    if isinstance(value, str):
        return "str"
    raise _Unsupported(f"value {value!r} of type {type(value).__name__}")


class _Prop:
    """One metadata property: values (empty list: no values), storage kind, attributes."""

    __slots__ = ("name", "kind", "values", "unit", "definition", "type")

    def __init__(self, name, kind, values, unit=None, definition=None, type_=None):
        if not name or "/" in name:
            raise _Unsupported(f"property name {name!r}")
        self.name, self.kind, self.values = name, kind, values
        self.unit, self.definition, self.type = _sanitize_unit(unit), definition, type_


def _dt_to_nix(value):
    from neo.io.nixio import dt_to_nix

    return dt_to_nix(value)


def _plain(name: str, value) -> _Prop:
    """``section[name] = value`` (one value, nixio's ``Section.__setitem__``)."""
    return _Prop(name, _nix_kind(value), [value])


def _annotation(name: str, v, array: bool = False) -> _Prop:
    """Port of ``NixIO._write_property`` (plus ``p.type = ARRAYANNOTATION``)."""
    from neo.io.nixio import ARRAYANNOTATION, EMPTYANNOTATION

    type_ = ARRAYANNOTATION if array else None
    if isinstance(v, _DATETIME_TYPES):
        value, annotype = _dt_to_nix(v)
        return _Prop(name, "str", [value], definition=annotype, type_=type_)
    if isinstance(v, str):
        return _Prop(name, "str", [v] if len(v) else [], type_=type_)
    if isinstance(v, bytes):
        return _Prop(name, "str", [v.decode()], type_=type_)
    if isinstance(v, Iterable):
        if isinstance(v, (dict, set, frozenset)) or (
            getattr(getattr(v, "dtype", None), "kind", None) == "O"
        ):
            raise _Unsupported(f"annotation {name!r} of type {type(v).__name__}")
        unit = None
        definition = None
        if hasattr(v, "ndim") and v.ndim == 0:
            values = [v.item()]
        elif (hasattr(v, "size") and v.size == 0) or len(v) == 0:
            values = []
            definition = EMPTYANNOTATION
        else:
            values = []
            for item in v:
                if isinstance(item, str):
                    pass
                elif isinstance(item, pq.Quantity):
                    current = str(item.dimensionality)
                    if unit is None:
                        unit = current
                    elif unit != current:
                        raise _Unsupported(f"inconsistent units in annotation {name!r}")
                    item = item.magnitude.item()
                elif isinstance(item, Iterable):
                    raise _Unsupported(f"nested annotation {name!r}")
                values.append(item)
        if hasattr(v, "dimensionality"):
            unit = str(v.dimensionality)
        if not values:
            return _Prop(name, "str", [], unit, definition, type_)
        kind = _nix_kind(values[0])
        for item in values:
            if _nix_kind(item) != kind:
                raise _Unsupported(f"mixed value types in annotation {name!r}")
        return _Prop(name, kind, values, unit, definition, type_)
    if type(v).__module__ == "numpy":
        v = v.item()
    return _Prop(name, _nix_kind(v), [v], type_=type_)


def _annotation_props(obj) -> list[_Prop]:
    props = [_annotation(k, v) for k, v in obj.annotations.items()]
    array_annotations = getattr(obj, "array_annotations", None)
    if array_annotations:
        props.extend(_annotation(k, v, array=True) for k, v in array_annotations.items())
    return props


def _check_names(obj) -> None:
    """Name, description and ``nix_name`` of an object as the fast writer handles them."""
    if obj.name is not None and not isinstance(obj.name, str):
        raise _Unsupported("a name that is not a string")
    if obj.description is not None and not isinstance(obj.description, str):
        raise _Unsupported("a description that is not a string")
    nix_name = obj.annotations.get("nix_name")
    if nix_name is not None and (not isinstance(nix_name, str) or not nix_name or "/" in nix_name):
        raise _Unsupported(f"nix_name {nix_name!r}")


def _check_object(obj) -> None:
    _check_names(obj)
    _annotation_props(obj)


#: Stands for the ``nix_name`` property of an object that has no ``nix_name`` yet.
_NIX_NAME = _Prop("nix_name", "str", [""])


class _Train:
    """A spike train's metadata properties, as NixIO writes them, and its template."""

    __slots__ = ("props", "unit", "template", "varying")

    def __init__(self, st: neo.SpikeTrain) -> None:
        annotations = [_annotation(k, v) for k, v in st.annotations.items()]
        if "nix_name" not in st.annotations:  # NixIO adds it before writing
            annotations.append(_NIX_NAME)
        self.props = [
            _plain("neo_name", st.name if st.name is not None else ""),
            _annotation("t_start", st.t_start),
            _annotation("t_stop", st.t_stop),
            *annotations,
            *(_annotation(k, v, array=True) for k, v in st.array_annotations.items()),
        ]
        # a SpikeTrain is its times: st.times would build (and parse the units of) a copy
        self.unit = _sanitize_unit(_units_to_string(st))
        self.template: tuple = ()
        self.varying: tuple[int, ...] = ()

    def structure(self) -> tuple:
        return (
            self.unit,
            tuple(
                (p.name, p.kind, len(p.values), p.unit, p.definition, p.type) for p in self.props
            ),
        )


def _same(values: list) -> tuple:
    """A key equal for equal values only (``repr`` tells ``0.0`` from ``-0.0``)."""
    return tuple(map(repr, values))


def _plan_templates(trains: list[_Train]) -> None:
    """Choose the template of every spike train.

    Trains with the same structure (properties, kinds, lengths, units) share templates.
    A property whose values repeat a lot among them (``t_start``, ``t_stop``,
    ``source_population``: at most one distinct value in 16 trains) is written into the
    templates, the others (``neo_name``, ``source_index``, ``nix_name``) after each copy.
    """
    by_structure: dict[tuple, list[_Train]] = {}
    for train in trains:
        by_structure.setdefault(train.structure(), []).append(train)
    for structure, group in by_structure.items():
        limit = max(1, len(group) // 16)
        n_props = len(structure[1])
        baked = []
        for j in range(n_props):
            if any(t.props[j] is _NIX_NAME for t in group):
                continue
            distinct = {_same(t.props[j].values) for t in group}
            if len(distinct) <= limit:
                baked.append(j)
        keys = {tuple(_same(t.props[j].values) for j in baked) for t in group}
        if len(keys) > limit:  # too many templates: keep only the constant properties
            baked = [j for j in baked if len({_same(t.props[j].values) for t in group}) == 1]
        varying = tuple(j for j in range(n_props) if j not in baked)
        for t in group:
            t.template = (structure, tuple((j, _same(t.props[j].values)) for j in baked))
            t.varying = varying


def _check_supported(block: neo.Block) -> dict[int, _Train]:
    """Raise :class:`_Unsupported` unless the fast writer writes ``block`` as NixIO does.

    Returns the plan of every spike train, by ``id``.
    """
    from neo.io.proxyobjects import BaseProxy

    _check_object(block)
    in_segments: set[int] = set()
    trains: dict[int, _Train] = {}
    for obj in (block, *block.segments):
        if obj.file_datetime and not isinstance(obj.file_datetime, _DATETIME_TYPES):
            raise _Unsupported("file_datetime")
        if obj.rec_datetime and not isinstance(obj.rec_datetime, datetime):
            raise _Unsupported("rec_datetime")
    for seg in block.segments:
        _check_object(seg)
        if seg.irregularlysampledsignals or seg.epochs or seg.imagesequences:
            raise _Unsupported("epochs, irregularly sampled signals or image sequences")
        for obj in itertools.chain(seg.analogsignals, seg.events, seg.spiketrains):
            if isinstance(obj, BaseProxy):
                raise _Unsupported("proxy objects")
            in_segments.add(id(obj))
        for obj in itertools.chain(seg.analogsignals, seg.events):
            _check_object(obj)
        for asig in seg.analogsignals:
            if asig.magnitude.ndim != 2 or asig.magnitude.dtype.kind not in "iuf":
                raise _Unsupported("a signal that is not a 2-D numeric array")
        for ev in seg.events:
            if ev.labels.dtype.kind not in "U":
                raise _Unsupported("event labels that are not strings")
        for st in seg.spiketrains:
            if st.waveforms is not None:
                raise _Unsupported("spike trains with waveforms")
            if id(st) not in trains:
                _check_names(st)
                trains[id(st)] = _Train(st)
    for group in block.groups:
        _check_object(group)
        if (
            group.groups
            or group.channelviews
            or group.irregularlysampledsignals
            or group.imagesequences
            or group.epochs
        ):
            raise _Unsupported("groups with subgroups, views, epochs or other signals")
        for obj in itertools.chain(group.analogsignals, group.events, group.spiketrains):
            if id(obj) not in in_segments:
                raise _Unsupported("a group holding an object of no segment")
    _plan_templates(list(trains.values()))
    return trains


# --------------------------------------------------------------------------- the writer


class _IdSource:
    """Random (version 4) UUIDs, drawn in batches: ``uuid.uuid4()`` costs ~7 us each."""

    def __init__(self) -> None:
        self._buf: list[str] = []

    def hex(self) -> str:
        """32 hex digits, as ``uuid.uuid4().hex`` (NixIO's object names)."""
        if not self._buf:
            raw = np.frombuffer(os.urandom(16 * 1024), dtype=np.uint8).reshape(1024, 16).copy()
            raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
            raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
            self._buf = [row.tobytes().hex() for row in raw]
        return self._buf.pop()

    def uuid(self) -> str:
        """``str(uuid.uuid4())`` (nixio's entity ids)."""
        h = self.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_NUMPY = {"i8": np.dtype(np.int64), "f8": np.dtype(np.float64), "b1": np.dtype(np.bool_)}


class _Writer:
    """HDF5 objects as nixio/h5py create them, one C call per HDF5 operation.

    Handles are plain ``hid_t`` integers; every group opened here is closed by
    :meth:`close_group` or, at the latest, by :meth:`close`. Datatypes and property lists
    come from h5py (its objects, kept in ``_keep``, own them), in the forms h5py passes
    for the objects nixio creates.
    """

    def __init__(self, lib: _Lib) -> None:
        from h5py._hl.filters import guess_chunk
        from nixio import util as nixutil

        self.h5 = lib
        self.ids = _IdSource()
        self._guess_chunk = guess_chunk
        self.stamp = ctypes.c_char_p(nixutil.time_to_str(nixutil.now_int()))
        self._keep: list = []
        self._open: set[int] = set()  # groups
        self._kept: list[tuple] = []  # (close function, handle) of long-lived handles
        self._spaces: dict[int, int] = {}
        self._types: dict[str, int] = {}
        self._dcpls: dict[int, int] = {}
        self._chunks: dict[tuple[int, int], int] = {}

        self.utf8 = self._h5py(h5py.h5t.py_create(h5py.string_dtype("utf-8"), logical=True))
        self.ascii = self._h5py(h5py.h5t.py_create(h5py.string_dtype("ascii"), logical=True))
        self.scalar = self._h5py(h5py.h5s.create(h5py.h5s.SCALAR))
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_link_creation_order(_CRT_ORDER)
        self.gcpl = self._h5py(gcpl)
        lcpl = h5py.h5p.create(h5py.h5p.LINK_CREATE)
        lcpl.set_char_encoding(h5py.h5t.CSET_UTF8)
        self.lcpl_utf8 = self._h5py(lcpl)
        dapl = h5py.h5p.create(h5py.h5p.DATASET_ACCESS)
        dapl.set_chunk_cache(0, 0, 1.0)  # no chunk cache: writes reach the file at once
        self.dapl_uncached = self._h5py(dapl)

        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        fcpl.set_link_creation_order(_CRT_ORDER)
        self.fcpl = self._h5py(fcpl)
        self._files: list[int] = []
        self._memory_root: int | None = None
        self.root = 0

    def create(self, path: str | bytes) -> None:
        """Create (truncate) the NIX file; its root group becomes :attr:`root`."""
        self.root = self._file(os.fsencode(path), _H5P_DEFAULT)

    def _file(self, path: bytes, fapl: int) -> int:
        """Create (truncate) a file as ``nixio.File`` does; return its root group."""
        h5 = self.h5
        fid = h5.Fcreate(path, _H5F_ACC_TRUNC, self.fcpl, fapl)
        self._files.append(fid)
        return self.opened(h5.Gopen2(fid, b"/", _H5P_DEFAULT))

    def memory_root(self) -> int:
        """Root group of a scratch file in memory (for templates), created on first use."""
        if self._memory_root is None:
            fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
            fapl.set_fapl_core(1 << 20, False)  # in memory only, never on disk
            self._keep.append(fapl)
            name = f"spikingml-nix-templates-{self.ids.hex()}".encode()
            self._memory_root = self._file(name, fapl.id)
        return self._memory_root

    # ---- resources

    def _h5py(self, obj) -> int:
        self._keep.append(obj)
        return obj.id

    def opened(self, gid: int) -> int:
        """Remember to close the group ``gid`` in :meth:`close`."""
        self._open.add(gid)
        return gid

    def keep_open(self, close, handle: int) -> int:
        """Remember to ``close(handle)`` in :meth:`close`."""
        self._kept.append((close, handle))
        return handle

    def close_group(self, gid: int) -> None:
        self._open.discard(gid)
        self.h5.Gclose(gid)

    def close(self) -> None:
        """Close every handle opened here, and the files (the first one last)."""
        h5 = self.h5
        try:
            while self._kept:
                close, handle = self._kept.pop()
                close(handle)
            for gid in list(self._open):
                self.close_group(gid)
            for sid in list(self._spaces.values()):
                h5.Sclose(sid)
            self._spaces.clear()
        finally:
            try:
                while self._files:
                    h5.Fclose(self._files.pop())
            finally:
                self._keep.clear()

    def _type(self, dtype: np.dtype) -> int:
        tid = self._types.get(dtype.str)
        if tid is None:
            tid = self._types[dtype.str] = self._h5py(h5py.h5t.py_create(dtype, logical=True))
        return tid

    def _space(self, n: int) -> int:
        """A 1-D dataspace of ``n`` elements, extendible (``maxshape=(None,)``)."""
        sid = self._spaces.get(n)
        if sid is None:
            dims = (ctypes.c_uint64 * 1)(n)
            maxdims = (ctypes.c_uint64 * 1)(2**64 - 1)  # H5S_UNLIMITED
            sid = self._spaces[n] = self.h5.Screate_simple(1, dims, maxdims)
        return sid

    def _dcpl(self, n: int, itemsize: int) -> int:
        """The creation list of h5py's ``require_dataset(shape=(n,), chunks=True, ...)``."""
        chunk = self._chunks.get((n, itemsize))
        if chunk is None:
            chunk = int(self._guess_chunk((n,), (None,), itemsize)[0])
            self._chunks[(n, itemsize)] = chunk
        pid = self._dcpls.get(chunk)
        if pid is None:
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_chunk((chunk,))
            dcpl.set_obj_track_times(False)
            pid = self._dcpls[chunk] = self._h5py(dcpl)
        return pid

    def _lcpl(self, name: str) -> int:
        # h5py, through which nixio makes hard links, marks non-ASCII link names UTF-8
        return _H5P_DEFAULT if name.isascii() else self.lcpl_utf8

    # ---- objects

    def group(self, parent: int, name: str) -> int:
        """A group as nixio's ``H5Group`` creates it (link creation order tracked)."""
        gid = self.h5.Gcreate2(parent, name.encode(), _H5P_DEFAULT, self.gcpl, _H5P_DEFAULT)
        return self.opened(gid)

    def link(self, obj: int, parent: int, name: str) -> None:
        """A hard link ``parent/name`` to the open object ``obj``."""
        self.h5.Olink(obj, parent, name.encode(), self._lcpl(name), _H5P_DEFAULT)

    def link_path(self, where: int, path: str, parent: int, name: str) -> None:
        """A hard link ``parent/name`` to the object at ``where/path``."""
        self.h5.Lcreate_hard(
            where, path.encode(), parent, name.encode(), self._lcpl(name), _H5P_DEFAULT
        )

    def _attr(self, obj: int, name: bytes, tid: int, sid: int, buf) -> None:
        h5 = self.h5
        aid = h5.Acreate2(obj, name, tid, sid, _H5P_DEFAULT, _H5P_DEFAULT)
        try:
            h5.Awrite(aid, tid, buf)
        finally:
            h5.Aclose(aid)

    def rewrite_str(self, aid: int, value: str) -> None:
        """Write ``value`` into the open variable-length UTF-8 string attribute ``aid``."""
        self.h5.Awrite(aid, self.utf8, ctypes.byref(ctypes.c_char_p(value.encode())))

    def attr_str(self, obj: int, name: bytes, value: str) -> None:
        """``attrs[name] = value`` for a ``str``: a variable-length UTF-8 string."""
        buf = ctypes.byref(ctypes.c_char_p(value.encode()))
        self._attr(obj, name, self.utf8, self.scalar, buf)

    def attr_ascii(self, obj: int, name: bytes, value: bytes) -> None:
        """``attrs[name] = value`` for ``bytes``: a variable-length ASCII string."""
        self._attr(obj, name, self.ascii, self.scalar, ctypes.byref(ctypes.c_char_p(value)))

    def attr_stamp(self, obj: int, name: bytes) -> None:
        self._attr(obj, name, self.ascii, self.scalar, ctypes.byref(self.stamp))

    def attr_num(self, obj: int, name: bytes, value) -> None:
        """``attrs[name] = value`` for a number or a numeric array."""
        h5 = self.h5
        arr = np.array(value, order="C")  # (ascontiguousarray would make a scalar 1-D)
        tid = self._type(arr.dtype)
        if arr.ndim == 0:
            self._attr(obj, name, tid, self.scalar, arr.ctypes.data)
            return
        dims = (ctypes.c_uint64 * arr.ndim)(*arr.shape)
        sid = h5.Screate_simple(arr.ndim, dims, None)
        try:
            self._attr(obj, name, tid, sid, arr.ctypes.data)
        finally:
            h5.Sclose(sid)

    def entity(self, gid: int, name: str, type_: str | None) -> str:
        """``Entity.create_new``: name, type, entity_id, created_at, updated_at."""
        entity_id = self.ids.uuid()
        self.attr_str(gid, b"name", name)
        if type_ is not None:
            self.attr_str(gid, b"type", type_)
        self.attr_str(gid, b"entity_id", entity_id)
        self.attr_stamp(gid, b"created_at")
        self.attr_stamp(gid, b"updated_at")
        return entity_id

    def dataset(
        self, parent: int, name: str, values, kind: str | None, chunk_n: int, write: bool = True
    ) -> int:
        """A 1-D chunked, extendible dataset holding ``values``; returned open.

        ``kind`` ``"str"`` stores variable-length UTF-8 strings; otherwise ``values`` is
        stored with its own (or ``kind``'s) numeric type. The chunk shape is the one
        h5py guesses for ``chunk_n`` elements. With ``write=False`` the dataset gets the
        shape and type of ``values`` but no data (yet).
        """
        h5 = self.h5
        if kind == "str":
            n = len(values)
            tid, itemsize = self.utf8, 8
            buf = (ctypes.c_char_p * max(n, 1))(*[v.encode() for v in values])
            keep, data = buf, ctypes.addressof(buf)
        else:
            arr = np.ascontiguousarray(values, dtype=_NUMPY.get(kind))
            n = arr.shape[0]
            tid, itemsize = self._type(arr.dtype), arr.dtype.itemsize
            keep, data = arr, arr.ctypes.data
        did = h5.Dcreate2(
            parent,
            name.encode(),
            tid,
            self._space(n),
            _H5P_DEFAULT,  # (h5py's create_dataset leaves non-ASCII names marked ASCII)
            self._dcpl(chunk_n, itemsize),
            _H5P_DEFAULT,
        )
        if n and write:
            try:
                h5.Dwrite(did, tid, _H5S_ALL, _H5S_ALL, _H5P_DEFAULT, data)
            except BaseException:
                h5.Dclose(did)
                raise
        del keep
        return did

    def write(self, did: int, kind: str, values) -> None:
        """Write ``values`` into the existing dataset ``did`` (of the right shape)."""
        if kind == "str":
            buf = (ctypes.c_char_p * len(values))(*[v.encode() for v in values])
            self.h5.Dwrite(did, self.utf8, _H5S_ALL, _H5S_ALL, _H5P_DEFAULT, ctypes.addressof(buf))
        else:
            arr = np.ascontiguousarray(values, dtype=_NUMPY[kind])
            tid = self._type(arr.dtype)
            self.h5.Dwrite(did, tid, _H5S_ALL, _H5S_ALL, _H5P_DEFAULT, arr.ctypes.data)

    def array(self, parent: int, name: str, arr: np.ndarray) -> None:
        """``data`` of a DataArray, ``labels`` of a set dimension (``H5Group.write_data``)."""
        kind = "str" if arr.dtype.kind in "OUS" else None
        values = [str(v) for v in arr] if kind == "str" else arr
        self.h5.Dclose(self.dataset(parent, name, values, kind, arr.shape[0]))

    def prop(self, props: int, p: _Prop, write: bool = True) -> None:
        """``Section.create_property`` (and unit, definition, type) for one property.

        ``write=False`` leaves the values out (to be written later).
        """
        # nixio creates a property without values with 8 elements, then shrinks it to 0
        did = self.dataset(props, p.name, p.values, p.kind, len(p.values) or 8, write)
        try:
            self.attr_str(did, b"name", p.name)
            self.attr_str(did, b"entity_id", self.ids.uuid())
            self.attr_stamp(did, b"created_at")
            self.attr_stamp(did, b"updated_at")
            if p.unit is not None:
                self.attr_str(did, b"unit", p.unit)
            if p.definition is not None:
                self.attr_str(did, b"definition", p.definition)
            if p.type is not None:
                self.attr_str(did, b"type", p.type)
        finally:
            self.h5.Dclose(did)

    def restamp(self, gid: int, stamp: bytes) -> None:
        """``force_created_at``: replace the ``created_at`` attribute."""
        self.h5.Adelete(gid, b"created_at")
        self.attr_ascii(gid, b"created_at", stamp)


class _Section:
    """A metadata section being written: its group and lazily created containers."""

    __slots__ = ("gid", "props", "sections")

    def __init__(self, gid: int) -> None:
        self.gid: int = gid
        self.props: int | None = None
        self.sections: int | None = None


class _BlockWriter:
    """``NixIO.write_block``, step by step: the same objects, created in the same order."""

    def __init__(self, w: _Writer, trains: dict[int, _Train]) -> None:
        self.w = w
        self.trains = trains
        self.templates: dict[tuple, _Template] = {}  # by template key
        self._containers: dict[tuple[int, str], int] = {}
        # nix_name -> entity id of the MultiTags written so far (block/multi_tags/nix_name)
        self.multi_tags: dict[str, str] = {}
        # nix_name -> (name, entity id, type) of each DataArray of the signals written so far
        self.signals: dict[str, list[tuple[str, str, str]]] = {}

    # ---- helpers

    def container(self, parent: int, name: str) -> int:
        """A container group (``groups``, ``data_arrays``, ...), created on first use."""
        key = (parent, name)
        gid = self._containers.get(key)
        if gid is None:
            gid = self._containers[key] = self.w.group(parent, name)
        return gid

    def section(self, parent: _Section | int, name: str, type_: str) -> _Section:
        """``create_section``: in a section's ``sections``, or directly in a group."""
        w = self.w
        if isinstance(parent, _Section):
            if parent.sections is None:
                parent.sections = w.group(parent.gid, "sections")
            parent = parent.sections
        gid = w.group(parent, name)
        w.entity(gid, name, type_)
        return _Section(gid)

    def props(self, sec: _Section, props: Iterable[_Prop]) -> None:
        for p in props:
            if sec.props is None:
                sec.props = self.w.group(sec.gid, "properties")
            self.w.prop(sec.props, p)

    def close_section(self, sec: _Section) -> None:
        for gid in (sec.props, sec.sections, sec.gid):
            if gid is not None:
                self.w.close_group(gid)

    def definition(self, gid: int, description) -> None:
        if description is not None:
            self.w.attr_str(gid, b"definition", description)

    def nix_name(self, obj, prefix: str) -> str:
        name = obj.annotations.get("nix_name")
        if name is None:
            name = f"{prefix}.{self.w.ids.hex()}"
            obj.annotate(nix_name=name)
        return name

    @staticmethod
    def neo_name(obj) -> _Prop:
        return _plain("neo_name", obj.name if obj.name is not None else "")

    @staticmethod
    def file_datetime(obj) -> list[_Prop]:
        if not obj.file_datetime:
            return []
        value, annotype = _dt_to_nix(obj.file_datetime)
        return [_Prop("file_datetime", "str", [value], definition=annotype)]

    # ---- file, block, segments, groups

    def file(self) -> None:
        """``nixio.File`` in overwrite mode, and the ``neo`` section of ``NixIO``."""
        w = self.w
        w.attr_ascii(w.root, b"format", _NIX_FILE_FORMAT.encode("ascii"))
        # the layout's version, not the installed nixio's (_internals_problem checked it)
        w.attr_num(w.root, b"version", np.array(NIX_FORMAT_VERSION, dtype=np.int32))
        w.attr_str(w.root, b"id", w.ids.uuid())
        self.data = w.group(w.root, "data")
        self.metadata = w.group(w.root, "metadata")
        w.attr_stamp(w.root, b"created_at")
        w.attr_stamp(w.root, b"updated_at")
        sec = self.section(self.metadata, "neo", "neo.metadata")
        self.props(sec, [_plain("version", neo.__version__)])
        self.close_section(sec)

    def block(self, block: neo.Block) -> None:
        from nixio import util as nixutil

        w = self.w
        nix_name = self.nix_name(block, "neo.block")
        self.blk = w.group(self.data, nix_name)
        w.entity(self.blk, nix_name, "neo.block")
        self.blk_md = self.section(self.metadata, nix_name, "neo.block.metadata")
        w.link(self.blk_md.gid, self.blk, "metadata")
        self.definition(self.blk, block.description)
        if block.rec_datetime:
            w.restamp(self.blk, nixutil.time_to_str(int(block.rec_datetime.timestamp())))
        props = [self.neo_name(block), *self.file_datetime(block), *_annotation_props(block)]
        self.props(self.blk_md, props)
        for seg in block.segments:
            self.segment(seg)
        for group in block.groups:
            self.group(group)

    def nix_group(self, obj: neo.Segment | neo.Group, neo_type: str) -> tuple[int, Any]:
        """The NIX group of a segment or group, with its metadata section linked."""
        nix_name = self.nix_name(obj, neo_type)
        gid = self.w.group(self.container(self.blk, "groups"), nix_name)
        self.w.entity(gid, nix_name, neo_type)
        md = self.section(self.blk_md, nix_name, f"{neo_type}.metadata")
        self.w.link(md.gid, gid, "metadata")
        self.definition(gid, obj.description)
        return gid, md

    def segment(self, seg: neo.Segment) -> None:
        from nixio import util as nixutil

        w = self.w
        gid, md = self.nix_group(seg, "neo.segment")
        if seg.rec_datetime:
            w.restamp(gid, nixutil.time_to_str(int(seg.rec_datetime.strftime("%s"))))
        self.props(md, [self.neo_name(seg), *self.file_datetime(seg), *_annotation_props(seg)])
        das: list[tuple[str, str, str]] = []  # the segment's data arrays, in order
        for asig in seg.analogsignals:
            self.analogsignal(asig, gid, md, das)
        for event in seg.events:
            self.event(event, gid, md, das)
        for st in seg.spiketrains:
            self.spiketrain(st, gid, md)
        self.close_section(md)
        for name in ("data_arrays", "multi_tags"):
            sub = self._containers.pop((gid, name), None)
            if sub is not None:
                w.close_group(sub)
        w.close_group(gid)

    def group(self, group: neo.Group) -> None:
        w = self.w
        gid, md = self.nix_group(group, "neo.group")
        self.props(md, [self.neo_name(group), *_annotation_props(group)])
        self.close_section(md)
        for asig in group.analogsignals:
            das = self.container(self.blk, "data_arrays")
            for da_name, da_id, _ in self.signals[asig.annotations["nix_name"]]:
                w.link_path(das, da_name, self.container(gid, "data_arrays"), da_id)
        for obj in itertools.chain(group.events, group.spiketrains):
            mts = self.container(self.blk, "multi_tags")
            name = obj.annotations["nix_name"]
            w.link_path(mts, name, self.container(gid, "multi_tags"), self.multi_tags[name])
        for name in ("data_arrays", "multi_tags"):
            sub = self._containers.pop((gid, name), None)
            if sub is not None:
                w.close_group(sub)
        w.close_group(gid)

    # ---- data objects

    def data_array(self, name: str, type_: str, data: np.ndarray) -> tuple[int, str]:
        """``Block.create_data_array(name, type_, data=data)``; returned open."""
        w = self.w
        gid = w.group(self.container(self.blk, "data_arrays"), name)
        da_id = w.entity(gid, name, type_)
        w.array(gid, "data", data)
        return gid, da_id

    def unit(self, gid: int, unit: str) -> None:
        """``DataArray.unit = unit``."""
        unit = _sanitize_unit(unit)
        if unit is not None:
            self.w.attr_str(gid, b"unit", unit)

    def analogsignal(self, asig, seg: int, seg_md: _Section, das: list) -> None:
        w = self.w
        nix_name = self.nix_name(asig, "neo.analogsignal")
        if nix_name in self.signals:  # the same signal in several segments
            block_das = self.container(self.blk, "data_arrays")
            for da in self.signals[nix_name]:
                w.link_path(block_das, da[0], self.container(seg, "data_arrays"), da[1])
                das.append(da)
            return
        data = np.transpose(asig[:].magnitude)
        md = self.section(seg_md, nix_name, "neo.analogsignal.metadata")
        units = _units_to_string(asig.units)
        period = asig.sampling_period.magnitude.item()
        period_unit = _units_to_string(asig.sampling_period.units)
        t_start = asig.t_start
        t_start_value = t_start.magnitude.item()
        offset = t_start.rescale(period_unit).magnitude.item()
        written = []
        for idx, row in enumerate(data):
            da_name = f"{nix_name}.{idx}"
            gid, da_id = self.data_array(da_name, "neo.analogsignal", row)
            w.link(md.gid, gid, "metadata")
            self.definition(gid, asig.description)
            self.unit(gid, units)
            dims = w.group(gid, "dimensions")
            dim = w.group(dims, "1")
            w.attr_str(dim, b"dimension_type", "sample")
            w.attr_num(dim, b"sampling_interval", period)
            w.attr_str(dim, b"unit", period_unit)
            if idx == 0:  # metadata["t_start"] = ...; later channels write it again
                t_unit = _units_to_string(t_start.units)
                self.props(
                    md, [_Prop("t_start", _nix_kind(t_start_value), [t_start_value], t_unit)]
                )
            w.attr_num(dim, b"offset", offset)
            w.attr_str(dim, b"label", "time")
            w.link(gid, self.container(seg, "data_arrays"), da_id)
            written.append((da_name, da_id, "neo.analogsignal"))
            for handle in (dim, dims, gid):
                w.close_group(handle)
        self.props(md, [self.neo_name(asig), *_annotation_props(asig)])
        self.close_section(md)
        self.signals[nix_name] = written
        das.extend(written)

    def event(self, event, seg: int, seg_md: _Section, das: list) -> None:
        """``NixIO._write_event``."""
        w = self.w
        nix_name = self.nix_name(event, "neo.event")
        if nix_name in self.multi_tags:  # the same event in several segments
            mts = self.container(self.blk, "multi_tags")
            seg_mts = self.container(seg, "multi_tags")
            w.link_path(mts, nix_name, seg_mts, self.multi_tags[nix_name])
            return
        times = event.times
        da, _ = self.data_array(f"{nix_name}.times", "neo.event.times", times.magnitude)
        self.unit(da, _units_to_string(times.units))
        mt = w.group(self.container(self.blk, "multi_tags"), nix_name)
        mt_id = w.entity(mt, nix_name, "neo.event")
        w.link(da, mt, "positions")
        md = self.section(seg_md, nix_name, "neo.event.metadata")
        w.link(md.gid, mt, "metadata")
        dims = w.group(da, "dimensions")
        dim = w.group(dims, "1")
        w.attr_str(dim, b"dimension_type", "set")
        w.array(dim, "labels", np.asarray([str(v) for v in event.labels], dtype=object))
        self.definition(mt, event.description)
        self.props(md, [self.neo_name(event), *_annotation_props(event)])
        w.link(mt, self.container(seg, "multi_tags"), mt_id)
        self.multi_tags[nix_name] = mt_id
        # references to the segment's signals
        signals = [d for d in das if d[2] in ("neo.analogsignal", "neo.irregularlysampledsignal")]
        if signals:
            refs = w.group(mt, "references")
            block_das = self.container(self.blk, "data_arrays")
            for da_name, da_id, _ in signals:
                w.link_path(block_das, da_name, refs, da_id)
            w.close_group(refs)
        self.close_section(md)
        for handle in (dim, dims, da, mt):
            w.close_group(handle)

    def template(self, train: _Train) -> _Template:
        """The MultiTag template in the memory file for ``train`` (created on first use).

        A MultiTag (type, timestamps) whose ``positions`` DataArray (type, unit,
        timestamps) has no ``data`` yet, and whose ``metadata`` section holds every
        property of the train, those the template is keyed on with their values.
        """
        tmpl = self.templates.get(train.template)
        if tmpl is not None:
            return tmpl
        w = self.w
        h5 = w.h5
        path = f"t{len(self.templates)}"
        mt = w.group(w.memory_root(), path)
        da = w.group(mt, "positions")
        sec = w.group(mt, "metadata")
        for gid, type_ in (
            (mt, "neo.spiketrain"),
            (da, "neo.spiketrain.times"),
            (sec, "neo.spiketrain.metadata"),
        ):
            w.entity(gid, "placeholder", type_)
        if train.unit is not None:
            w.attr_str(da, b"unit", train.unit)
        attrs = [h5.Aopen(gid, name, _H5P_DEFAULT) for gid in (mt, da, sec) for name in _NAME_ID]
        for aid in attrs:
            w.keep_open(h5.Aclose, aid)
        entity_ids, datasets = [], []
        if train.props:
            props = w.group(sec, "properties")
            for j, p in enumerate(train.props):
                varying = j in train.varying
                w.prop(props, p, write=not varying)
                did = h5.Dopen2(props, p.name.encode(), w.dapl_uncached)
                aid = h5.Aopen(did, b"entity_id", _H5P_DEFAULT)
                entity_ids.append(w.keep_open(h5.Aclose, aid))
                if varying and p.values:
                    datasets.append((w.keep_open(h5.Dclose, did), j))
                else:
                    h5.Dclose(did)
            w.close_group(props)
        for gid in (sec, da, mt):
            w.close_group(gid)
        tmpl = self.templates[train.template] = _Template(path, attrs, entity_ids, datasets)
        return tmpl

    def spiketrain(self, st, seg: int, seg_md: _Section) -> None:
        """``NixIO._write_spiketrain``: set the template's ids, names and values, copy it.

        The template's attributes and datasets stay open: writing into them is much
        cheaper than creating attributes or opening datasets in each copy.
        """
        w = self.w
        h5 = w.h5
        nix_name = self.nix_name(st, "neo.spiketrain")
        if nix_name in self.multi_tags:  # the same spike train in several segments
            mts = self.container(self.blk, "multi_tags")
            w.link_path(
                mts, nix_name, self.container(seg, "multi_tags"), self.multi_tags[nix_name]
            )
            return
        train = self.trains[id(st)]
        tmpl = self.template(train)
        das = self.container(self.blk, "data_arrays")  # before multi_tags, as NixIO does
        mts = self.container(self.blk, "multi_tags")
        # the template becomes this train's MultiTag
        ids = w.ids
        mt_id = ids.uuid()
        times_name = f"{nix_name}.times"
        mt_name, mt_eid, da_name, da_eid, sec_name, sec_eid = tmpl.attrs
        for aid, value in (
            (mt_name, nix_name),
            (mt_eid, mt_id),
            (da_name, times_name),
            (da_eid, ids.uuid()),
            (sec_name, nix_name),
            (sec_eid, ids.uuid()),
        ):
            w.rewrite_str(aid, value)
        for aid in tmpl.entity_ids:
            w.rewrite_str(aid, ids.uuid())
        for did, j in tmpl.datasets:
            prop = train.props[j]
            w.write(did, prop.kind, [nix_name] if prop is _NIX_NAME else prop.values)
        name = nix_name.encode()
        h5.Ocopy(w.memory_root(), tmpl.path, mts, name, _H5P_DEFAULT, _H5P_DEFAULT)
        # what differs from one copy to the next: data, links, description
        mt = w.opened(h5.Gopen2(mts, name, _H5P_DEFAULT))
        da = w.opened(h5.Gopen2(mt, b"positions", _H5P_DEFAULT))
        sec = w.opened(h5.Gopen2(mt, b"metadata", _H5P_DEFAULT))
        w.array(da, "data", np.asarray(st.magnitude))
        w.link(da, das, times_name)
        if seg_md.sections is None:
            seg_md.sections = w.group(seg_md.gid, "sections")
        w.link(sec, seg_md.sections, nix_name)
        self.definition(mt, st.description)
        w.link(mt, self.container(seg, "multi_tags"), mt_id)
        self.multi_tags[nix_name] = mt_id
        for gid in (sec, da, mt):
            w.close_group(gid)


_NAME_ID = (b"name", b"entity_id")


class _Template:
    """A spike train template: its path in the memory file and its open handles.

    ``attrs``: the ``name`` and ``entity_id`` attributes of the MultiTag, its positions
    and its section; ``entity_ids``: those of the properties; ``datasets``: (dataset,
    index) of the properties written for each train.
    """

    __slots__ = ("path", "attrs", "entity_ids", "datasets")

    def __init__(self, path: str, attrs: list, entity_ids: list, datasets: list) -> None:
        self.path = path.encode()
        self.attrs, self.entity_ids, self.datasets = attrs, entity_ids, datasets


# --------------------------------------------------------------------------- entry point


def _h5py_lock():
    """h5py's global lock (reentrant), which it holds around every HDF5 call."""
    from h5py._objects import phil  # present: checked by _internals_problem

    return phil


def _version_text(version) -> str:
    return ".".join(str(v) for v in version)


def _internals_problem() -> str | None:
    """Why the installed nixio, h5py or neo may not match what is written here, or None.

    The installed nixio must write a format of :data:`SUPPORTED_NIX_VERSIONS`, and every
    member of :data:`_INTERNALS` must exist.
    """
    try:
        import nixio
        import nixio.file

        file_format = nixio.file.FILE_FORMAT
        version = tuple(int(v) for v in nixio.file.HDF_FF_VERSION)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        return f"the installed nixio's file format cannot be read ({exc!r})"
    if file_format != _NIX_FILE_FORMAT or version not in SUPPORTED_NIX_VERSIONS:
        supported = ", ".join(_version_text(v) for v in SUPPORTED_NIX_VERSIONS)
        return (
            f"nixio {getattr(nixio, '__version__', '?')} writes NIX format "
            f"{file_format!r} {_version_text(version)}; the fast writer writes the layout "
            f"of format {supported} only"
        )
    for module, name in _INTERNALS:
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        if not found:
            return (
                f"{module}.{name}, which the fast writer uses, is missing (h5py "
                f"{h5py.__version__}, nixio {getattr(nixio, '__version__', '?')}, "
                f"neo {neo.__version__})"
            )
    return None


#: Reasons already logged by :func:`_warn_once`.
_WARNED: set[str] = set()


def _warn_once(reason: str) -> None:
    """Log, once per reason and process, that NIX files go through NixIO."""
    if reason not in _WARNED:
        _WARNED.add(reason)
        _log.warning(
            "NIX files are written by neo's NixIO (much slower) instead of the fast writer: %s",
            reason,
        )


def write_block_fast(block: neo.Block, path, *, fallback: bool = True) -> None:
    """Write ``block`` to a new NIX file at ``path`` as ``NixIO.write_block`` would.

    The file reads back with ``neo.io.NixIO`` (and opens with ``nixio``) exactly as one
    written by ``neo.io.NixIO(path, mode="ow").write_block(block)``. An existing file
    at ``path`` is overwritten. Like NixIO, every written object of ``block`` is
    annotated with the ``nix_name`` it was written under.

    Parameters
    ----------
    block : neo.Block
        The block to write.
    path : str or path-like
        Destination file.
    fallback : bool, optional
        If the block holds something the fast writer does not handle (see the module
        docstring), h5py's HDF5 library cannot be reached, or the installed nixio,
        h5py or neo is not one the fast writer was written for (another NIX format
        version, a missing internal member; a warning is logged, once), write it with
        ``NixIO.write_block`` (default) rather than raise ``NotImplementedError``.
    """
    path = os.fspath(path)
    problem = _internals_problem()
    lib = None
    if problem is None:
        lib = _hdf5()
        if lib is None:
            problem = "h5py's HDF5 library cannot be reached through ctypes"
    reason = problem
    if reason is None:
        try:
            trains = _check_supported(block)
        except _Unsupported as err:
            reason = str(err)
    if reason is not None:
        if not fallback:
            raise NotImplementedError(f"write_block_fast: {reason}")
        if problem is not None:  # every file: said once
            _warn_once(problem)
        else:  # this block only
            _log.debug("block written by NixIO: %s", reason)
        io = neo.io.NixIO(path, mode="ow")
        try:
            io.write_block(block)
        finally:
            io.close()
        return

    gc_was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of small objects, no cycles: skip the collector
    try:
        with _h5py_lock():  # no other thread uses HDF5 meanwhile
            writer = _Writer(lib)
            try:
                writer.create(path)
                bw = _BlockWriter(writer, trains)
                bw.file()
                bw.block(block)
            finally:
                writer.close()
    finally:
        if gc_was_enabled:
            gc.enable()
