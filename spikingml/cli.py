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

``run`` is :func:`spikingml.pipeline.run` (the same function a script or notebook
calls) and ``sweep`` schedules it on Dask (:mod:`spikingml.sweep`); this module only
parses arguments and prints.

Messages
--------
Results go to stdout; the stages of a run (``[spikingml] running ...``, a first run's
note that Brian2 is compiling) and progress bars to stderr, through the ``spikingml``
loggers. ``-q``/``--quiet`` leaves only results, warnings and errors; ``--no-progress``
drops the progress bars and stage lines; ``-v`` adds debugging detail. Options follow
the command: ``spikingml run NAME -q``.

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
file, bad ``--seed``, device or ``--out``, an output directory that cannot be created or
written — a read-only file system, a path under ``/proc`` — existing output without
``--force``), found before anything is simulated or written and reported as one line
``spikingml: error: <message>`` on stderr; ``1`` a circuit module that cannot be
imported or breaks the circuit contract, or a file-system error, also reported on one
line; ``130`` interrupted (Ctrl-C or SIGTERM: both stop the run the same way). Any
other exception is a bug and propagates with its traceback, after the temporary
directory has been removed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spikingml._logging import configure_logging
from spikingml._signals import sigterm_as_interrupt
from spikingml.circuits.contract import RESERVED_KEYS, ContractError
from spikingml.errors import SpikingMLError, ValidationError
from spikingml.pipeline import DATA_FILES, OUTPUT_FILES

if TYPE_CHECKING:
    from spikingml.circuits.contract import Circuit

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


