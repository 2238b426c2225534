"""Bad input anywhere a user gives it is one clear error, never a traceback (issue 7).

Hypothesis throws generated inputs at the ``Params`` of every registered circuit, at
``spikingml run`` and ``spikingml sweep`` called in-process (each circuit's ``simulate``
and ``twin`` are replaced by functions that fail the test, and the sweep's Dask parts by
ones that fail it too: the CLI must refuse before anything runs), at parameter files and
at NIX files read back with :func:`spikingml.export.read_nix`.

A malformed input must raise :class:`ValidationError` whose one-line message names the
parameter (``Circuit.Params.field``, ``--seed``, ``--params`` ...), says what was expected
and what was given; from the CLI: exit status 2, that one line on stderr, nothing on
disk. A valid input must be accepted, so each property can fail both ways.

Generated inputs, counted: every test runs its ``@given`` body through :func:`_run`,
which asserts that all of ``max_examples`` ran (none filtered away)::

    per circuit, 7 circuits
      test_replace_rejects_malformed_values               60 x 7 = 420
      test_replace_from_strings_rejects_malformed_text    60 x 7 = 420
      test_valid_spellings_are_accepted                   25 x 7 = 175
      test_in_bounds_values_pass_field_validation         25 x 7 = 175
    test_cli_run_rejects_bad_arguments                              160
    test_cli_run_accepts_valid_arguments                             25
    test_cli_params_file_rejects_bad_content                        100
    test_cli_sweep_rejects_bad_arguments                             80
    test_read_nix_rejects_damaged_files                              30
                                                           total   1585

``derandomize=True`` makes the examples the same on every run (CI is deterministic);
``deadline=None`` because the first example of a circuit imports it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _optional import require
from brian2 import Hz, amp, kilogram, metre, ms, mV, second
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

hypothesis = require("hypothesis", "test")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from spikingml import ValidationError  # noqa: E402
from spikingml.circuits import REGISTRY, get_circuit  # noqa: E402
from spikingml.cli import main  # noqa: E402
from spikingml.params import MAX_INT, MAX_TEXT, _unit_table  # noqa: E402

CIRCUITS = sorted(REGISTRY)


def _settings(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _run(n: int, body: Callable[[Any], None]) -> None:
    """Run ``body(data)`` on ``n`` generated examples and check that all ``n`` ran."""
    count = [0]

    @_settings(n)
    @given(st.data())
    def inner(data: Any) -> None:
        count[0] += 1
        body(data)

    inner()
    assert count[0] >= n, f"only {count[0]} of {n} generated inputs ran"


# -- the fields of a circuit ----------------------------------------------------------


def _fields(params_cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(params_cls) if f.metadata]


def _kind(f: dataclasses.Field) -> str:
    meta = f.metadata
    if meta.get("choices") is not None:
        return "choice"
    if meta.get("boolean"):
        return "bool"
    unit = meta.get("unit")
    if unit is not None and get_dimensions(unit) is not DIMENSIONLESS:
        return "quantity"
    return "int" if meta.get("integer") else "float"


def _bound(value: Any, unit: Any) -> float | None:
    if value is None:
        return None
    return float(value / unit) if isinstance(value, Quantity) else float(value)


def _bounds(f: dataclasses.Field) -> tuple[float | None, float | None]:
    """The field's (low, high), in its unit."""
    unit = f.metadata.get("unit")
    return _bound(f.metadata.get("low"), unit), _bound(f.metadata.get("high"), unit)


def _with_unit(f: dataclasses.Field, x: float) -> Any:
    return x * f.metadata["unit"] if _kind(f) == "quantity" else x


WRONG_UNITS = (mV, Hz, metre, kilogram, amp, second, metre / second)
UNIT_NAMES = ("mV", "Hz", "metre", "kg", "nA", "ms", "second")


