"""The circuit contract, as code: what a circuit module must and may define.

Every circuit is a module that the command line, the run pipeline
(:mod:`spikingml.pipeline`), sweeps, exporters, the docs and the benchmarks treat alike.
What they may rely on is declared once, here, as :data:`MEMBERS`: the *required* members
every circuit defines, and the *optional* ones with the default that applies when a
circuit leaves them out (as neo's ``BaseIO`` declares what every IO class provides).
:class:`Circuit` wraps a module with those defaults filled in, so no caller writes
``getattr(module, "DEFAULT_DEVICE", "runtime")`` again, and :func:`check_module`
lists what a module gets wrong. ``tests/test_contract.py`` runs every registered circuit
through the whole contract (as scikit-learn's ``check_estimator`` does); a new circuit
starts from :mod:`spikingml.circuits.three_factor_synapse` and inherits those checks.

Required members
----------------
``NAME`` : str
    The command-line name (``"td-conditioning"``), equal to its key in the registry.
``DESCRIPTION`` : str
    One line for ``spikingml list``.
``METRICS`` : dict of str to str
    Every metric that ``compare`` returns, each with what it measures, which direction
    is better and the target. A key may hold one ``<placeholder>`` for a family of
    metrics (``"nmi_spiking_<set>"`` documents ``nmi_spiking_mixture`` and
    ``nmi_spiking_digits``). ``compare`` returns no other keys; with the default, quick
    and tiny presets it returns every documented one (parameters may select a part, as
    ``rescorla-wagner``'s ``paradigm`` does; :func:`order_metrics` checks).
``Params`` : class
    A frozen :class:`spikingml.params.CircuitParams` dataclass with a ``quick()``
    classmethod (seconds of wall time); ``Params()`` is the default, scientifically
    meaningful preset.
``simulate(params, seed=0, device=..., progress=True) -> Result``
    Builds an explicit Brian2 network, runs the protocol, returns plain data.
``twin(params, seed=0)``
    The abstract ML algorithm on the same task and inputs.
``compare(result, twin_output) -> dict[str, float]``
    The metrics named in ``METRICS``.
``figures(result, twin_output, outdir) -> list[Path]``
    Writes ``comparison.png`` and the circuit's own figures into ``outdir``.

The module docstring cites the paper(s) in a ``References`` section.

Structure (checked by the conformance test, not needed by callers): a
``build_network(params, ...)`` function creates every Brian2 object of the circuit and
runs nothing, in at most 90 lines, so that a reader finds the circuit on one screen;
``simulate`` is the outline of a run around it (inputs, device, build, protocol, Result).

Optional members and their defaults
-----------------------------------
``DEFAULT_DEVICE = "runtime"``
    The Brian2 device a run uses unless told otherwise.
``SUPPORTS_RESUME = False``
    ``simulate`` takes ``checkpoint=`` and ``resume=`` paths (long training runs).
``DEVICES_IDENTICAL = True``
    ``runtime`` and ``cpp_standalone`` give identical spikes for one seed. ``False``
    where Brian2 draws random numbers on the device (``rand()`` in equations, a
    ``PoissonGroup``), which it does differently on each: the runs are then equivalent
    in distribution, and the conformance test compares spike counts.
``load_checkpoint(path, params, seed)``
    Checks a checkpoint before a resumed run starts (a foreign file is refused then).
``simulate_seeds(params, seeds, device, progress)``
    Yields one ``Result`` per seed, each equal to ``simulate(params, seed, device)``,
    compiling a ``cpp_standalone`` program once for all of them.
``simulate_many(runs, device, progress, fresh)``
    Yields one ``Result`` per ``(params, seed)`` of ``runs``, each equal to
    ``simulate(params, seed, device)``; under ``cpp_standalone`` one program is compiled
    per structure (:meth:`spikingml.params.CircuitParams.structure`) and re-run with the
    run-time fields of each (:func:`spikingml.simulation.compiled_runs`); with
    ``fresh=True``, a program is compiled for each run's own values. A circuit that
    declares run-time fields (``param(..., runtime=True)``) defines it; the conformance
    test checks that a re-run with changed run-time fields equals a program compiled for
    them.
``raster_options(result) -> dict``
    Keyword arguments of :func:`spikingml.plotting.raster` for ``raster.png``.
``raster_window(result) -> (t_start, t_stop)``
    Only the time window of ``raster.png`` (used when ``raster_options`` is absent).
``tiny()`` on ``Params``
    The smallest preset that runs every part of the protocol, for the conformance test
    (default: ``quick()``).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from spikingml._checks import DEVICES
from spikingml.errors import SpikingMLError

__all__ = [
    "MEMBERS",
    "RESERVED_KEYS",
    "Circuit",
    "ContractError",
    "Member",
    "check_module",
    "order_metrics",
]

#: Keys of ``metrics.json`` that are not metrics; a circuit may not use them as metric names.
RESERVED_KEYS: tuple[str, ...] = (
    "circuit",
    "seed",
    "device",
    "params",
    "wall_seconds",
    "simulated_seconds",
    "simulate_wall_seconds",
    "synaptic_events",
    "compile_seconds",
    "binary_seconds",
)


class ContractError(SpikingMLError, TypeError):
    """A circuit module does not follow the circuit contract."""


@dataclasses.dataclass(frozen=True)
class Member:
    """One member of the circuit contract.

    Attributes
    ----------
    name : str
        Attribute name in the circuit module.
    kind : {"str", "dict", "class", "function", "bool"}
        What it must be.
    doc : str
        What it is for.
    required : bool
        Whether every circuit defines it.
    default : object
        The value that applies when an optional member is absent.
    parameters : tuple of str
        For functions, the parameter names it must accept (in this order).
    """

    name: str
    kind: str
    doc: str
    required: bool = True
    default: Any = None
    parameters: tuple[str, ...] = ()


#: The contract: every member a circuit module must or may define.
MEMBERS: tuple[Member, ...] = (
    Member("NAME", "str", "command-line name, equal to the registry key"),
    Member("DESCRIPTION", "str", "one line for `spikingml list`"),
    Member("METRICS", "dict", "metric name -> what it measures, better direction, target"),
    Member("Params", "class", "frozen CircuitParams dataclass with a quick() preset"),
    Member(
        "simulate",
        "function",
        "run the protocol on the spiking circuit -> Result",
        parameters=("params", "seed", "device", "progress"),
    ),
    Member("twin", "function", "the abstract ML algorithm", parameters=("params", "seed")),
    Member(
        "compare",
        "function",
        "the metrics of METRICS",
        parameters=("result", "twin_output"),
    ),
    Member(
        "figures",
        "function",
        "write comparison.png and the circuit's figures",
        parameters=("result", "twin_output", "outdir"),
    ),
    Member("DEFAULT_DEVICE", "str", "Brian2 device of a run", False, "runtime"),
    Member("SUPPORTS_RESUME", "bool", "simulate takes checkpoint= and resume=", False, False),
    Member(
        "DEVICES_IDENTICAL",
        "bool",
        "runtime and cpp_standalone give identical spikes for one seed",
        False,
        True,
    ),
    Member(
        "load_checkpoint",
        "function",
        "check a checkpoint before resuming",
        False,
        parameters=("path", "params", "seed"),
    ),
    Member(
        "simulate_seeds",
        "function",
        "one Result per seed, compiled once under cpp_standalone",
        False,
        parameters=("params", "seeds", "device", "progress"),
    ),
    Member(
        "simulate_many",
        "function",
        "one Result per (params, seed), compiled once per structure under cpp_standalone",
        False,
        parameters=("runs", "device", "progress", "fresh"),
    ),
    Member(
        "raster_options",
        "function",
        "arguments of plotting.raster for raster.png",
        False,
        parameters=("result",),
    ),
    Member(
        "raster_window",
        "function",
        "time window of raster.png",
        False,
        parameters=("result",),
    ),
)

_BY_NAME = {m.name: m for m in MEMBERS}
_KINDS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str) and bool(v.strip()),
    "dict": lambda v: isinstance(v, Mapping),
    "class": inspect.isclass,
    "function": callable,
    "bool": lambda v: isinstance(v, bool),
}


def _accepts(fn: Callable[..., Any], names: Iterable[str]) -> list[str]:
    """Those of ``names`` that ``fn`` cannot take as keyword arguments."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return []
    params = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    return [n for n in names if n not in params]


