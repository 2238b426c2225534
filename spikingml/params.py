"""Declarative, self-validating circuit parameters.

Every circuit defines ``Params`` as a frozen dataclass deriving from :class:`CircuitParams`
whose fields are declared with :func:`param`. Validation happens at construction, so an
invalid ``Params`` object cannot exist:

>>> from brian2 import ms
>>> from spikingml.circuits import td_conditioning as td
>>> td.Params(bin_width=-5 * ms)                              # doctest: +SKIP
ValidationError: TDConditioning.Params.bin_width: expected a time (second) > 0 s, ...

Fields carry their physical dimension, range, integrality or allowed choices, and a
one-line documentation string that the CLI and the docs show. Strings such as
``"50 ms"`` or ``"0.25"`` (from ``--set field=value`` or a parameter file) are parsed by
:meth:`CircuitParams.replace_from_strings` without ``eval``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import brian2.units as _units
import brian2.units.allunits as _allunits
import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, Unit, get_dimensions

from spikingml.errors import ValidationError

__all__ = [
    "CircuitParams",
    "RuleParams",
    "is_whole",
    "param",
    "parse_quantity",
    "quantity_to_str",
    "recording",
]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# ASCII only: "\d" would otherwise take any Unicode digit ("٣" parses as 3)
_QUANTITY_RE = re.compile(
    rf"^\s*({_NUMBER})\s*\*?\s*([A-Za-z]\w*)?(?:\s*/\s*([A-Za-z]\w*))?\s*$", re.ASCII
)

#: Longest text accepted for one value (``--set``, a parameter file, a sweep grid).
MAX_TEXT = 100

#: Largest integer a field takes: Brian2 indexes neurons and steps with 32-bit integers.
MAX_INT = 2**31 - 1


def param(
    default: Any,
    doc: str,
    *,
    unit: Unit | None = None,
    low: float | Quantity | None = None,
    high: float | Quantity | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
    choices: tuple[str, ...] | None = None,
    runtime: bool = False,
) -> Any:
    """Declare one validated field of a :class:`CircuitParams` dataclass.

    Parameters
    ----------
    default
        Default value (a Brian2 quantity for physical fields).
    doc
        One-line description shown by the CLI and the docs.
    unit
        Brian2 unit whose dimension the value must have (``None``: dimensionless number).
    low, high
        Optional bounds, in the field's unit.
    low_inclusive, high_inclusive
        Whether the bounds themselves are allowed.
    integer
        The value must be an integer (``bool`` is rejected).
    choices
        The value must be one of these strings.
    runtime
        A *run-time* field: its value reaches the network only as the value of a shared
        variable (:func:`spikingml.simulation.constants_equations`), never in its
        structure (sizes, connections, equations, inputs drawn in Python), so a compiled
        ``cpp_standalone`` program runs with another value without being compiled again
        (:meth:`CircuitParams.structure`). Every other field is *structural*. The
        conformance test checks the declaration: a program compiled for one value and
        run with another gives exactly the run of a program compiled for that value.
    """
    meta = {
        "doc": doc,
        "unit": unit,
        "low": low,
        "high": high,
        "low_inclusive": low_inclusive,
        "high_inclusive": high_inclusive,
        "integer": integer,
        "choices": choices,
        "boolean": isinstance(default, bool),
        "runtime": bool(runtime),
    }
    if isinstance(default, np.ndarray):  # Brian2 quantities are unhashable arrays
        return dataclasses.field(default_factory=lambda: default, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def is_whole(ratio: float, tol: float = 1e-6) -> bool:
    """Whether ``ratio`` is finite and within ``tol`` of an integer.

    For the "is a multiple of dt" checks: ``round()`` of an infinite ratio (a huge value
    over a tiny one) raises ``OverflowError`` instead of saying no.
    """
    return math.isfinite(ratio) and abs(ratio - round(ratio)) <= tol


def _unit_name(unit: Unit | None) -> str:
    return "dimensionless" if unit is None else str(get_dimensions(unit))


def quantity_to_str(value: Any) -> Any:
    """Return a JSON-friendly form of a parameter value (quantities as strings)."""
    if isinstance(value, Quantity) and not isinstance(value, bool):
        if get_dimensions(value) is DIMENSIONLESS:
            return float(value)
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


@functools.cache
def _unit_table() -> dict[str, Unit]:
    """Every Brian2 unit by its names ("ms", "msecond", "s", "second", "Hz", "hertz")."""
    table: dict[str, Unit] = {}
    for module in (_allunits, _units):
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, Unit):
                table.setdefault(name, value)
                table.setdefault(str(value), value)
    return table


def parse_quantity(text: str, name: str, unit: Unit | None) -> Any:
    """Parse ``"50 ms"``, ``"50*ms"``, ``"0.6 m/s"``, ``"0.5"`` into a number or quantity.

    Only a number optionally followed by one Brian2 unit name, or a quotient of two, is
    accepted; nothing is evaluated. Raises :class:`ValidationError` naming ``name`` otherwise.
    """
    expected = "a number" if unit is None else f"a number with a unit of {_unit_name(unit)}"
    example = "'0.5'" if unit is None else f"'2 {unit}'"
    if not isinstance(text, str):
        raise ValidationError(name, f"{expected} as text such as {example}", text)
    if len(text) > MAX_TEXT:
        raise ValidationError(name, f"{expected} of at most {MAX_TEXT} characters", text)
    match = _QUANTITY_RE.match(text)
    if not match:
        raise ValidationError(name, f"{expected} such as {example}", text)
    number, unit_name, per_name = float(match.group(1)), match.group(2), match.group(3)
    if per_name is not None:
        # a compound unit "m/s", as str() writes it: both names must be Brian2 units
        if unit_name is None:
            raise ValidationError(name, f"{expected} such as {example}", text)
        top, per = _unit_table().get(unit_name), _unit_table().get(per_name)
        for part, found_part in ((unit_name, top), (per_name, per)):
            if found_part is None:
                raise ValidationError(name, f"{expected}; '{part}' is not a Brian2 unit", text)
        return number * top / per
    if unit_name is None:
        if unit is not None and get_dimensions(unit) is not DIMENSIONLESS:
            raise ValidationError(name, f"{expected} (the unit is required)", text)
        return number
    found = _unit_table().get(unit_name)
    if found is None:
        raise ValidationError(name, f"{expected}; '{unit_name}' is not a Brian2 unit", text)
    return number * found


class CircuitParams:
    """Base class of every circuit's frozen ``Params`` dataclass.

    Subclasses are decorated with ``@dataclasses.dataclass(frozen=True)`` and set
    ``circuit_name`` (used in error messages, e.g. ``"TDConditioning"``). Cross-field
    checks go in :meth:`check`, which runs after every field has been validated.
    """

    circuit_name: ClassVar[str] = "Circuit"

    def __post_init__(self) -> None:
        # extreme values may overflow in the checks' arithmetic (compared as inf) or when a
        # message shows them; NumPy's warnings would add lines to a one-line error
        with np.errstate(all="ignore"):
            for f in dataclasses.fields(self):
                if f.metadata:
                    value = getattr(self, f.name)
                    self._validate_field(f, value)
                    if f.metadata["integer"] and not isinstance(value, int):
                        object.__setattr__(self, f.name, int(value))  # NumPy ints as int
            self.check()

    # -- validation -------------------------------------------------------------------
    def qualname(self, field_name: str) -> str:
        """``Circuit.Params.field``, the name used in error messages."""
        return f"{self.circuit_name}.Params.{field_name}"

    def _validate_field(self, f: dataclasses.Field, value: Any) -> None:
        meta = f.metadata
        name = self.qualname(f.name)
        if meta["choices"] is not None:
            if not isinstance(value, str) or value not in meta["choices"]:
                raise ValidationError(name, f"one of {', '.join(meta['choices'])}", value)
            return
        if meta.get("boolean"):
            if not isinstance(value, (bool, np.bool_)):
                raise ValidationError(name, "True or False", value)
            return
        unit = meta["unit"]
        if unit is not None and get_dimensions(unit) is not DIMENSIONLESS:
            if not isinstance(value, Quantity) or get_dimensions(value) != get_dimensions(unit):
                raise ValidationError(name, f"a quantity in units of {_unit_name(unit)}", value)
            if np.ndim(value) != 0:
                raise ValidationError(name, f"a single quantity in units of {unit}", value)
            magnitude = float(np.asarray(value / unit))
        else:
            if meta["integer"] and (
                not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_))
            ):
                raise ValidationError(name, "an integer", value)
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating, Quantity)
            ):
                raise ValidationError(name, "a number", value)
            if isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS:
                raise ValidationError(name, "a dimensionless number", value)
            if np.ndim(value) != 0:
                raise ValidationError(name, "a single number", value)
            if meta["integer"] and abs(int(value)) > MAX_INT:
                raise ValidationError(name, f"an integer of at most {MAX_INT} in size", value)
            try:
                magnitude = float(value)
            except OverflowError:  # an int beyond the range of floats
                raise ValidationError(name, "a finite value", value) from None
        if not math.isfinite(magnitude):
            raise ValidationError(name, "a finite value", value)
        if meta["integer"] and (
            not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_))
        ):
            raise ValidationError(name, "an integer", value)
        for bound, inclusive, sign in (
            (meta["low"], meta["low_inclusive"], 1),
            (meta["high"], meta["high_inclusive"], -1),
        ):
            if bound is None:
                continue
            b = float(np.asarray(bound / unit)) if isinstance(bound, Quantity) else float(bound)
            ok = sign * (magnitude - b) >= 0 if inclusive else sign * (magnitude - b) > 0
            if not ok:
                op = (">=" if inclusive else ">") if sign == 1 else ("<=" if inclusive else "<")
                shown = bound if isinstance(bound, Quantity) else b
                kind = "an integer" if meta["integer"] else "a value"
                raise ValidationError(name, f"{kind} {op} {shown}", value)

    def check(self) -> None:
        """Cross-field validation; subclasses override and raise ``ValidationError``."""

    # -- construction helpers ---------------------------------------------------------
    def replace(self, **changes: Any):
        """Return a copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValidationError(self.qualname("")[:-1], "a known field name", ", ".join(unknown))
        return dataclasses.replace(self, **changes)

    def replace_from_strings(
        self, assignments: Mapping[str, str], origins: Mapping[str, str] | None = None
    ):
        """Return a copy with fields set from strings, as given on the command line.

        Parameters
        ----------
        assignments : mapping of str to str
            Field name -> value text (``"20 ms"``, ``"0.5"``, ``"40"``, ``"true"``).
        origins : mapping of str to str, optional
            Where some assignments come from (field name -> e.g. a file name); an error
            in one of them names it: ``Circuit.Params.field (in params.toml): ...``.

        Raises
        ------
        ValidationError
            An unknown field, a value that does not parse or is invalid on its own (named
            after the field and its origin), or values that do not fit together.
        """
        fields = {f.name: f for f in dataclasses.fields(self)}
        origins = origins or {}
        changes: dict[str, Any] = {}
        for key, text in assignments.items():
            try:
                if key not in fields:
                    raise ValidationError(
                        self.qualname("")[:-1],
                        f"a field name (one of {', '.join(sorted(fields))})",
                        key,
                    )
                changes[key] = self._parse_field(fields[key], text)
                # each value on its own first, so that the error names where it came from
                self._validate_field(fields[key], changes[key])
            except ValidationError as exc:
                if key in origins:
                    raise ValidationError(
                        f"{exc.name} (in {origins[key]})", exc.expected, exc.given
                    ) from None
                raise
        return self.replace(**changes)

    def _parse_field(self, f: dataclasses.Field, text: str) -> Any:
        name = self.qualname(f.name)
        meta = f.metadata
        if not isinstance(text, str):
            raise ValidationError(name, "a value as text", text)
        if len(text) > MAX_TEXT:
            raise ValidationError(name, f"a value of at most {MAX_TEXT} characters", text)
        text = text.strip()
        if meta.get("choices") is not None:
            return text
        if meta.get("boolean"):
            lowered = text.lower()
            if lowered in {"true", "1", "yes", "on"}:
                return True
            if lowered in {"false", "0", "no", "off"}:
                return False
            raise ValidationError(name, "true or false", text)
        if meta.get("integer"):
            if not re.fullmatch(r"[-+]?\d+", text, re.ASCII):
                raise ValidationError(name, "an integer", text)
            return int(text)
        return parse_quantity(text, name, meta.get("unit"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly mapping of field name to value.

        Quantities become strings in the field's unit at full precision ("1.2 s"), which
        :meth:`replace_from_strings` parses back to the same value.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            unit = f.metadata.get("unit")
            if unit is not None and isinstance(value, Quantity) and not value.is_dimensionless:
                out[f.name] = f"{float(value / unit)!r} {unit}"
            else:
                out[f.name] = quantity_to_str(value)
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]):
        """Rebuild parameters from :meth:`to_dict` output (validated like ``--set``)."""
        return cls().replace_from_strings({k: str(v) for k, v in values.items()})

    @classmethod
    def runtime_fields(cls) -> tuple[str, ...]:
        """The run-time fields (``param(..., runtime=True)``), in declaration order.

        A compiled ``cpp_standalone`` program takes new values of these as run arguments;
        every other field is structural and needs a program of its own.
        """
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("runtime"))

    def structure(self):
        """These parameters with every run-time field at its default: the program's shape.

        Two parameter sets with the same ``structure()`` run on one compiled program
        (:func:`spikingml.simulation.build_key` names its build directory after it). If
        the defaults do not fit this parameter set's structural fields (``check`` refuses
        the combination), the parameters themselves are the structure.
        """
        defaults = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("runtime"):
                default = (
                    f.default if f.default is not dataclasses.MISSING else f.default_factory()
                )
                defaults[f.name] = default
        if not defaults:
            return self
        try:
            return self.replace(**defaults)
        except ValidationError:
            return self

    def same_structure(self, other: CircuitParams) -> bool:
        """Whether ``other`` runs on the program compiled for these parameters."""
        return type(other) is type(self) and (
            self.structure().to_dict() == other.structure().to_dict()
        )

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """``(name, default, doc)`` for every field, for help texts and docs."""
        out = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            out.append((f.name, quantity_to_str(default), f.metadata.get("doc", "")))
        return out