def _wrong_units(f: dataclasses.Field) -> list[Any]:
    if _kind(f) != "quantity":
        return [ms, mV, Hz]
    dims = get_dimensions(f.metadata["unit"])
    return [u for u in WRONG_UNITS if get_dimensions(u) != dims]


def _wrong_unit_names(f: dataclasses.Field) -> list[str]:
    """Unit names whose dimension the field does not have (parse, then fail the check)."""
    table = _unit_table()
    dims = get_dimensions(f.metadata["unit"]) if _kind(f) == "quantity" else DIMENSIONLESS
    names = [n for n in UNIT_NAMES if n in table and get_dimensions(table[n]) != dims]
    return names + (["m/s"] if dims != get_dimensions(metre / second) else [])


# -- malformed values for replace() ---------------------------------------------------

OTHER_TYPES = st.one_of(
    st.text(max_size=12),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.complex_numbers(allow_nan=False, allow_infinity=False, min_magnitude=1e-3),
    st.binary(max_size=6),
    st.just(object()),
    st.just(np.array([1.0, 2.0])),
)
NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def malformed_value(draw, f: dataclasses.Field) -> tuple[Any, bool]:
    """``(value, must_reject)`` for field ``f``; ``must_reject`` False: either outcome."""
    kind = _kind(f)
    low, high = _bounds(f)
    options = ["type", "nonfinite", "unit", "array", "extreme"]
    if kind in ("int", "float", "quantity") and (low is not None or high is not None):
        options.append("bounds")
    if kind == "int":
        options += ["not-int", "huge-int"]
    option = draw(st.sampled_from(options))
    if option == "type":
        value = draw(OTHER_TYPES)
        if kind == "choice" and isinstance(value, str) and value in f.metadata["choices"]:
            value = None
        return value, True
    if option == "nonfinite":
        return _with_unit(f, draw(NONFINITE)), True
    if option == "unit":
        unit = draw(st.sampled_from(_wrong_units(f)))
        if kind == "quantity" and draw(st.booleans()):
            return draw(st.floats(-1e3, 1e3)), True  # the unit left out
        return draw(st.floats(0.001, 1e3)) * unit, True
    if option == "array":
        xs = draw(st.lists(st.floats(0.1, 10.0), min_size=2, max_size=4))
        unit = f.metadata["unit"] if kind == "quantity" else 1
        return np.array(xs) * unit, True
    if option == "bounds":
        sides = [s for s, b in (("low", low), ("high", high)) if b is not None]
        side = draw(st.sampled_from(sides))
        bound = low if side == "low" else high
        delta = draw(st.sampled_from([1.0, 10.0, 1e6]))
        if not f.metadata[f"{side}_inclusive"]:
            delta = draw(st.sampled_from([0.0, delta]))  # the bound itself is out
        x = bound - delta if side == "low" else bound + delta
        if kind == "int":
            x = math.floor(x) if side == "low" else math.ceil(x)
        return _with_unit(f, x), True
    if option == "not-int":
        return draw(st.sampled_from([2.5, True, False, np.float64(3.0), 1e3, "7"])), True
    if option == "huge-int":
        return draw(st.integers(MAX_INT + 1, 10**400) | st.integers(-(10**400), -MAX_INT - 1)), (
            True
        )
    # "extreme": huge, tiny, zero and negative magnitudes; may be in bounds
    x = draw(st.sampled_from([1e300, -1e300, 1e-300, -1e-300, 0.0, -1.0, 1e15]))
    if kind == "int":
        return int(x) if abs(x) < 1e18 else int(np.sign(x)) * 10**18, False
    if kind in ("choice", "bool"):
        return x, True
    return _with_unit(f, x), False


def _expect(call: Callable[[], Any], prefix: str, must_reject: bool, *fragments: str) -> Any:
    """Run ``call``: accepted (if allowed) or a one-line ValidationError starting ``prefix``."""
    try:
        result = call()
    except ValidationError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert message.startswith(prefix), f"{message!r} does not start with {prefix!r}"
        assert ": expected " in message and ", got " in message, message
        for fragment in fragments:
            assert fragment in message, (fragment, message)
        return exc
    assert not must_reject, f"accepted, should have been refused (prefix {prefix})"
    return result