_PLACEHOLDER = re.compile(r"<[a-z_]+>")


def _metric_pattern(documented: str) -> re.Pattern[str] | None:
    """The keys a ``METRICS`` key with a ``<placeholder>`` stands for (``None``: none)."""
    parts = _PLACEHOLDER.split(documented)
    if len(parts) == 1:
        return None
    return re.compile("[a-z0-9_.]+".join(re.escape(p) for p in parts))


def order_metrics(
    documented: Mapping[str, str], keys: Iterable[str], require_all: bool = True
) -> list[str]:
    """``keys`` (what ``compare`` returned) in the order of ``METRICS``, checked against it.

    A key with a placeholder (``"nmi_spiking_<set>"``) stands for any number of returned
    keys, taken in the order ``compare`` gave them. With ``require_all``, every other
    documented key must be returned; without, parameters may select a part of the
    metrics (``rescorla-wagner`` with one ``paradigm`` returns that paradigm's only).

    Raises
    ------
    ContractError
        Naming the keys that ``METRICS`` does not document, or (``require_all``) the
        documented keys that were not returned.
    """
    keys = [str(k) for k in keys]
    ordered: list[str] = []
    for doc_key in documented:
        pattern = _metric_pattern(doc_key)
        if pattern is None:
            if doc_key in keys:
                ordered.append(doc_key)
            continue
        # a family never takes a key documented on its own ("curve_correlation_min")
        ordered += [
            k for k in keys if pattern.fullmatch(k) and k not in documented and k not in ordered
        ]
    undocumented = [k for k in keys if k not in ordered]
    if undocumented:
        raise ContractError(
            f"compare() returned metrics that METRICS does not document: {', '.join(undocumented)}"
        )
    missing = [k for k in documented if _metric_pattern(k) is None and k not in keys]
    if missing and require_all:
        raise ContractError(
            f"compare() did not return the metrics {', '.join(missing)} that METRICS documents"
        )
    return ordered