class RuleParams(CircuitParams):
    """Base class of the frozen parameter dataclasses of learning rules (``plasticity/``).

    Fields are declared with :func:`param` and validated at construction exactly as a
    circuit's ``Params`` are; errors name ``RuleName.field`` (the class name), e.g.
    ``DopamineSTDP.tau_c: expected a quantity in units of second, got 5``.
    """

    def qualname(self, field_name: str) -> str:
        """``RuleName.field``, the name used in error messages."""
        return f"{type(self).__name__}.{field_name}"


def recording(params: CircuitParams) -> tuple[CircuitParams, set[str]]:
    """A copy of ``params`` that notes the name of every field read from it.

    The copy is an instance of a subclass of ``type(params)`` with the same field values,
    so a function given it runs as with ``params`` (``isinstance`` checks pass). Each
    field it reads is added to the returned set; reading ``__dict__``, pickling, comparing
    or hashing the copy adds every field (a pickled copy is a plain one, whose reads
    can no longer be seen), and so do :meth:`CircuitParams.to_dict` and
    ``dataclasses.replace``, which read every field. The copy equals ``params``. Copies
    the function makes (``replace``, ``structure``) note into the same set.

    A deterministic function of a seed and of parameters read through this copy gives the
    same result for any parameters that agree with ``params`` on the noted fields: it
    would read the same values, in the same order.
    :func:`spikingml.pipeline.variant_records` relies on this to compute a twin once
    for the runs of a sweep that differ only in fields the twin does not read.

    Parameters
    ----------
    params : CircuitParams
        Any frozen parameter dataclass of this module's kind.

    Returns
    -------
    copy : CircuitParams
        The noting copy.
    read : set of str
        The names of the fields read so far (filled in as the copy is used).
    """
    base = type(params)
    names = frozenset(f.name for f in dataclasses.fields(params))
    read: set[str] = set()

    def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807
        if name in names:
            read.add(name)
        elif name == "__dict__":
            read.update(names)
        return base.__getattribute__(self, name)

    def values(self: Any) -> dict[str, Any]:
        read.update(names)
        return {name: object.__getattribute__(self, name) for name in names}

    def __reduce_ex__(self: Any, protocol: Any) -> Any:  # noqa: N807
        return _rebuilt, (base, values(self))

    def __eq__(self: Any, other: Any) -> bool:  # noqa: N807
        return base(**values(self)) == other

    def __hash__(self: Any) -> int:  # noqa: N807
        return hash(base(**values(self)))

    noting = type(
        base.__name__,
        (base,),
        {
            "__getattribute__": __getattribute__,
            "__reduce_ex__": __reduce_ex__,
            "__eq__": __eq__,
            "__hash__": __hash__,
            "__module__": base.__module__,
            "__qualname__": base.__qualname__,
        },
    )
    copy = object.__new__(noting)
    object.__getattribute__(copy, "__dict__").update(object.__getattribute__(params, "__dict__"))
    return copy, read


def _rebuilt(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)``: how a :func:`recording` copy is pickled (as a plain one)."""
    return cls(**values)