@pytest.mark.parametrize("name", CIRCUITS)
def test_replace_rejects_malformed_values(name):
    module = get_circuit(name)
    preset = module.Params.quick()
    fields = _fields(module.Params)
    circuit = module.Params.circuit_name

    def body(data):
        if data.draw(st.integers(0, 19)) == 0:  # an unknown field
            key = data.draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
            if key not in {f.name for f in dataclasses.fields(module.Params)}:
                _expect(lambda: preset.replace(**{key: 1}), f"{circuit}.Params:", True, key)
                return
        f = data.draw(st.sampled_from(fields))
        value, must = data.draw(malformed_value(f))
        prefix = f"{circuit}.Params.{f.name}:" if must else f"{circuit}.Params"
        _expect(lambda: preset.replace(**{f.name: value}), prefix, must)

    _run(60, body)


# -- malformed text for replace_from_strings (--set, files, grids) --------------------

NEVER_VALID = [
    "",
    "   ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "__import__('os').system('true')",
    "1+1",
    "2**3",
    "(1)",
    "[1]",
    "{}",
    "1,5",
    "0x10",
    "1_000",
    "ms",
    "* ms",
    "1 ms ms",
    "1 2",
    "٣",
    "٣٠",
    "１２",
    "\x00",
    "5\n6",
    "1e5e5",
    "--1",
    "1/0",
    "True ms",
]


@st.composite
def malformed_text(draw, f: dataclasses.Field) -> tuple[str, bool]:
    """``(text, must_reject)`` for field ``f``, as ``--set`` would pass it."""
    kind = _kind(f)
    low, high = _bounds(f)
    unit_name = str(f.metadata["unit"]) if kind == "quantity" else ""
    options = ["never", "long", "random", "junk-unit"]
    if kind in ("quantity", "float", "int"):
        options += ["wrong-unit", "nonfinite"]
        if low is not None or high is not None:
            options.append("bounds")
    if kind == "quantity":
        options.append("no-unit")
    if kind == "int":
        options.append("not-int")
    if kind == "bool":
        options.append("not-bool")
    option = draw(st.sampled_from(options))
    if option == "never":
        return draw(st.sampled_from(NEVER_VALID)), True
    if option == "long":
        n = draw(st.integers(MAX_TEXT + 1, 6000))
        return draw(st.sampled_from(["9", "1", " "])) * n + draw(
            st.sampled_from(["", " ms"])
        ), True
    if option == "random":
        return draw(st.text(max_size=30)), False
    if option == "junk-unit":
        name = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{2,8}", fullmatch=True))
        if name in _unit_table():
            name = "zz" + name
        return f"{draw(st.integers(1, 100))} {name}", True
    if option == "wrong-unit":
        names = _wrong_unit_names(f) if kind != "int" else ["ms"]
        sep = draw(st.sampled_from([" ", "*", " * ", ""]))
        return f"{draw(st.integers(1, 100))}{sep}{draw(st.sampled_from(names))}", True
    if option == "nonfinite":
        word = draw(st.sampled_from(["nan", "inf", "-inf", "1e999", "-1e999"]))
        return f"{word} {unit_name}".strip(), True
    if option == "no-unit":
        return str(draw(st.floats(0.001, 100.0))), True
    if option == "not-int":
        return draw(st.sampled_from(["2.5", "1e3", "true", "3.", "+", "4 ms"])), True
    if option == "not-bool":
        return draw(st.sampled_from(["maybe", "2", "tru", "y", "nein", "-1", "1.0"])), True
    # "bounds"
    sides = [s for s, b in (("low", low), ("high", high)) if b is not None]
    side = draw(st.sampled_from(sides))
    bound = low if side == "low" else high
    inclusive = f.metadata[f"{side}_inclusive"]
    if kind == "int":
        x = (math.floor(bound) - 1) if side == "low" else (math.ceil(bound) + 1)
        x = x if inclusive else (math.floor(bound) if side == "low" else math.ceil(bound))
        return str(int(x)), True
    x = bound - (1.0 if inclusive else 0.0) if side == "low" else bound + (1.0 if inclusive else 0)
    return f"{x!r} {unit_name}".strip(), True