def check_module(module: ModuleType, name: str | None = None) -> list[str]:
    """What ``module`` gets wrong about the circuit contract (an empty list if nothing).

    These are the checks that need no simulation: members present and of the right kind,
    functions taking the contract's parameters, ``Params`` a ``CircuitParams`` with a
    ``quick()`` preset, ``METRICS`` documented and clear of the reserved keys,
    ``DEFAULT_DEVICE`` a supported device, and ``NAME`` equal to the registered ``name``.
    The conformance test (``tests/test_contract.py``) runs the rest.
    """
    from spikingml.params import CircuitParams

    problems = []
    for member in MEMBERS:
        if not hasattr(module, member.name):
            if member.required:
                problems.append(f"{member.name} is missing ({member.doc})")
            continue
        value = getattr(module, member.name)
        if not _KINDS[member.kind](value):
            problems.append(f"{member.name} must be a {member.kind}, not {type(value).__name__}")
            continue
        if member.kind == "function":
            missing = _accepts(value, member.parameters)
            if missing:
                problems.append(
                    f"{member.name}() must accept {', '.join(member.parameters)} "
                    f"(missing: {', '.join(missing)})"
                )
    if problems:
        return problems
    if name is not None and module.NAME != name:
        problems.append(f"NAME is {module.NAME!r}, but the circuit is registered as {name!r}")
    if not issubclass(module.Params, CircuitParams):
        problems.append("Params must derive from spikingml.params.CircuitParams")
    elif not dataclasses.is_dataclass(module.Params):
        problems.append("Params must be a frozen dataclass")
    if not callable(getattr(module.Params, "quick", None)):
        problems.append("Params has no quick() preset")
    metrics = module.METRICS
    if not metrics:
        problems.append("METRICS is empty")
    for key, doc in metrics.items():
        if not isinstance(key, str) or not isinstance(doc, str) or not doc.strip():
            problems.append(f"METRICS[{key!r}] must be a non-empty description")
    reserved = sorted(set(metrics) & set(RESERVED_KEYS))
    if reserved:
        problems.append(f"METRICS uses reserved names: {', '.join(reserved)}")
    device = getattr(module, "DEFAULT_DEVICE", "runtime")
    if device not in DEVICES:
        problems.append(f"DEFAULT_DEVICE must be one of {', '.join(DEVICES)}, not {device!r}")
    return problems


