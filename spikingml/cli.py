"""The ``spikingml`` command line: list, inspect, run, export and sweep the circuits.

Usage examples
--------------
List the circuits::

    $ spikingml list
    td-conditioning  dopamine neurons learn a TD error; the burst moves from reward to cue

Show the parameters of a circuit (the names and values ``--set`` accepts)::

    $ spikingml params td-conditioning --quick

Run the quick preset with a different seed and two parameters changed, writing to
``./out/td``::

    $ spikingml run td-conditioning --quick --seed 3 --out out/td \\
          --set tau_c="20 ms" n_acquisition=40

Take the parameters from a file (``.json`` or ``.toml``, ``field = value``, such as the
``params.json`` of an earlier run); ``--set`` overrides it::

    $ spikingml run td-conditioning --quick --params td.toml --set n_acquisition=40

Run the default preset under ``cpp_standalone`` and overwrite an earlier run::

    $ spikingml run td-conditioning --device cpp_standalone --force

Run seeds 0-9 under ``cpp_standalone``, compiled once (circuits with a ``simulate_seeds``
hook, such as ``td-conditioning``), into ``out/td/seed-0`` ... ``out/td/seed-9``::

    $ spikingml run td-conditioning --device cpp_standalone --seeds 0-9 --out out/td

Write the recorded data as NWB (``data.nwb``) instead of NIX, or as both::

    $ spikingml run td-conditioning --quick --format nwb
    $ spikingml run td-conditioning --quick --format both

Convert the ``data.nix`` of an earlier run to ``data.nwb`` (or back with ``--to nix``)::

    $ spikingml export spikingml-output/td-conditioning --to nwb

Run the quick preset for two values of a parameter and seeds 0-9 on 2 worker processes
(Dask; see :mod:`spikingml.sweep`), one row per run in ``sweeps/td/runs.csv``::

    $ spikingml sweep td-conditioning --quick --grid tau_c="10 ms,20 ms" --seeds 0-9 \\
          --workers 2 --out sweeps/td

``python -m spikingml ...`` works the same way.

What ``run`` writes
-------------------
Into ``DIR`` (default ``./spikingml-output/NAME``): ``metrics.json`` (a flat mapping of
every metric of the circuit plus ``circuit``, ``seed``, ``device``, ``params``,
``wall_seconds``, ``simulated_seconds``, ``simulate_wall_seconds``, ``synaptic_events``
and, under ``cpp_standalone``, ``compile_seconds`` and ``binary_seconds``), ``params.json``,
``data.nix`` (NEO, see :mod:`spikingml.export`), ``raster.png``, ``comparison.png`` and any
circuit-specific figures. JSON is indented with sorted keys; non-finite numbers are written
as ``null``. ``--format`` chooses the data file: ``nix`` (the default, ``data.nix``),
``nwb`` (``data.nwb`` instead, written by :func:`spikingml.export.write_nwb`; it also keeps
the run's weights and extra data, which NIX does not hold; needs the extra ``nwb``) or
``both``.

What ``export`` writes
----------------------
``spikingml export DIR --to nwb`` reads ``DIR/data.nix`` and writes ``DIR/data.nwb``
(atomically; an existing file only with ``--force``); ``--to nix`` goes the other way.
A ``data.nwb`` made from ``data.nix`` has no weights and extra data (NIX does not hold
them); ``run --format nwb`` writes them.

Everything is first written into a fresh hidden temporary directory next to ``DIR``; only
when every file has been written are they moved into ``DIR`` (one :func:`os.replace` per
file) and the temporary directory removed. An interrupted or failed run therefore never
leaves half-written outputs behind and never clobbers earlier ones. If ``DIR`` already
holds output files, ``run`` refuses (before simulating) unless ``--force`` is given.

With ``--seeds``, each seed's files go to ``DIR/seed-N``, exactly the files (and, but for
the timings in ``metrics.json``, the content) of a run with ``--seed N``; every
``DIR/seed-N`` is checked before anything runs. Under ``cpp_standalone`` a circuit with
a ``simulate_seeds`` hook compiles its program once and reruns it per seed
(:func:`spikingml.circuits.simulate_seeds`), the next seed simulating while one's files
are written; ``simulate_wall_seconds`` is then that seed's own simulation (the first
seed's includes the compilation) and ``wall_seconds`` the seed's share of the command.

Exit status
-----------
``0`` success; ``2`` bad usage or input (unknown circuit, bad ``--set`` or ``--params``
file, bad ``--seed``, device or ``--out``, existing output without ``--force``), found
before anything is simulated or written and reported as one line
``spikingml: error: <message>`` on stderr; ``1`` a circuit module that cannot be
imported or a file-system error, also reported on one line; ``130`` interrupted
(Ctrl-C or SIGTERM: both stop the run the same way). Any other exception is a bug and
propagates with its traceback, after the temporary directory has been removed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.errors import OutputExistsError, SpikingMLError, ValidationError

if TYPE_CHECKING:
    from spikingml._background import Worker

__all__ = [
    "main",
    "build_parser",
    "load_params_file",
    "output_path",
    "OUTPUT_FILES",
    "DATA_FILES",
    "RESERVED_KEYS",
]

PROG = "spikingml"

#: Files every run writes (circuit-specific figures come on top of these).
OUTPUT_FILES: tuple[str, ...] = (
    "metrics.json",
    "params.json",
    "data.nix",
    "raster.png",
    "comparison.png",
)

#: The data file(s) written by each ``--format`` of ``run`` (``data.nix`` replaced in
#: :data:`OUTPUT_FILES`).
DATA_FILES: dict[str, tuple[str, ...]] = {
    "nix": ("data.nix",),
    "nwb": ("data.nwb",),
    "both": ("data.nix", "data.nwb"),
}

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

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_DEVICE_CHOICES = "{runtime,cpp_standalone}"

#: Largest parameter file read (a parameter file holds a few dozen short lines).
MAX_PARAMS_FILE_BYTES = 1 << 20


class _Failure(SpikingMLError):
    """An error of the environment, not of the input (exit status 1)."""


# -- helpers ---------------------------------------------------------------------------


def _error(message: str) -> None:
    """Print ``spikingml: error: <message>`` as one line on stderr."""
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr, flush=True)


def _load_circuit(name: str) -> ModuleType:
    """Return the module of circuit ``name``; unknown names raise ``ValidationError``."""
    from spikingml.circuits import REGISTRY, get_circuit

    try:
        return get_circuit(name)
    except ImportError as exc:
        raise _Failure(
            f"circuit {name!r} (module {REGISTRY.get(name)}) cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _table(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Format rows as left-aligned columns separated by two spaces."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append((indent + "  ".join([*cells, row[-1]])).rstrip())
    return lines


def parse_assignments(items: Iterable[str] | None) -> dict[str, str]:
    """Parse ``--set`` items ``field=value`` into a mapping (later items win).

    Parameters
    ----------
    items : iterable of str, optional
        Items as given on the command line.

    Returns
    -------
    dict of str to str
        Field name -> value text, both stripped.

    Raises
    ------
    ValidationError
        If an item has no ``=`` or an empty field name (the message names ``--set``).
    """
    assignments: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError("--set", "items of the form field=value", item)
        assignments[key.strip()] = value.strip()
    return assignments


def output_path(text: str, flag: str = "--out") -> Path:
    """Check an output directory given by the user, before anything runs or is written.

    Refuses an empty path, NUL characters, names the file system cannot hold, and a path
    that would have to pass through an existing file; says so naming ``flag``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(flag, "a directory path", text)
    if "\0" in text:
        raise ValidationError(flag, "a path without NUL characters", text)
    try:
        parts = [os.fsencode(part) for part in Path(text).parts]
    except UnicodeError:
        raise ValidationError(flag, "a path the file system can encode", text) from None
    if any(len(part) > 255 for part in parts):
        raise ValidationError(flag, "a path whose names have at most 255 bytes", text)
    path = Path(text)
    for ancestor in path.absolute().parents:
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                raise ValidationError(
                    flag, "a path below a directory", f"{text} ({ancestor} is a file)"
                )
            if not os.access(ancestor, os.W_OK | os.X_OK) and not path.exists():
                raise ValidationError(
                    flag, "a path below a directory you may write to", f"{text} ({ancestor})"
                )
            break
    return path