@pytest.mark.parametrize("name", CIRCUITS)
def test_replace_from_strings_rejects_malformed_text(name):
    module = get_circuit(name)
    preset = module.Params.quick()
    fields = _fields(module.Params)
    circuit = module.Params.circuit_name

    def body(data):
        if data.draw(st.integers(0, 19)) == 0:  # an unknown field
            key = data.draw(st.text(min_size=1, max_size=12))
            if key not in {f.name for f in dataclasses.fields(module.Params)}:
                change = {key: "1"}
                _expect(lambda: preset.replace_from_strings(change), f"{circuit}.Params:", True)
                return
        f = data.draw(st.sampled_from(fields))
        text, must = data.draw(malformed_text(f))
        prefix = f"{circuit}.Params.{f.name}:" if must else f"{circuit}.Params"
        _expect(lambda: preset.replace_from_strings({f.name: text}), prefix, must)

    _run(60, body)


# -- valid input is accepted ----------------------------------------------------------


@functools.cache
def _same_dimension_units(unit: Any) -> list[str]:
    dims = get_dimensions(unit)
    names = [
        name
        for name, u in _unit_table().items()
        if get_dimensions(u) == dims
        and 1e-9 <= float(u / unit) <= 1e9
        and name.isascii()
        and name[:1].isalpha()
        and name.isidentifier()
    ]
    return sorted(names)


@st.composite
def valid_spelling(draw, f: dataclasses.Field, value: Any) -> str:
    """Another way of writing ``value`` (the preset's) that must parse back to it."""
    kind = _kind(f)
    space = draw(st.sampled_from(["", " ", "  "]))
    if kind == "choice":
        return f"{space}{value}{space}"
    if kind == "bool":
        words = ["true", "True", "TRUE", "yes", "on", "1"]
        if not value:
            words = ["false", "False", "no", "off", "0"]
        return f"{space}{draw(st.sampled_from(words))}{space}"
    if kind == "int":
        sign = "+" if draw(st.booleans()) and value >= 0 else ""
        zeros = "0" * draw(st.integers(0, 2)) if value >= 0 else ""
        return f"{space}{sign}{zeros}{value}{space}"
    if kind == "float":
        x = float(value)
        return draw(st.sampled_from([repr(x), f"{x:.17g}", f"{x:.17e}", f"{space}{x!r}{space}"]))
    unit = f.metadata["unit"]
    name = draw(st.sampled_from(_same_dimension_units(unit) or [str(unit)]))
    x = float(value / _unit_table()[name]) if name in _unit_table() else float(value / unit)
    sep = draw(st.sampled_from(["", " ", "*", " * "]))
    return f"{space}{x!r}{sep}{name}{space}"


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (str, bool, np.bool_)) or isinstance(b, (str, bool, np.bool_)):
        return a == b
    x, y = float(np.asarray(a)), float(np.asarray(b))
    return math.isclose(x, y, rel_tol=1e-12, abs_tol=0.0)


@pytest.mark.parametrize("name", CIRCUITS)
def test_valid_spellings_are_accepted(name):
    """The preset's values written other ways (--set, replace with other types) are taken."""
    module = get_circuit(name)
    preset = module.Params.quick()
    fields = _fields(module.Params)

    def body(data):
        chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4, unique=True))
        texts = {f.name: data.draw(valid_spelling(f, getattr(preset, f.name))) for f in chosen}
        parsed = preset.replace_from_strings(texts)  # any error fails the test
        for f in chosen:
            assert _close(getattr(parsed, f.name), getattr(preset, f.name)), (f.name, texts)
        # replace() with NumPy scalars and quantities in another unit of the dimension
        changes = {}
        for f in chosen:
            value = getattr(preset, f.name)
            if _kind(f) == "int":
                changes[f.name] = np.int64(value)
            elif _kind(f) == "float":
                changes[f.name] = np.float64(value)
            elif _kind(f) == "quantity":
                changes[f.name] = parsed.__getattribute__(f.name)
        preset.replace(**changes)

    _run(25, body)