class Circuit:
    """A circuit module seen through the contract, with the optional members' defaults.

    Members are looked up on the module each time they are used, so a module changed
    after wrapping (as tests do) is seen as it is now.

    Parameters
    ----------
    module : module
        A module following the circuit contract.
    name : str, optional
        The name it is registered under (default: its ``NAME``).

    Raises
    ------
    ContractError
        If :func:`check_module` finds a problem (the message lists them all).
    """

    def __init__(self, module: ModuleType, name: str | None = None) -> None:
        problems = check_module(module, name)
        if problems:
            label = name or getattr(module, "__name__", repr(module))
            raise ContractError(
                f"circuit {label} does not follow the circuit contract: " + "; ".join(problems)
            )
        self.module = module
        self.name: str = name or module.NAME

    def __repr__(self) -> str:
        return f"Circuit({self.name!r}, module={self.module.__name__!r})"

    def __getattr__(self, attr: str) -> Any:
        # the module's own members (Params, METRICS, circuit-specific helpers);
        # optional members missing from the module take the contract's default
        module = self.__dict__.get("module")
        if module is None:
            raise AttributeError(attr)
        if hasattr(module, attr):
            return getattr(module, attr)
        member = _BY_NAME.get(attr)
        if member is not None and not member.required:
            return member.default
        raise AttributeError(f"circuit {self.name!r} has no member {attr!r}")

    # -- optional members, resolved ------------------------------------------------------
    @property
    def default_device(self) -> str:
        """The circuit's ``DEFAULT_DEVICE`` (``"runtime"`` if it has none)."""
        return getattr(self.module, "DEFAULT_DEVICE", "runtime")

    @property
    def supports_resume(self) -> bool:
        """Whether ``simulate`` writes checkpoints and can resume from one."""
        return bool(getattr(self.module, "SUPPORTS_RESUME", False))

    def reuses_compiled(self, device: str) -> bool:
        """Whether :meth:`simulate_seeds` (or :meth:`simulate_many`) compiles once for
        all seeds on ``device``."""
        return device == "cpp_standalone" and (
            hasattr(self.module, "simulate_seeds") or hasattr(self.module, "simulate_many")
        )

    def reruns_structure(self, device: str) -> bool:
        """Whether :meth:`simulate_many` compiles once per structure on ``device``."""
        return device == "cpp_standalone" and hasattr(self.module, "simulate_many")

    def many(
        self, runs: Iterable[tuple[Any, int]], device: str, progress: bool = True
    ) -> Iterator[Any]:
        """One ``Result`` per ``(params, seed)``: the circuit's ``simulate_many``, else
        ``simulate_seeds`` for each run of one parameter set in a row, else ``simulate``.
        """
        runs = list(runs)
        hook = getattr(self.module, "simulate_many", None)
        if hook is not None:
            yield from hook(runs, device=device, progress=progress)
            return
        seeds_hook = getattr(self.module, "simulate_seeds", None)
        start = 0
        while start < len(runs):
            params = runs[start][0]
            stop = start + 1
            while stop < len(runs) and runs[stop][0].to_dict() == params.to_dict():
                stop += 1
            seeds = [seed for _, seed in runs[start:stop]]
            if seeds_hook is not None:
                yield from seeds_hook(params, seeds=seeds, device=device, progress=progress)
            else:
                for seed in seeds:
                    yield self.module.simulate(params, seed=seed, device=device, progress=progress)
            start = stop

    def preset(self, quick: bool = False) -> Any:
        """``Params.quick()`` or ``Params()``."""
        return self.module.Params.quick() if quick else self.module.Params()

    def tiny(self) -> Any:
        """The conformance test's preset: ``Params.tiny()`` if defined, else ``quick()``."""
        tiny = getattr(self.module.Params, "tiny", None)
        return tiny() if callable(tiny) else self.module.Params.quick()

    def raster_options(self, result: Any) -> dict[str, Any]:
        """Keyword arguments of :func:`spikingml.plotting.raster` for ``raster.png``.

        The circuit's ``raster_options(result)``, else its ``raster_window(result)`` as
        ``t_start``/``t_stop``, else nothing (all of the run).
        """
        options_fn = getattr(self.module, "raster_options", None)
        if options_fn is not None:
            return dict(options_fn(result))
        window_fn = getattr(self.module, "raster_window", None)
        if window_fn is not None:
            t_start, t_stop = window_fn(result)
            return {"t_start": t_start, "t_stop": t_stop}
        return {}

    def check_checkpoint(self, path: Path, params: Any, seed: int) -> None:
        """Refuse a checkpoint that is not this run's (the circuit's ``load_checkpoint``)."""
        check = getattr(self.module, "load_checkpoint", None)
        if check is not None:
            check(path, params, seed)