def _missing_dirs(directory: Path) -> list[Path]:
    """``directory`` and those of its parents that do not exist yet, outermost first."""
    missing = []
    for d in [directory, *directory.parents]:
        if os.path.lexists(d):
            break
        missing.append(d)
    return missing[::-1]


def _remove_empty(created: Sequence[Path]) -> None:
    """Remove directories a failed run created, innermost first, while they are empty."""
    for d in reversed(created):
        if not os.path.lexists(d):  # not made after all (the run failed before)
            continue
        try:
            d.rmdir()
        except OSError:  # not empty (or gone): keep it
            break


def _file_value(key: str, value: Any, origin: str) -> str:
    """A value of a parameter file as the text ``--set`` would give."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        try:
            return repr(value)
        except ValueError:  # an int of more digits than Python converts
            raise ValidationError(f"{key} (in {origin})", "a number", "a huge integer") from None
    raise ValidationError(
        f"{key} (in {origin})", "a number, a string such as '20 ms' or a boolean", value
    )


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"key {repeated[0]!r} given twice")
    return dict(pairs)


def load_params_file(text: str, flag: str = "--params") -> dict[str, str]:
    """Read a parameter file: a flat JSON object or TOML table of ``field = value``.

    Values are numbers, booleans or strings in ``--set`` syntax (``"20 ms"``), and are
    returned as that text, to be validated by the circuit's ``Params`` exactly like
    ``--set``. Only JSON (:mod:`json`) and TOML (:mod:`tomllib`) are parsed; nothing is
    evaluated or unpickled.

    Raises
    ------
    ValidationError
        Naming ``flag`` and the file (missing, unreadable, too big, not UTF-8, malformed,
        not a flat table), or a field of the file whose value is a list or table.
    """
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        raise ValidationError(flag, "a .json or .toml file", text)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ValidationError(flag, "a file name ending in .json or .toml", text)
    try:
        if not path.is_file():
            raise ValidationError(flag, "an existing .json or .toml file", text)
        if path.stat().st_size > MAX_PARAMS_FILE_BYTES:
            raise ValidationError(
                flag, f"a parameter file of at most {MAX_PARAMS_FILE_BYTES} bytes", text
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(flag, "a readable file", f"{text} ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8")
        if suffix == ".json":
            data = json.loads(content, object_pairs_hook=_reject_duplicates)
        else:
            data = tomllib.loads(content)
    except (ValueError, RecursionError) as exc:  # JSON, TOML and UTF-8 errors are ValueErrors
        kind = "JSON" if suffix == ".json" else "TOML"
        reason = " ".join(str(exc).split())[:100] or type(exc).__name__
        raise ValidationError(flag, f"a valid {kind} file ({reason})", text) from None
    if not isinstance(data, dict):
        raise ValidationError(
            flag, "a file holding one table of field = value", f"{text} (a {type(data).__name__})"
        )
    return {str(k): _file_value(str(k), v, text) for k, v in data.items()}


def _params_from(module: ModuleType, args: argparse.Namespace) -> Any:
    """The preset, then the values of ``--params FILE``, then ``--set`` (which wins)."""
    from_file = load_params_file(args.params) if args.params is not None else {}
    from_set = parse_assignments(args.set)
    params = module.Params.quick() if args.quick else module.Params()
    assignments = {**from_file, **from_set}
    if assignments:
        origins = {k: args.params for k in from_file if k not in from_set}
        params = params.replace_from_strings(assignments, origins=origins)
    return params


def _jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types; non-finite numbers become ``None``."""
    from brian2.units.fundamentalunits import Quantity

    from spikingml.params import quantity_to_str

    if isinstance(value, Quantity):
        return _jsonable(quantity_to_str(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _write_json(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON with sorted keys (NaN as ``null``), atomically."""
    text = json.dumps(_jsonable(data), indent=2, sort_keys=True, allow_nan=False)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _existing(out: Path, names: Iterable[str]) -> list[str]:
    """Those of ``names`` (relative paths) that already exist in ``out``."""
    return [name for name in names if os.path.lexists(out / name)]


def _check_output(out: Path, names: Iterable[str], force: bool) -> None:
    """Refuse to overwrite output files in ``out`` unless ``force``."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {out} exists and is not a directory")
    if force:
        return
    clash = _existing(out, names)
    if clash:
        raise OutputExistsError(
            f"{out} already contains {', '.join(clash)}; pass --force to overwrite, "
            "or choose another directory with --out"
        )


CHECKPOINT = "checkpoint.npz"


def _training_options(
    module: ModuleType, args: argparse.Namespace, out: Path, params: Any = None
) -> dict[str, Any]:
    """Checkpoint and resume arguments for circuits that train long (``SUPPORTS_RESUME``).

    Such circuits write ``DIR/checkpoint.npz`` during training, so that an interrupted run
    can be continued with ``--resume``; a checkpoint left by an earlier run is never
    overwritten unless ``--resume`` or ``--force`` says what to do with it.
    """
    if not getattr(module, "SUPPORTS_RESUME", False):
        if args.resume is not None:
            raise ValidationError(
                "--resume", "a circuit that writes checkpoints", f"{args.name} (it does not)"
            )
        return {}
    checkpoint = out / CHECKPOINT
    if args.resume is not None:
        resume = Path(args.resume) if args.resume else checkpoint
        if not resume.is_file():
            raise ValidationError("--resume", "an existing checkpoint file", str(resume))
        check = getattr(module, "load_checkpoint", None)
        if check is not None and params is not None:
            check(resume, params, args.seed)  # a foreign or damaged file: refused now
        out.mkdir(parents=True, exist_ok=True)
        return {"checkpoint": checkpoint, "resume": resume}
    if checkpoint.exists() and not args.force:
        raise OutputExistsError(
            f"{checkpoint} exists (from an interrupted run?): continue it with --resume "
            "or start over with --force"
        )
    out.mkdir(parents=True, exist_ok=True)
    return {"checkpoint": checkpoint}


def _format_value(value: float) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


# -- commands --------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    """``spikingml list``: one line per registered circuit."""
    from spikingml.circuits import get_circuit, names

    rows = []
    for name in names():
        try:
            module = get_circuit(name)
            description = str(module.DESCRIPTION)
            default_device = getattr(module, "DEFAULT_DEVICE", "runtime")
            if default_device != "runtime":
                description += f" [default device: {default_device}]"
        except Exception as exc:  # a broken module must not hide the others
            description = f"(cannot be imported: {type(exc).__name__}: {exc})"
        rows.append((name, " ".join(description.split())))
    for line in _table(rows):
        print(line)
    return EXIT_OK


def _cmd_params(args: argparse.Namespace) -> int:
    """``spikingml params NAME``: the parameters of a circuit, with values and docs."""
    module = _load_circuit(args.name)
    params = module.Params.quick() if args.quick else module.Params()
    values = params.to_dict()
    rows = [("name", "value", "doc")]
    for name, _default, doc in module.Params.describe():
        rows.append((name, str(values[name]), doc))
    preset = "quick" if args.quick else "default"
    print(f"{args.name} parameters ({preset} preset); change them with --set name=value")
    for line in _table(rows, indent="  "):
        print(line)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    """``spikingml run NAME``: simulate, run the twin, compare, write every output.

    With ``--seeds``, one run per seed into ``DIR/seed-N``; under ``cpp_standalone`` a
    circuit with a ``simulate_seeds`` hook compiles its program once for all of them.
    """
    t_begin = time.perf_counter()
    if "matplotlib.pyplot" not in sys.modules:  # no display needed: only files are written
        os.environ.setdefault("MPLBACKEND", "Agg")

    # Validate everything before any simulation.
    module = _load_circuit(args.name)
    from spikingml.simulation import check_device, check_seed

    device = check_device(
        args.device if args.device is not None else getattr(module, "DEFAULT_DEVICE", "runtime")
    )
    check_seed(args.seed, "--seed")
    seeds = None
    if args.seeds is not None:
        from spikingml.sweep import parse_seeds

        seeds = parse_seeds(args.seeds)
        if args.resume is not None:
            raise ValidationError("--resume", "a run of one seed (not with --seeds)", "--seeds")
    params = _params_from(module, args)
    out = output_path(args.out) if args.out is not None else Path("spikingml-output") / args.name
    force = args.force or args.resume is not None
    data_files = DATA_FILES[args.format]
    if "data.nwb" in data_files:
        _require_pynwb()
    expected = [f for f in OUTPUT_FILES if f != "data.nix"] + list(data_files)
    # absolute: while a seed's files are written, Brian2 runs the next one in its build
    # directory (the working directory of the process meanwhile)
    outs = {args.seed: out} if seeds is None else {s: out.resolve() / f"seed-{s}" for s in seeds}
    for seed_out in outs.values():
        _check_output(seed_out, expected, force)
    created = _missing_dirs(out.resolve())  # removed again if the run fails

    progress = not args.no_progress
    log: Callable[[str], None] = (
        (lambda msg: print(f"[{PROG}] {msg}", file=sys.stderr, flush=True))
        if progress
        else (lambda msg: None)
    )
    preset = "quick" if args.quick else "default"
    if seeds is None:
        training = _training_options(module, args, out, params)
        log(f"running {args.name} ({preset} preset, seed {args.seed}, device {device})")
        metrics, produced = _run_into(
            module, params, args, args.seed, device, out, log, training, t_begin, created=created
        )
        _print_summary(args.name, metrics, out, produced, module)
        return EXIT_OK

    from spikingml.circuits import reuses_compiled

    trainings = {s: _training_options(module, args, o, params) for s, o in outs.items()}
    reuse = reuses_compiled(module, device) and not any(trainings.values())
    log(
        f"running {args.name} ({preset} preset, seeds {args.seeds}, device {device}"
        + (", compiled once)" if reuse else ")")
    )
    if reuse:
        _run_series(module, params, args, seeds, outs, device, log, created, t_begin)
    else:
        t_seed = t_begin  # the first seed's time counts from the start, like a single run
        for seed, seed_out in outs.items():
            log(f"seed {seed} -> {seed_out}")
            metrics, _ = _run_into(
                module,
                params,
                args,
                seed,
                device,
                seed_out,
                log,
                trainings[seed],
                t_seed,
                created=created,
            )
            _seed_written(args.name, seed, metrics, seed_out)
            t_seed = time.perf_counter()
    print(f"{args.name}: {len(seeds)} seeds in {time.perf_counter() - t_begin:.1f} s")
    return EXIT_OK


def _seed_written(name: str, seed: int, metrics: Mapping[str, Any], out: Path) -> None:
    """Report a seed of ``--seeds`` whose files are in place."""
    print(
        f"{name}: seed {seed}: {metrics['simulated_seconds']:.6g} s simulated in "
        f"{metrics['simulate_wall_seconds']:.1f} s (total {metrics['wall_seconds']:.1f}"
        f" s); files in {out}",
        flush=True,
    )


def _run_series(
    module: ModuleType,
    params: Any,
    args: argparse.Namespace,
    seeds: Sequence[int],
    outs: Mapping[int, Path],
    device: str,
    log: Callable[[str], None],
    created: Sequence[Path],
    t_begin: float,
) -> None:
    """``--seeds`` with a program compiled once: three streams of work overlap.

    The compiled program simulates the next seeds (two at a time, in a thread waiting
    for them); this process draws a seed's figures while one worker process, forked
    once, writes the previous seed's data files; a seed's files move into place when its
    data files are written. Each seed's wall time runs from the previous seed's files
    being in place to its own.
    """
    from spikingml._background import Prefetch, Worker
    from spikingml.circuits import simulate_seeds

    _import_writers()  # before the working directory may change
    # one child writes every seed's data files, forked before any thread starts
    worker = Worker()
    results = Prefetch(simulate_seeds(module, params, seeds, device, not args.no_progress))
    t_seed = t_begin  # the first seed's time counts from the start, like a single run
    previous: tuple[int, Path, _Pending] | None = None
    current: _Pending | None = None

    def finish_previous() -> None:
        nonlocal previous, t_seed
        if previous is None:
            return
        seed, seed_out, run = previous
        previous = None
        metrics, _ = run.finish(t_seed)
        _seed_written(args.name, seed, metrics, seed_out)
        t_seed = time.perf_counter()

    try:
        for seed, seed_out in outs.items():
            log(f"seed {seed} -> {seed_out}")
            current = _Pending(seed_out, args, created)
            current.metrics, current.data_task = _produce(
                module,
                params,
                args.name,
                seed,
                device,
                not args.no_progress,
                current.tmp,
                log,
                results=results,
                data_files=DATA_FILES[args.format],
                worker=worker,
                before_data=finish_previous,
            )
            previous, current = (seed, seed_out, current), None
        finish_previous()
    except BaseException:
        for run in (current, previous[2] if previous else None):
            if run is not None:
                run.abort()
        raise
    finally:
        results.close()
        worker.close()


def _import_writers() -> None:
    """Import what writing the outputs needs (NIX, figures) now, not on first use."""
    import matplotlib.figure  # noqa: F401
    import neo  # noqa: F401

    import spikingml.export  # noqa: F401
    import spikingml.plotting  # noqa: F401


def _run_into(
    module: ModuleType,
    params: Any,
    args: argparse.Namespace,
    seed: int,
    device: str,
    out: Path,
    log: Callable[[str], None],
    training: Mapping[str, Any],
    t_begin: float,
    created: Sequence[Path] = (),
) -> tuple[dict[str, Any], list[str]]:
    """One run's outputs, written into a temporary directory and then moved into ``out``.

    ``created`` are directories this command made for its output, removed again (while
    empty) if the run fails. Returns the metrics and the files. (A series of seeds of a
    program compiled once goes through :func:`_run_series` instead.)
    """
    run = _Pending(out, args, created)
    try:
        metrics, _ = _produce(
            module,
            params,
            args.name,
            seed,
            device,
            not args.no_progress,
            run.tmp,
            log,
            training,
            data_files=DATA_FILES[args.format],
        )
    except BaseException:
        run.abort()
        raise
    run.metrics = metrics
    return run.finish(t_begin)


class _Pending:
    """A run's outputs in their temporary directory, until :meth:`finish` moves them.

    ``data_task``, if set, is still writing the data files there.
    """

    def __init__(self, out: Path, args: argparse.Namespace, created: Sequence[Path]) -> None:
        self.out = out
        self.force = args.force or args.resume is not None
        self.created = created
        parent = out.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{out.resolve().name or 'out'}.tmp-"
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.metrics: dict[str, Any] = {}
        self.data_task: Any = None

    def finish(self, t_begin: float) -> tuple[dict[str, Any], list[str]]:
        """Wait for the data files, write metrics.json, move every file into ``out``."""
        try:
            if self.data_task is not None:
                self.data_task.wait()
                self.data_task = None
            self.metrics["wall_seconds"] = time.perf_counter() - t_begin
            _write_json(self.tmp / "metrics.json", self.metrics)
            produced = _ordered_files(self.tmp)
            _check_output(self.out, produced, self.force)
            self.out.mkdir(parents=True, exist_ok=True)
            for rel in produced:
                dest = self.out / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.tmp / rel, dest)
        except BaseException:
            self.abort()
            raise
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.metrics, produced

    def abort(self) -> None:
        """Stop the data files' task, remove the temporary directory (and empty ones made)."""
        if self.data_task is not None:
            self.data_task.cancel()
            self.data_task = None
        shutil.rmtree(self.tmp, ignore_errors=True)
        _remove_empty(self.created)


def _cmd_export(args: argparse.Namespace) -> int:
    """``spikingml export DIR --to nwb|nix``: convert a run's data file to the other format."""
    from spikingml.export import from_neo, read_nix, read_nwb, write_nix, write_nwb

    directory = Path(args.run_dir)
    source, dest = ("data.nix", "data.nwb") if args.to == "nwb" else ("data.nwb", "data.nix")
    if not (directory / source).is_file():
        raise ValidationError("RUN_DIR", f"a run directory holding {source}", str(directory))
    if args.to == "nwb":
        _require_pynwb()
        written = write_nwb(
            from_neo(read_nix(directory / source)), directory / dest, force=args.force
        )
        note = " (without weights and extra data, which data.nix does not hold)"
    else:
        written = write_nix(read_nwb(directory / source), directory / dest, force=args.force)
        note = " (without weights and extra data, which NIX does not hold)"
    print(f"wrote {written}{note}")
    return EXIT_OK


def _cmd_sweep(args: argparse.Namespace) -> int:
    """``spikingml sweep NAME``: every grid combination and seed on Dask; one table."""
    from spikingml.sweep import (
        SUMMARY,
        SweepInterrupted,
        parse_grid,
        parse_seeds,
        read_table,
        sweep,
    )

    grid = parse_grid(args.grid)
    seeds = parse_seeds(args.seeds)
    out = output_path(args.out)
    base = load_params_file(args.params) if args.params is not None else {}
    try:
        table = sweep(
            args.name,
            out,
            grid=grid,
            base=base,
            base_origin=args.params,
            seeds=seeds,
            quick=args.quick,
            device=args.device,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            force=args.force,
            table_format=args.format,
            progress=not args.no_progress,
        )
    except SweepInterrupted as exc:
        _error(str(exc))
        return EXIT_INTERRUPTED
    rows = read_table(table)
    failed = [row for row in rows if row["status"] != "ok"]
    print(f"{args.name}: {len(rows) - len(failed)} runs ok, {len(failed)} failed")
    print(f"table: {table}")
    if (out / SUMMARY).exists():
        print(f"summary figure: {out / SUMMARY}")
    if failed:
        _error(
            f"{len(failed)} of {len(rows)} runs failed (first: {failed[0]['error']}); "
            f"tracebacks in {out / 'errors'}; --resume runs them again"
        )
        return EXIT_FAILURE
    return EXIT_OK


def _produce(
    module: ModuleType,
    params: Any,
    name: str,
    seed: int,
    device: str,
    progress: bool,
    tmp: Path,
    log: Callable[[str], None],
    training: Mapping[str, Any] | None = None,
    results: Iterator[Any] | None = None,
    data_files: Sequence[str] = ("data.nix",),
    worker: Worker | None = None,
    before_data: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], Any]:
    """Run simulation, twin and comparison; write every output but metrics.json to ``tmp``.

    ``training`` holds extra keyword arguments of ``simulate`` (checkpoint, resume).
    ``results``, if given, yields the simulation of this seed instead of ``simulate``.
    ``data_files`` names the data files to write (``data.nix``, ``data.nwb``).

    By default a forked child writes the data files while this process draws the
    figures, and both are done on return. With ``worker`` (a series of seeds) the
    figures are drawn first, then ``before_data()`` is called (it waits for the previous
    seed's data files), then ``worker`` starts on this seed's data files, which may
    still be being written on return.

    Returns
    -------
    tuple
        The content of ``metrics.json`` without ``wall_seconds``, and the task writing
        the data files (``None`` once they are written).
    """
    from spikingml._background import Background
    from spikingml.plotting import raster, save_figure
    from spikingml.simulation import record_device_times

    # In a compiled-once series (``results``) the twin runs here while the compiled
    # program simulates this seed; otherwise in a forked child while the circuit
    # simulates in this process.
    in_series = results is not None
    twin_task = None if in_series else Background(_twin_of, module, params, seed)
    try:
        t0 = time.perf_counter()
        device_times = None  # a seed of a compiled-once series has no compile of its own
        if in_series:
            twin_output = _twin_of(module, params, seed)
            result = next(results)
            if result.seed != seed:  # pragma: no cover - the caller's bug
                raise RuntimeError(f"expected the result of seed {seed}, got {result.seed}")
            # its own simulation (the first's includes compiling), not the wait for it
            simulate_wall = float(result.wall_seconds)
        else:
            with record_device_times() as device_times:
                result = module.simulate(
                    params, seed=seed, device=device, progress=progress, **dict(training or {})
                )
            simulate_wall = time.perf_counter() - t0
        log(f"simulation done in {simulate_wall:.1f} s; waiting for the twin")
    except BaseException:
        if twin_task is not None:
            twin_task.cancel()
        raise
    if twin_task is not None:
        twin_output = twin_task.wait()
    log("comparing")
    raw = module.compare(result, twin_output)
    clash = sorted(set(raw) & set(RESERVED_KEYS))
    if clash:
        raise _Failure(
            f"circuit {name!r} returned metrics named {', '.join(clash)}, which are reserved"
        )
    metrics: dict[str, Any] = {str(k): float(v) for k, v in raw.items()}

    log(f"writing {' and '.join(data_files)} and figures")
    _write_json(tmp / "params.json", params.to_dict())
    args = (result, tmp, tuple(data_files))

    def draw() -> None:
        ax_raster, _ = raster(result, **_raster_options(module, result))
        ax_raster.set_title(f"{name} (seed {seed})", loc="right", fontsize=9, y=1.0)
        save_figure(ax_raster.figure, tmp / "raster.png")
        module.figures(result, twin_output, tmp)

    if worker is None:
        # the data files are written by a forked child while this process draws
        data_task = Background(_write_data, *args)
        try:
            draw()
        except BaseException:
            data_task.cancel()
            raise
        data_task.wait()
        data_task = None
    else:
        # the worker is still writing the previous seed's data files meanwhile
        draw()
        if before_data is not None:
            before_data()
        data_task = worker.submit(_write_data, *args)

    simulated = float(result.simulated_seconds) or float(result.t_stop)
    metrics.update(
        circuit=name,
        seed=seed,
        device=device,
        params=params.to_dict(),
        simulated_seconds=simulated,
        simulate_wall_seconds=simulate_wall,
        synaptic_events=int(result.synaptic_events),
    )
    if device == "cpp_standalone" and device_times is not None:
        # where the simulation's wall time went: compiling, and the compiled program
        metrics.update(
            compile_seconds=device_times.compile_seconds,
            binary_seconds=device_times.binary_seconds,
        )
    return metrics, data_task