@pytest.mark.parametrize("name", CIRCUITS)
def test_in_bounds_values_pass_field_validation(name):
    """Any finite value inside a field's bounds passes the field's own check; then the
    cross-field checks accept or refuse with a ValidationError, never anything else."""
    module = get_circuit(name)
    preset = module.Params.quick()
    fields = [f for f in _fields(module.Params) if _kind(f) in ("int", "float", "quantity")]
    circuit = module.Params.circuit_name

    def body(data):
        f = data.draw(st.sampled_from(fields))
        low, high = _bounds(f)
        if _kind(f) == "int":
            lo = (
                -MAX_INT
                if low is None
                else math.ceil(low) + (0 if f.metadata["low_inclusive"] else 1)
            )
            hi = (
                MAX_INT
                if high is None
                else math.floor(high) - (0 if f.metadata["high_inclusive"] else 1)
            )
            value: Any = data.draw(st.integers(lo, min(hi, MAX_INT)))
        else:
            x = data.draw(
                st.floats(
                    -1e300 if low is None else low,
                    1e300 if high is None else high,
                    exclude_min=low is not None and not f.metadata["low_inclusive"],
                    exclude_max=high is not None and not f.metadata["high_inclusive"],
                    allow_nan=False,
                    allow_infinity=False,
                )
            )
            value = _with_unit(f, x)
        preset._validate_field(f, value)  # must not raise
        _expect(lambda: preset.replace(**{f.name: value}), f"{circuit}.Params", False)

    _run(25, body)


# -- the command line ------------------------------------------------------------------


class Simulated(Exception):
    """Raised by the replaced ``simulate``: the CLI went past validation."""


@pytest.fixture
def no_simulation(monkeypatch):
    """Every circuit's simulate and twin raise Simulated; Dask is never started."""
    import spikingml.sweep as sweep_module

    def refuse(*args, **kwargs):
        raise Simulated("the CLI simulated (or started Dask) despite bad input")

    class NoFork:  # the twin's child process is not needed to see simulate reached
        def __init__(self, *args, **kwargs) -> None:
            pass

        def cancel(self) -> None:
            pass

    for name in CIRCUITS:
        module = get_circuit(name)
        monkeypatch.setattr(module, "simulate", refuse)
        monkeypatch.setattr(module, "twin", refuse)
    monkeypatch.setattr("spikingml._background.Background", NoFork)
    monkeypatch.setattr(sweep_module, "_execute", refuse)
    monkeypatch.setattr(sweep_module, "_client", refuse)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def _assert_refused(argv: list[str], workdir: Path, *fragments: str) -> None:
    before = sorted(p.name for p in workdir.iterdir())
    rc, out, err = _cli(argv)
    lines = err.strip().splitlines()
    assert rc == 2, (argv, rc, err)
    assert len(lines) == 1 and lines[0].startswith("spikingml: error: "), (argv, err)
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert sorted(p.name for p in workdir.iterdir()) == before, (argv, "wrote to disk")