def _load_circuit(name: str) -> Circuit:
    """Return circuit ``name`` (:func:`spikingml.pipeline.load`).

    Unknown names raise ``ValidationError`` (exit 2); a module that cannot be imported or
    breaks the circuit contract is a failure of the installation (exit 1).
    """
    from spikingml.circuits import REGISTRY
    from spikingml.pipeline import load

    try:
        return load(name)
    except ImportError as exc:
        raise _Failure(
            f"circuit {name!r} (module {REGISTRY.get(name)}) cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    except ContractError as exc:
        raise _Failure(str(exc)) from exc


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


def _params_from(module: Any, args: argparse.Namespace) -> Any:
    """The preset, then the values of ``--params FILE``, then ``--set`` (which wins)."""
    from_file = load_params_file(args.params) if args.params is not None else {}
    from_set = parse_assignments(args.set)
    params = module.Params.quick() if args.quick else module.Params()
    assignments = {**from_file, **from_set}
    if assignments:
        origins = {k: args.params for k in from_file if k not in from_set}
        params = params.replace_from_strings(assignments, origins=origins)
    return params


def _format_value(value: float) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


# -- commands --------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    """``spikingml list``: one line per registered circuit."""
    from spikingml.circuits import names
    from spikingml.pipeline import load

    rows = []
    for name in names():
        try:
            circuit = load(name)
            description = str(circuit.DESCRIPTION)
            if circuit.default_device != "runtime":
                description += f" [default device: {circuit.default_device}]"
        except ContractError as exc:  # a broken module must not hide the others
            description = f"(does not follow the circuit contract: {exc})"
        except Exception as exc:
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


#: How ``run``'s error messages name the pipeline's arguments: by their flags.
_RUN_LABELS = {
    "seed": "--seed",
    "seeds": "--seeds",
    "out": "--out",
    "resume": "--resume",
    "force": "--force",
    "device": "--device",
}


def _cmd_run(args: argparse.Namespace) -> int:
    """``spikingml run NAME``: :func:`spikingml.pipeline.run`, then a summary on stdout.

    Everything is checked (circuit, parameters, seeds, device, output location, existing
    outputs, checkpoints) before anything is simulated. With ``--seeds``, one run per
    seed into ``DIR/seed-N``, each reported as soon as its files are in place.
    """
    from spikingml import pipeline

    t_begin = time.perf_counter()
    circuit = _load_circuit(args.name)
    params = _params_from(circuit, args)
    out = output_path(args.out) if args.out is not None else Path("spikingml-output") / args.name
    options = dict(
        device=args.device,
        out=out,
        force=args.force,
        data_format=args.format,
        progress=args.progress,
        keep=False,
        labels=_RUN_LABELS,
    )
    if args.seeds is None:
        record = pipeline.run(circuit, params, seed=args.seed, resume=args.resume, **options)
        _print_summary(record, circuit)
        return EXIT_OK
    if args.resume is not None:
        raise ValidationError("--resume", "a run of one seed (not with --seeds)", "--seeds")
    n = 0
    for record in pipeline.iter_runs(circuit, params, seeds=args.seeds, **options):
        _seed_written(args.name, record.seed, record.to_json(), record.out)
        n += 1
    print(f"{args.name}: {n} seeds in {time.perf_counter() - t_begin:.1f} s")
    return EXIT_OK


def _seed_written(name: str, seed: int, metrics: Mapping[str, Any], out: Path) -> None:
    """Report a seed of ``--seeds`` whose files are in place."""
    print(
        f"{name}: seed {seed}: {metrics['simulated_seconds']:.6g} s simulated in "
        f"{metrics['simulate_wall_seconds']:.1f} s (total {metrics['wall_seconds']:.1f}"
        f" s); files in {out}",
        flush=True,
    )


def _cmd_export(args: argparse.Namespace) -> int:
    """``spikingml export DIR --to nwb|nix``: convert a run's data file to the other format."""
    from spikingml.export import from_neo, read_nix, read_nwb, write_nix, write_nwb
    from spikingml.pipeline import check_output_location

    directory = Path(args.run_dir)
    source, dest = ("data.nix", "data.nwb") if args.to == "nwb" else ("data.nwb", "data.nix")
    if not (directory / source).is_file():
        raise ValidationError("RUN_DIR", f"a run directory holding {source}", str(directory))
    check_output_location(directory, "RUN_DIR", keep=False)  # before reading anything
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


def _require_pynwb() -> None:
    """Fail before any work if NWB output is asked for and pynwb is missing."""
    try:
        import pynwb  # noqa: F401
    except ImportError as exc:
        raise _Failure(
            "NWB output needs pynwb: pip install 'spikingml[nwb]' (or pip install pynwb)"
        ) from exc


def _print_summary(record: Any, circuit: Circuit) -> None:
    """Print a run's metrics and the files written to stdout."""
    name, metrics, out, files = record.circuit, record.to_json(), record.out, record.files
    print(
        f"{name}: seed {metrics['seed']}, device {metrics['device']}, "
        f"{metrics['simulated_seconds']:.6g} s simulated in "
        f"{metrics['simulate_wall_seconds']:.1f} s (total {metrics['wall_seconds']:.1f} s)"
    )
    documented = circuit.METRICS
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
    # -q and -v after any command: `spikingml run NAME -q`
    common = argparse.ArgumentParser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="print only results, warnings and errors"
    )
    loudness.add_argument(
        "-v", "--verbose", action="count", default=0, help="also print debugging detail"
    )

    p_list = sub.add_parser("list", help="list the registered circuits", parents=[common])
    p_list.set_defaults(func=_cmd_list)

    p_params = sub.add_parser("params", help="show a circuit's parameters", parents=[common])
    p_params.add_argument("name", metavar="NAME", help="circuit name (see `spikingml list`)")
    p_params.add_argument("--quick", action="store_true", help="show the quick preset")
    p_params.set_defaults(func=_cmd_params)

    p_run = sub.add_parser(
        "run",
        parents=[common],
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
        parents=[common],
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
        parents=[common],
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
    verbosity = -1 if args.quiet else min(args.verbose, 1)
    # --no-progress: no progress bar and no stage lines (warnings and errors still show)
    args.progress = not (getattr(args, "no_progress", False) or args.quiet)
    if not args.progress and verbosity == 0:
        verbosity = -1
    handler = configure_logging(verbosity)
    try:
        with sigterm_as_interrupt():
            return args.func(args)
    except KeyboardInterrupt:
        newline = "\n" if sys.stderr.isatty() else ""  # end a progress line first
        print(
            f"{newline}{PROG}: interrupted; earlier outputs were left untouched",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_INTERRUPTED
    except (_Failure, ContractError) as exc:
        _error(str(exc))
        return EXIT_FAILURE
    except SpikingMLError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    finally:
        logging.getLogger("spikingml").removeHandler(handler)