def _write_data(result: Any, directory: Path, data_files: Sequence[str]) -> None:
    """Write ``data.nix`` and/or ``data.nwb`` of a run into ``directory``."""
    from spikingml.export import write_nix, write_nwb

    writers = {"data.nix": write_nix, "data.nwb": write_nwb}
    for name in data_files:
        writers[name](result, directory / name)


def _require_pynwb() -> None:
    """Fail before any work if NWB output is asked for and pynwb is missing."""
    try:
        import pynwb  # noqa: F401
    except ImportError as exc:
        raise _Failure(
            "NWB output needs pynwb: pip install 'spikingml[nwb]' (or pip install pynwb)"
        ) from exc


def _raster_options(module: ModuleType, result: Any) -> dict[str, Any]:
    """Keyword arguments of :func:`spikingml.plotting.raster` for ``raster.png``.

    A circuit chooses what its raster shows with ``raster_options(result)`` (a mapping
    of ``raster`` arguments: populations, time window, events), or only the time window
    with ``raster_window(result) -> (t_start, t_stop)``; by default all of the run.
    """
    options_fn = getattr(module, "raster_options", None)
    if options_fn is not None:
        return dict(options_fn(result))
    window_fn = getattr(module, "raster_window", None)
    if window_fn is not None:
        t_start, t_stop = window_fn(result)
        return {"t_start": t_start, "t_stop": t_stop}
    return {}