def _bad_run_argument(draw, name: str, workdir: Path) -> tuple[list[str], list[str]]:
    """One bad piece of a ``run`` command line and what the error must name."""
    module = get_circuit(name)
    fields = _fields(module.Params)
    circuit = module.Params.circuit_name
    option = draw(
        st.sampled_from(
            ["set", "set", "set", "set-form", "set-unknown", "seed", "device", "out", "params"]
            + ["resume", "flag"]
        )
    )
    if option == "set":
        f = draw(st.sampled_from(fields))
        text, must = draw(malformed_text(f))
        if not must:
            text = "٣٠"
        return ["--set", f"{f.name}={text}"], [f"{circuit}.Params.{f.name}"]
    if option == "set-form":
        item = draw(st.sampled_from(["foo", "=3", " =3", "novalue"]))
        return ["--set", item], ["--set"]
    if option == "set-unknown":
        key = draw(st.from_regex(r"[a-z]{3,10}", fullmatch=True)) + "_x"
        return ["--set", f"{key}=1"], [f"{circuit}.Params", key]
    if option == "seed":
        seed = draw(
            st.sampled_from(["-1", "abc", "1.5", "", str(2**32), str(10**30), "٣"])
            | st.integers(2**32, 10**40).map(str)
            | st.integers(-(10**9), -1).map(str)
        )
        return [f"--seed={seed}"], ["--seed"]
    if option == "device":
        device = draw(
            st.text(max_size=12).filter(lambda d: d not in ("runtime", "cpp_standalone"))
        )
        return ["--device", device], ["device"]
    if option == "out":
        afile = workdir / "a-file"
        afile.write_text("x")
        out = draw(
            st.sampled_from(["", "   ", "a\x00b", "x" * 300, f"{afile}/sub", f"{afile}/a/b"])
        )
        return ["--out", out], ["--out"]
    if option == "params":
        path = draw(
            st.sampled_from(
                [
                    str(workdir / "missing.json"),
                    str(workdir),
                    str(workdir / "p.yaml"),
                    "",
                    "a\x00.json",
                ]
            )
        )
        return ["--params", path], ["--params"]
    if option == "resume":
        if getattr(module, "SUPPORTS_RESUME", False):
            return ["--resume", str(workdir / "no-checkpoint.npz")], ["--resume"]
        return ["--resume"], ["--resume"]
    flag = draw(st.sampled_from(["--bogus", "--workers=2", "--grid", "-x"]))
    return [flag], [flag.split("=")[0]]


def test_cli_run_rejects_bad_arguments(no_simulation):
    def body(data):
        name = data.draw(st.sampled_from(CIRCUITS))
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            extra, fragments = _bad_run_argument(data.draw, name, workdir)
            argv = ["run", name, "--quick", "--out", str(workdir / "out"), *extra]
            _assert_refused(argv, workdir, *fragments)

    _run(160, body)


def test_cli_run_accepts_valid_arguments(no_simulation):
    """Valid --set and --params reach simulate, and the failed run leaves nothing behind."""

    def body(data):
        name = data.draw(st.sampled_from(CIRCUITS))
        module = get_circuit(name)
        preset = module.Params.quick()
        fields = _fields(module.Params)
        chosen = data.draw(st.lists(st.sampled_from(fields), max_size=3, unique=True))
        items = [
            f"{f.name}={data.draw(valid_spelling(f, getattr(preset, f.name)))}" for f in chosen
        ]
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            argv = ["run", name, "--quick", "--no-progress", "--out", str(workdir / "a" / "out")]
            if data.draw(st.booleans()):
                suffix = data.draw(st.sampled_from([".json", ".toml"]))
                path = workdir / f"p{suffix}"
                values = preset.to_dict()
                if suffix == ".json":
                    path.write_text(json.dumps(values))
                else:
                    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
                argv += ["--params", str(path)]
            if items:
                argv += ["--set", *items]
            with pytest.raises(Simulated):
                _cli(argv)
            leftover = [p.name for p in workdir.iterdir() if not p.name.startswith("p.")]
            assert leftover == [], leftover  # not even the parent "a" of --out

    _run(25, body)