def _twin_of(module: ModuleType, params: Any, seed: int) -> Any:
    """The circuit's twin, its BLAS threads leaving one core to the simulation."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return module.twin(params, seed=seed)
    with threadpool_limits(limits=max(1, (os.cpu_count() or 2) - 1)):
        return module.twin(params, seed=seed)


def _ordered_files(directory: Path) -> list[str]:
    """Files under ``directory`` as relative POSIX paths, standard outputs first."""
    found = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))
    found = [rel for rel in found if (directory / rel).is_file()]
    first = [name for name in OUTPUT_FILES if name in found]
    return first + [rel for rel in found if rel not in first]


def _print_summary(
    name: str, metrics: Mapping[str, Any], out: Path, files: Sequence[str], module: ModuleType
) -> None:
    """Print the metrics and the files written to stdout."""
    print(
        f"{name}: seed {metrics['seed']}, device {metrics['device']}, "
        f"{metrics['simulated_seconds']:.6g} s simulated in "
        f"{metrics['simulate_wall_seconds']:.1f} s (total {metrics['wall_seconds']:.1f} s)"
    )
    documented = getattr(module, "METRICS", {})
    metric_names = [k for k in metrics if k not in RESERVED_KEYS]
    ordered = [k for k in documented if k in metric_names]
    ordered += sorted(k for k in metric_names if k not in ordered)
    print("metrics:")
    for line in _table([(k, _format_value(metrics[k])) for k in ordered], indent="  "):
        print(line)
    print(f"files written to {out}:")
    for rel in files:
        print(f"  {out / rel}")


# -- parser and entry point ------------------------------------------------------------


def integer(text: str) -> int:
    """An argparse type: a decimal integer in ASCII digits (``int()`` takes any Unicode
    digit, and thousands of them)."""
    if not re.fullmatch(r"[-+]?[0-9]{1,40}", text.strip()):
        raise ValueError(text)
    return int(text)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors reported on one line (exit status 2)."""

    def error(self, message: str):
        usage = " ".join(self.format_usage().split())
        _error(f"{message} ({usage}; see {self.prog} --help)")
        self.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``spikingml`` command."""
    from spikingml import __version__

    parser = _Parser(
        prog=PROG,
        description="Machine-learning algorithms as spiking circuits (Brian2), "
        "each run beside its abstract twin.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p_list = sub.add_parser("list", help="list the registered circuits")
    p_list.set_defaults(func=_cmd_list)

    p_params = sub.add_parser("params", help="show a circuit's parameters")
    p_params.add_argument("name", metavar="NAME", help="circuit name (see `spikingml list`)")
    p_params.add_argument("--quick", action="store_true", help="show the quick preset")
    p_params.set_defaults(func=_cmd_params)

    p_run = sub.add_parser(
        "run",
        help="run a circuit and its twin, write metrics, data and figures",
        description="Run a circuit and its twin, compare them and write metrics.json, "
        "params.json, data.nix (or data.nwb, see --format), raster.png, comparison.png and "
        "the circuit's figures.",
    )
    p_run.add_argument("name", metavar="NAME", help="circuit name (see `spikingml list`)")
    p_run.add_argument("--quick", action="store_true", help="use the quick preset")
    seed_group = p_run.add_mutually_exclusive_group()
    seed_group.add_argument("--seed", type=integer, default=0, help="random seed (default 0)")
    seed_group.add_argument(
        "--seeds",
        default=None,
        metavar="SEEDS",
        help="several seeds, e.g. 0-9 or 0,3,5-7: one run per seed into DIR/seed-N; under "
        "cpp_standalone circuits that can compile once and rerun the program per seed",
    )
    p_run.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output directory (default ./spikingml-output/NAME)",
    )
    p_run.add_argument("--force", action="store_true", help="overwrite existing output")
    p_run.add_argument(
        "--format",
        choices=sorted(DATA_FILES),
        default="nix",
        help="data file: nix (data.nix, the default), nwb (data.nwb, NWB; keeps weights and "
        "extra data too; needs pynwb) or both",
    )
    p_run.add_argument(
        "--device",
        default=None,
        metavar=_DEVICE_CHOICES,
        help="Brian2 device (default: the circuit's own, runtime for most; "
        "`spikingml list` shows it)",
    )
    p_run.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="CHECKPOINT",
        help="continue training from a checkpoint (default DIR/checkpoint.npz) and replace "
        "the outputs in DIR; for circuits that write checkpoints",
    )
    p_run.add_argument(
        "--set",
        nargs="+",
        action="extend",
        metavar="FIELD=VALUE",
        default=[],
        help="change parameters, e.g. --set bin_width='20 ms' n_trials=40 "
        "(see `spikingml params NAME`)",
    )
    p_run.add_argument(
        "--params",
        metavar="FILE",
        default=None,
        help="read parameters from a .json or .toml file of field = value (e.g. an earlier "
        "run's params.json); --set overrides it",
    )
    p_run.add_argument(
        "--no-progress", action="store_true", help="do not report progress on stderr"
    )
    p_run.set_defaults(func=_cmd_run)

    p_export = sub.add_parser(
        "export",
        help="convert the data file of a run directory (data.nix -> data.nwb, or back)",
        description="Read RUN_DIR/data.nix and write RUN_DIR/data.nwb (--to nwb), or read "
        "data.nwb and write data.nix (--to nix). An existing file is kept unless --force.",
    )
    p_export.add_argument("run_dir", metavar="RUN_DIR", help="output directory of `run`")
    p_export.add_argument("--to", choices=["nwb", "nix"], required=True, help="format to write")
    p_export.add_argument("--force", action="store_true", help="overwrite the written file")
    p_export.set_defaults(func=_cmd_export)

    p_sweep = sub.add_parser(
        "sweep",
        help="run a circuit over a parameter grid and seeds (Dask); one table of metrics",
        description="Run a circuit and its twin for every combination of --grid values and "
        "every seed, as Dask tasks (an embedded LocalCluster, or --scheduler). Writes "
        "DIR/runs.csv (one row per run, appended as runs finish), sweep.json and "
        "summary.png (each metric against the swept parameter).",
    )
    p_sweep.add_argument("name", metavar="NAME", help="circuit name (see `spikingml list`)")
    p_sweep.add_argument(
        "--grid",
        nargs="+",
        action="extend",
        metavar="FIELD=V1,V2",
        default=[],
        help="values of a parameter to sweep, e.g. --grid tau_c='10 ms,20 ms' eta=0.1,0.2",
    )
    p_sweep.add_argument("--seeds", default="0", help="seeds, e.g. 0-9 or 0,3,5-7 (default 0)")
    p_sweep.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p_sweep.add_argument("--quick", action="store_true", help="start from the quick preset")
    p_sweep.add_argument(
        "--params",
        metavar="FILE",
        default=None,
        help="base parameters from a .json or .toml file of field = value (the grid "
        "overrides them)",
    )
    p_sweep.add_argument(
        "--workers",
        type=integer,
        default=None,
        help="worker processes of the embedded Dask cluster (default: number of cores)",
    )
    p_sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="use a running Dask scheduler (e.g. tcp://10.0.0.1:8786) instead",
    )
    p_sweep.add_argument("--device", default=None, metavar=_DEVICE_CHOICES, help="Brian2 device")
    p_sweep.add_argument(
        "--resume", action="store_true", help="keep the finished runs in DIR, run the rest"
    )
    p_sweep.add_argument("--force", action="store_true", help="replace a sweep in DIR")
    p_sweep.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="also write runs.parquet (needs pyarrow); runs.csv is always written",
    )
    p_sweep.add_argument(
        "--no-progress", action="store_true", help="do not report progress on stderr"
    )
    p_sweep.set_defaults(func=_cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``spikingml`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 success, 1 failure of the environment, 2 bad usage or input,
        130 interrupted (Ctrl-C or SIGTERM).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's usage errors (2), --help and --version (0)
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    previous = _interrupt_on_sigterm()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        newline = "\n" if sys.stderr.isatty() else ""  # end a progress line first
        print(
            f"{newline}{PROG}: interrupted; earlier outputs were left untouched",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_INTERRUPTED
    except _Failure as exc:
        _error(str(exc))
        return EXIT_FAILURE
    except SpikingMLError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt_on_sigterm():
    """Make SIGTERM stop a command as Ctrl-C does; return the handler it replaces.

    Without it, SIGTERM (``kill``, a batch system's time limit) ends the process at
    once: earlier outputs stay intact (every write is atomic), but the hidden temporary
    directory of the run is left behind and checkpoints get no chance to close. Only
    the main thread can install handlers; elsewhere (``main`` called from a thread) this
    does nothing and returns ``None``.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    sys.exit(main())