@st.composite
def bad_params_file(draw, name: str) -> tuple[str, bytes, list[str]]:
    """``(suffix, content, fragments)`` of a parameter file that must be refused."""
    module = get_circuit(name)
    fields = _fields(module.Params)
    circuit = module.Params.circuit_name
    suffix = draw(st.sampled_from([".json", ".toml"]))
    option = draw(
        st.sampled_from(["syntax", "top", "nested", "unknown", "value", "value", "dup", "bytes"])
    )
    scalar = st.one_of(st.integers(-5, 5), st.text(max_size=5), st.booleans())
    if option == "syntax":
        if suffix == ".json":
            text = draw(
                st.sampled_from(["{", '{"a": }', "[" * 5000, "{'a': 1}", '{"a": 1,}', "", "nul"])
            )
        else:
            text = draw(
                st.sampled_from(["a = ", "[[", "a = 1\na = 2", "= 3", "a = [1,", "a = 'x"])
            )
        return suffix, text.encode(), ["--params"]
    if option == "top":
        if suffix == ".toml":
            return suffix, b"\xff\xfe = 1", ["--params"]
        value = draw(st.one_of(st.lists(scalar, max_size=3), scalar, st.none()))
        return suffix, json.dumps(value).encode(), ["--params"]
    if option == "bytes":  # not UTF-8: 0xff never occurs in it
        return suffix, b"\xff" + draw(st.binary(max_size=20)), ["--params"]
    f = draw(st.sampled_from(fields))
    if option == "nested":
        value = draw(st.sampled_from([[1, 2], {"a": 1}, [], {}]))
        content = {f.name: value}
        fragments = [f.name]
    elif option == "unknown":
        key = draw(st.from_regex(r"[a-z]{3,8}", fullmatch=True)) + "_zz"
        content = {key: 1}
        fragments = [f"{circuit}.Params", key]
    elif option == "dup":
        if suffix == ".json":
            return suffix, f'{{"{f.name}": 1, "{f.name}": 2}}'.encode(), ["--params"]
        return suffix, f"{f.name} = 1\n{f.name} = 2\n".encode(), ["--params"]
    else:
        text, must = draw(malformed_text(f))
        if not must or "\x00" in text or len(text) > 1000:
            text = "٣٠"
        content = {f.name: text}
        fragments = [f"{circuit}.Params.{f.name}"]
    if suffix == ".json":
        raw = json.dumps(content)
    else:
        raw = "".join(f"{k} = {_toml_value(v)}\n" for k, v in content.items())
    return suffix, raw.encode(), fragments


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, numbers and booleans are written alike


def test_cli_params_file_rejects_bad_content(no_simulation):
    def body(data):
        name = data.draw(st.sampled_from(CIRCUITS))
        suffix, content, fragments = data.draw(bad_params_file(name))
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            path = workdir / f"params{suffix}"
            path.write_bytes(content)
            argv = ["run", name, "--quick", "--out", str(workdir / "out"), "--params", str(path)]
            _assert_refused(argv, workdir, str(path), *fragments)

    _run(100, body)


def test_cli_sweep_rejects_bad_arguments(no_simulation):
    def body(data):
        name = data.draw(st.sampled_from(CIRCUITS))
        module = get_circuit(name)
        fields = _fields(module.Params)
        circuit = module.Params.circuit_name
        option = data.draw(
            st.sampled_from(
                ["grid", "grid-value", "seeds", "workers", "scheduler", "format", "out"]
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            extra: list[str] = []
            out = str(workdir / "sweep")
            if option == "grid":
                item = data.draw(
                    st.sampled_from(["nofield", "=1,2", "1x=2", "a-b=1", "f=", "f=1,,2", "f=1,1"])
                )
                extra, fragments = ["--grid", item], ["--grid"]
            elif option == "grid-value":
                f = data.draw(st.sampled_from(fields))
                text, must = data.draw(malformed_text(f))
                if not must or "," in text or not text.strip() or len(text) > 1000:
                    text = "٣٠"
                extra = ["--grid", f"{f.name}={text}"]
                fragments = [f"{circuit}.Params.{f.name}"]
            elif option == "seeds":
                seeds = data.draw(
                    st.sampled_from(
                        ["-1", "a", "1-", "5-2", "0-200000", str(2**32), "٣", "", "1,,2"]
                    )
                )
                extra, fragments = [f"--seeds={seeds}"], ["--seeds"]
            elif option == "workers":
                workers = data.draw(st.sampled_from(["0", "-3", "257", str(10**6), "x", "1.5"]))
                extra, fragments = [f"--workers={workers}"], ["--workers"]
            elif option == "scheduler":
                address = data.draw(st.sampled_from(["not an address!", "tcp://a b", "a;b", ""]))
                extra, fragments = [f"--scheduler={address}"], ["--scheduler"]
            elif option == "format":
                extra, fragments = ["--format", "xlsx"], ["--format"]
            else:
                afile = workdir / "a-file"
                afile.write_text("x")
                out = data.draw(st.sampled_from(["", "a\x00b", f"{afile}/sub", "y" * 300]))
                fragments = ["--out"]
            argv = ["sweep", name, "--quick", "--out", out, "--no-progress", *extra]
            _assert_refused(argv, workdir, *fragments)

    _run(80, body)


# -- NIX files read back ---------------------------------------------------------------


@pytest.fixture(scope="module")
def nix_bytes(tmp_path_factory) -> bytes:
    from spikingml.export import write_nix
    from spikingml.result import Phase, Result, SpikeData

    result = Result(
        circuit="tiny",
        params={},
        seed=0,
        device="runtime",
        populations={"E": SpikeData([0, 1, 0], [0.1, 0.2, 0.3], 2)},
        events={},
        phases=[Phase("run", 0.0, 0.5)],
        simulated_seconds=0.5,
        wall_seconds=0.0,
    )
    path = tmp_path_factory.mktemp("nix") / "tiny.nix"
    write_nix(result, path)
    return path.read_bytes()


def test_read_nix_rejects_damaged_files(nix_bytes):
    from spikingml.export import read_nix

    def body(data):
        if data.draw(st.booleans()):
            content, must = data.draw(st.binary(max_size=200)), True
        else:
            cut = data.draw(st.integers(0, len(nix_bytes) - 1))
            content, must = nix_bytes[:cut], False  # HDF5 may not need its tail
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "damaged.nix"
            path.write_bytes(content)
            got = _expect(lambda: read_nix(path), "path:", must, str(path))
            if not isinstance(got, ValidationError):
                assert got is not None

    _run(30, body)


# -- found by longer runs of the properties above, kept as plain examples ---------------


@pytest.mark.parametrize("name", CIRCUITS)
def test_numpy_scalars_are_taken_for_every_field(name):
    """np.int64 / np.float64 values are accepted and stored as Python numbers
    (actor-critic's maze refused an np.int64 place_grid, blaming goal_x)."""
    module = get_circuit(name)
    preset = module.Params.quick()
    changes = {}
    for f in _fields(module.Params):
        value = getattr(preset, f.name)
        if _kind(f) == "int":
            changes[f.name] = np.int64(value)
        elif _kind(f) == "float":
            changes[f.name] = np.float64(value)
    params = preset.replace(**changes)
    assert params == preset
    assert all(type(getattr(params, k)) is int for k, v in changes.items() if type(v) is np.int64)


@pytest.mark.parametrize("name", CIRCUITS)
def test_extreme_in_bounds_quantities_are_refused_cleanly(name):
    """A huge value over a tiny one made the "multiple of dt" checks raise OverflowError."""
    module = get_circuit(name)
    preset = module.Params.quick()
    circuit = module.Params.circuit_name
    for f in _fields(module.Params):
        if _kind(f) != "quantity":
            continue
        low, high = _bounds(f)
        for x in (1e-300, 1e308):  # 1e308 / dt overflows to inf
            if (low is not None and x <= low) or (high is not None and x >= high):
                continue
            value = _with_unit(f, x)
            _expect(lambda f=f, v=value: preset.replace(**{f.name: v}), f"{circuit}.Params", False)
