"""Parameter sweeps over seeds and parameter grids, run on Dask distributed.

A sweep runs one circuit (simulation, twin and comparison) for every combination of a
parameter grid and a list of seeds, and writes one tidy table: one row per run, with
the parameters, the seed and every metric. The runs are Dask tasks, so the same code runs
on the cores of one machine (an embedded :class:`distributed.LocalCluster`, the default)
or on a cluster (the address of a running Dask scheduler)::

    $ spikingml sweep td-conditioning --quick --grid tau_c="10 ms,20 ms" --seeds 0-4 \\
          --out sweeps/tau_c
    $ dask scheduler --host 10.0.0.1 &    # elsewhere: dask worker tcp://10.0.0.1:8786
    $ spikingml sweep td-conditioning --grid eta=0.1,0.2 --seeds 0-9 \\
          --scheduler tcp://10.0.0.1:8786 --out sweeps/eta

What a sweep writes into ``DIR``
--------------------------------
``runs.csv``
    The table. A row is appended (and flushed to disk) as soon as its run finishes, so
    an interrupted or crashed sweep keeps every finished run, and ``--resume`` runs only
    the missing ones. Columns: ``run_id`` (a hash of the parameter values and the
    seed), ``circuit``, ``preset``, ``device``, ``seed``, one column per swept
    parameter (the value as given, e.g. ``20 ms``), ``status`` (``ok`` or ``error``),
    ``error`` (the one-line error of a failed run), ``wall_seconds``,
    ``simulated_seconds``, then every metric of the circuit (``METRICS``, in order).
``runs.parquet``
    The same table as Parquet (``--format parquet``; needs ``pyarrow``), rewritten after
    every finished run.
``sweep.json``
    What was asked: circuit, preset, device, grid, seeds, and the software versions; and
    ``workers_lost``, the number of worker processes lost while running its tasks.
``summary.png``
    Every metric against the (first) swept parameter: each seed as a dot, the mean over
    seeds as a line with the standard deviation as a band, one line per combination of
    the other swept parameters.
``errors/RUN_ID.txt``
    The traceback of each failed run (a failed run does not stop the sweep).

Compiled once per structure
---------------------------
Under ``cpp_standalone``, for circuits with a ``simulate_many`` hook (e.g.
``td-conditioning``), every run whose parameters share a structure (they differ only in
run-time fields, ``param(..., runtime=True)``, and seeds) is one task (:func:`run_group`):
the program is compiled once and re-run with each run's values, and the task's rows
are appended together when it finishes. A grid over a structural field (a size, a
delay) compiles one program per value; its groups run in parallel. Circuits with only
a ``simulate_seeds`` hook compile once per parameter combination (:func:`run_seeds`).

Workers
-------
Every Dask worker process uses a Cython cache directory of its own
(:func:`spikingml.simulation.use_private_cython_cache`): no two processes compile into
the same directory, and the compiled code of earlier runs is reused, not compiled
again. ``cpp_standalone`` runs build in a directory of their own as well (each circuit
locks its build directory). Workers run one task at a time with one BLAS thread, so
``--workers`` is the number of cores used.

A worker lost mid-task (its process killed or crashed, or out of contact) costs no run:
Dask runs its tasks again on the other workers (a task that loses more workers than
``distributed.scheduler.allowed-failures`` gets error rows, which ``--resume`` runs
again), each run is in the table once, and the sweep says how many workers it lost
(also in ``sweep.json``).

The embedded cluster's workers are forked from a fork server (:func:`_fork_server`, where
the platform has one) that imports Brian2 and the circuit while this process imports
them: a worker then starts in a fraction of a second instead of importing them itself
(seconds each). The summary figure is drawn while the workers shut down.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import itertools
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from spikingml._files import atomic_path
from spikingml.errors import OutputExistsError, SpikingMLError, ValidationError

__all__ = [
    "SweepRun",
    "parse_grid",
    "parse_seeds",
    "plan_runs",
    "run_one",
    "run_seeds",
    "read_table",
    "plot_summary",
    "sweep",
]

logger = logging.getLogger(__name__)

TABLE = "runs.csv"
PARQUET = "runs.parquet"
SPEC = "sweep.json"
SUMMARY = "summary.png"

#: How long to wait for a ``--scheduler`` to answer.
CONNECT_TIMEOUT = "20s"

#: Most runs one sweep may plan (grid combinations times seeds).
MAX_RUNS = 100_000

#: Most worker processes of the embedded cluster.
MAX_WORKERS = 256

#: A Dask scheduler address: ``tcp://host:8786``, ``host:8786``, ``tls://[::1]:8786``.
_ADDRESS_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?[A-Za-z0-9._\-\[\]:%]+/?", re.ASCII)

#: Columns before the swept parameters and after them (the metrics follow).
LEAD_COLUMNS = ("run_id", "circuit", "preset", "device", "seed")
STATUS_COLUMNS = ("status", "error", "wall_seconds", "simulated_seconds")


class SweepInterrupted(SpikingMLError):
    """The sweep was interrupted (Ctrl-C or SIGTERM); finished runs are in the table."""


# -- the grid ---------------------------------------------------------------------------


def parse_grid(items: Sequence[str] | None) -> dict[str, list[str]]:
    """Parse ``--grid`` items ``field=v1,v2,...`` into ``{field: [v1, v2, ...]}``.

    Values are kept as strings (parsed and validated by the circuit's ``Params``). A
    field may appear once; values are stripped and may not be empty or repeated.

    Raises
    ------
    ValidationError
        Naming ``--grid`` and the offending item.
    """
    grid: dict[str, list[str]] = {}
    for item in items or []:
        field, sep, values = item.partition("=")
        field = field.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field):
            raise ValidationError("--grid", "FIELD=VALUE[,VALUE...]", item)
        parts = [v.strip() for v in values.split(",")]
        if not values.strip() or any(not v for v in parts):
            raise ValidationError(f"--grid {field}", "a comma-separated list of values", item)
        if len(set(parts)) != len(parts):
            raise ValidationError(f"--grid {field}", "distinct values", values)
        if field in grid:
            raise ValidationError("--grid", f"each field once ({field} is repeated)", item)
        grid[field] = parts
    return grid


def parse_seeds(text: str) -> list[int]:
    """Parse ``--seeds``: ``7``, ``0-9`` (inclusive) or ``0,3,5-7``, into sorted seeds.

    :func:`spikingml._checks.parse_seeds`, with at most :data:`MAX_RUNS` seeds.

    Raises
    ------
    ValidationError
        Naming ``--seeds`` when a part is not a non-negative integer or range.
    """
    from spikingml._checks import parse_seeds as parse

    return parse(text, "--seeds", MAX_RUNS)


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: parameter values (strings, as given) and a seed."""

    values: tuple[tuple[str, str], ...]
    seed: int

    @property
    def run_id(self) -> str:
        """A stable 12-hex-digit identifier of the parameter values and the seed."""
        key = json.dumps([list(self.values), self.seed])
        return hashlib.sha1(key.encode()).hexdigest()[:12]

    def describe(self) -> str:
        """``tau_c=20 ms, seed 3``."""
        shown = ", ".join(f"{k}={v}" for k, v in self.values)
        return f"{shown}, seed {self.seed}" if shown else f"seed {self.seed}"


def plan_runs(
    module: ModuleType,
    grid: Mapping[str, Sequence[str]],
    seeds: Sequence[int],
    quick: bool,
    base: Mapping[str, str] | None = None,
    base_origin: str | None = None,
) -> list[SweepRun]:
    """Every combination of the grid and the seeds, each validated by ``Params``.

    Validation happens here, before anything runs: a bad value stops the sweep with
    the circuit's own error (naming ``Circuit.Params.field``). ``base`` holds parameters
    every run shares (``--params FILE``, whose name ``base_origin`` errors then give); the
    grid overrides them.
    """
    if not seeds:
        raise ValidationError("--seeds", "at least one seed", "none")
    n_runs = math.prod(len(v) for v in grid.values()) * len(seeds)
    if n_runs > MAX_RUNS:
        raise ValidationError(
            "--grid", f"at most {MAX_RUNS} runs (grid combinations times seeds)", n_runs
        )
    preset = module.Params.quick() if quick else module.Params()
    base = dict(base or {})
    origins = {k: base_origin or "the base parameters" for k in base if k not in grid}
    fields = list(grid)
    runs = []
    for combo in itertools.product(*(grid[f] for f in fields)):
        values = tuple(zip(fields, combo, strict=True))
        # raises ValidationError if bad
        preset.replace_from_strings({**base, **dict(values)}, origins=origins)
        runs.extend(SweepRun(values, int(seed)) for seed in seeds)
    return runs


# -- one run (executed in a worker) ----------------------------------------------------


def run_one(
    module_path: str,
    quick: bool,
    values: Sequence[tuple[str, str]],
    seed: int,
    device: str,
) -> dict[str, Any]:
    """Simulate one circuit run, run its twin and compare them: one row of the table.

    Runs in a Dask worker (or anywhere). Errors do not propagate: the row then has
    ``status`` ``error``, ``error`` the one-line message and ``traceback`` the full one.

    Parameters
    ----------
    module_path : str
        Importable module of the circuit (a value of ``spikingml.circuits.REGISTRY``).
    quick : bool
        Start from the quick preset rather than the default one.
    values : sequence of (field, value) pairs
        Parameters to set, as strings (``--set`` syntax).
    seed : int
        Random seed of the run.
    device : str
        Brian2 device (``runtime`` or ``cpp_standalone``).

    Returns
    -------
    dict
        ``status``, ``error``, ``traceback``, ``wall_seconds``, ``simulated_seconds``,
        ``metrics`` (name -> float) and ``host``.
    """
    from spikingml import pipeline
    from spikingml.simulation import share_private_cython_cache, use_private_cython_cache

    t0 = time.perf_counter()
    row = _new_row()
    try:
        use_private_cython_cache()  # this worker's own, shared with the others afterwards
        module, params = _circuit_and_params(module_path, quick, values)
        record = pipeline.run(module, params, seed=seed, device=device, progress=False, keep=False)
        row["metrics"] = record.metrics
        row["simulated_seconds"] = record.timings["simulated_seconds"]
    except Exception as exc:  # one failed run must not end the sweep
        _failed(row, exc)
    finally:
        share_private_cython_cache()
    row["wall_seconds"] = time.perf_counter() - t0
    return row


def run_seeds(
    module_path: str,
    quick: bool,
    values: Sequence[tuple[str, str]],
    seeds: Sequence[int],
    device: str,
) -> list[dict[str, Any]]:
    """The rows of :func:`run_one` for several seeds of one parameter combination.

    The runs come from :func:`spikingml.pipeline.iter_runs`, so a circuit that can
    compiles its ``cpp_standalone`` program once for all the seeds. A seed whose run
    fails gets an error row; the seeds after it then run one by one (:func:`run_one`).
    A row's ``wall_seconds`` is that seed's share: the first one's includes building and
    compiling the program.
    """
    from spikingml import pipeline
    from spikingml.simulation import share_private_cython_cache, use_private_cython_cache

    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        use_private_cython_cache()
        module, params = _circuit_and_params(module_path, quick, values)
        runs = pipeline.iter_runs(
            module, params, seeds=seeds, device=device, progress=False, keep=False
        )
        try:
            for seed in seeds:
                row = _new_row()
                rows.append(row)
                try:
                    record = next(runs)
                    if record.seed != seed:  # pragma: no cover - the pipeline's bug
                        raise RuntimeError(f"expected seed {seed}, got seed {record.seed}")
                    row["metrics"] = record.metrics
                    row["simulated_seconds"] = record.timings["simulated_seconds"]
                except Exception as exc:  # one failed run must not end the sweep
                    _failed(row, exc)
                    break
                finally:
                    row["wall_seconds"] = time.perf_counter() - t0
                    t0 = time.perf_counter()
        finally:
            runs.close()
    except Exception as exc:  # e.g. the module or the parameters: every seed fails alike
        rows = []
        for _ in seeds:
            rows.append(_failed(_new_row(), exc))
            rows[-1]["wall_seconds"] = time.perf_counter() - t0
    finally:
        share_private_cython_cache()
    rows += [run_one(module_path, quick, values, s, device) for s in seeds[len(rows) :]]
    return rows


def run_group(
    module_path: str,
    quick: bool,
    runs: Sequence[tuple[Sequence[tuple[str, str]], int]],
    device: str,
) -> list[dict[str, Any]]:
    """The rows of :func:`run_one` for parameter combinations that share one structure.

    The combinations differ only in run-time fields (and seeds), so under
    ``cpp_standalone`` one compiled program runs them all
    (:func:`spikingml.pipeline.variant_records`). A run that fails gets an error row;
    the runs after it then run one by one (:func:`run_one`). A row's ``wall_seconds`` is
    that run's share: the first one's includes building and compiling the program.

    Parameters
    ----------
    module_path : str
        Importable module of the circuit.
    quick : bool
        Start from the quick preset rather than the default one.
    runs : sequence of (values, seed)
        Each run's parameters to set (``--set`` syntax) and its seed.
    device : str
        Brian2 device.
    """
    from spikingml import pipeline
    from spikingml.simulation import share_private_cython_cache, use_private_cython_cache

    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        use_private_cython_cache()
        pairs = []
        for values, seed in runs:
            module, params = _circuit_and_params(module_path, quick, values)
            pairs.append((params, seed))
        records = pipeline.variant_records(module, pairs, device=device, progress=False)
        try:
            for _ in runs:
                row = _new_row()
                rows.append(row)
                try:
                    record = next(records)
                    row["metrics"] = record.metrics
                    row["simulated_seconds"] = record.timings["simulated_seconds"]
                except Exception as exc:  # one failed run must not end the sweep
                    _failed(row, exc)
                    break
                finally:
                    row["wall_seconds"] = time.perf_counter() - t0
                    t0 = time.perf_counter()
        finally:
            records.close()
    except Exception as exc:  # e.g. the module or the parameters: every run fails alike
        rows = []
        for _ in runs:
            rows.append(_failed(_new_row(), exc))
            rows[-1]["wall_seconds"] = time.perf_counter() - t0
    finally:
        share_private_cython_cache()
    rows += [run_one(module_path, quick, values, s, device) for values, s in runs[len(rows) :]]
    return rows


def _new_row() -> dict[str, Any]:
    import platform

    return {
        "status": "ok",
        "error": "",
        "traceback": "",
        "metrics": {},
        "simulated_seconds": float("nan"),
        "host": platform.node(),
    }


def _failed(row: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """Mark ``row`` as failed by ``exc`` (call inside its ``except`` block)."""
    row["status"] = "error"
    row["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())
    row["traceback"] = traceback.format_exc()
    return row


def _circuit_and_params(
    module_path: str, quick: bool, values: Sequence[tuple[str, str]]
) -> tuple[ModuleType, Any]:
    """Import the circuit in a worker and make the run's parameters."""
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    module = importlib.import_module(module_path)
    params = module.Params.quick() if quick else module.Params()
    if values:
        params = params.replace_from_strings(dict(values))
    return module, params


# -- the table --------------------------------------------------------------------------


def _columns(fields: Sequence[str], metrics: Sequence[str]) -> list[str]:
    return [*LEAD_COLUMNS, *fields, *STATUS_COLUMNS, *metrics]


def read_table(path: str | os.PathLike) -> list[dict[str, str]]:
    """Read a sweep table (``runs.csv``) as a list of rows (column -> string).

    A last line cut short by a crash (no line end) is ignored.
    """
    text = Path(path).read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return list(csv.DictReader(text.splitlines()))


class _Table:
    """The CSV journal of a sweep: a header, then one flushed line per finished run."""

    def __init__(self, path: Path, columns: list[str], resume: bool) -> None:
        self.path = path
        self.columns = columns
        self.rows: list[dict[str, str]] = []
        if resume and path.exists():
            text = path.read_text(encoding="utf-8")
            header = next(csv.reader(text.splitlines()[:1]), None)
            if header != columns:
                raise ValidationError(
                    "--resume",
                    f"a table with the columns of this sweep ({', '.join(columns)})",
                    f"{path} with columns {', '.join(header or [])}",
                )
            self.rows = read_table(path)
            # drop a cut-off last line, so appended rows start on a line of their own
            if text and not text.endswith("\n"):
                path.write_text(text[: text.rfind("\n") + 1], encoding="utf-8")
        else:
            with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow(columns)
        self._fh = path.open("a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._fh, fieldnames=columns)

    def done(self) -> set[str]:
        """``run_id`` of the runs that finished without error."""
        return {row["run_id"] for row in self.rows if row.get("status") == "ok"}

    def append(self, row: Mapping[str, Any]) -> None:
        line = {c: _cell(row.get(c, "")) for c in self.columns}
        self._writer.writerow(line)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.rows.append(line)

    def close(self) -> None:
        self._fh.close()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _write_parquet(
    rows: Sequence[Mapping[str, str]], columns: Sequence[str], n_text: int, path: Path
) -> None:
    """Write the table as Parquet, atomically.

    The first ``n_text`` columns (identifiers, swept values as given, status, error) are
    strings, ``seed`` an int64, and the rest (times and metrics) float64 (empty: null).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for i, col in enumerate(columns):
        cells = [row.get(col, "") for row in rows]
        if col == "seed":
            arrays[col] = pa.array([int(c) for c in cells], pa.int64())
        elif i < n_text:
            arrays[col] = pa.array(cells, pa.string())
        else:
            arrays[col] = pa.array([float(c) if c != "" else None for c in cells], pa.float64())
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(arrays), tmp)


def _require_parquet() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ValidationError(
            "--format",
            "csv, or parquet with pyarrow installed (pip install spikingml[sweep])",
            "parquet",
        ) from exc


# -- the summary figure -----------------------------------------------------------------


def _numeric(module: ModuleType, field: str, text: str, quick: bool) -> tuple[float | None, str]:
    """The value of ``field`` as a number in its unit (None if not numeric) and the unit."""
    base = module.Params.quick() if quick else module.Params()
    meta = {f.name: f.metadata for f in dataclasses.fields(base)}[field]
    value = getattr(base.replace_from_strings({field: text}), field)
    unit = meta.get("unit")
    if isinstance(value, bool) or meta.get("choices") is not None:
        return None, ""
    try:
        if unit is not None and not getattr(value, "is_dimensionless", True):
            return float(value / unit), str(unit)
        return float(value), ""
    except (TypeError, ValueError):
        return None, ""


#: Layout of the summary figure, in inches: each panel's cell, and the margins inside a
#: cell for the y tick labels and label (left), the x tick labels and label (bottom), the
#: panel title (top) and the gap to the next cell (right); ``title``: the figure's title.
#: Placed by hand: the constrained layout engine took half of the figure's time.
SUMMARY_CELL = {
    "width": 4.2,
    "height": 3.2,
    "left": 0.8,
    "bottom": 0.55,
    "top": 0.3,
    "right": 0.15,
    "title": 0.4,
}


def _summary_axes(plt: Any, nrows: int, ncols: int, title: bool) -> tuple[Any, list[list[Any]]]:
    """A figure of ``nrows`` x ``ncols`` panels placed in inches (:data:`SUMMARY_CELL`)."""
    cell = SUMMARY_CELL
    top = cell["title"] if title else 0.0
    width, height = cell["width"] * ncols, cell["height"] * nrows + top
    w = (cell["width"] - cell["left"] - cell["right"]) / width
    h = (cell["height"] - cell["bottom"] - cell["top"]) / height
    fig = plt.figure(figsize=(width, height))
    axes = []
    for i in range(nrows):
        bottom = (height - top - (i + 1) * cell["height"] + cell["bottom"]) / height
        axes.append(
            [
                fig.add_axes(((j * cell["width"] + cell["left"]) / width, bottom, w, h))
                for j in range(ncols)
            ]
        )
    return fig, axes


def plot_summary(
    rows: Sequence[Mapping[str, str]],
    fields: Sequence[str],
    metrics: Sequence[str],
    path: str | os.PathLike,
    module: ModuleType | None = None,
    quick: bool = False,
    title: str = "",
) -> Path:
    """Plot every metric against the first swept parameter, with the spread over seeds.

    One panel per metric. Each finished run is a dot (slightly jittered along x); the
    mean over seeds is a line with a band of +- one standard deviation; the other swept
    parameters, if any, give one line each. Without swept parameters the x axis is the
    seed.

    Returns
    -------
    pathlib.Path
        The written PNG.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    from spikingml.plotting import save_figure

    ok = [r for r in rows if r.get("status") == "ok"]
    metrics = [m for m in metrics if any(r.get(m, "") != "" for r in ok)]
    n = max(len(metrics), 1)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = _summary_axes(plt, nrows, ncols, title=bool(title))
    x_field = fields[0] if fields else "seed"
    others = list(fields[1:])
    # x positions: numbers in the field's unit when they are numbers, else categories
    x_values = sorted({r[x_field] for r in ok}, key=lambda v: (len(v), v))
    positions: dict[str, float] = {}
    unit = ""
    numeric = bool(fields) and module is not None
    if numeric:
        parsed = {v: _numeric(module, x_field, v, quick) for v in x_values}
        numeric = all(p[0] is not None for p in parsed.values())
        if numeric:
            positions = {v: float(p[0]) for v, p in parsed.items()}
            unit = next(iter(parsed.values()))[1] if parsed else ""
    if not fields:
        positions = {v: float(v) for v in x_values}
        numeric = True
    if not numeric:
        positions = {v: float(i) for i, v in enumerate(x_values)}
    span = (max(positions.values()) - min(positions.values())) if positions else 0.0
    jitter = 0.015 * (span or 1.0)
    groups = sorted({tuple(r[f] for f in others) for r in ok})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, metric in enumerate(metrics):
        ax = axes[i // ncols][i % ncols]
        for g, group in enumerate(groups):
            color = colors[g % len(colors)]
            sel = [r for r in ok if tuple(r[f] for f in others) == group and r[metric] != ""]
            label = ", ".join(f"{f}={v}" for f, v in zip(others, group, strict=True)) or None
            xs = np.array([positions[r[x_field]] for r in sel])
            ys = np.array([float(r[metric]) for r in sel])
            offsets = (np.array([int(r["seed"]) for r in sel]) % 5 - 2) * jitter / 2
            ax.plot(xs + offsets, ys, "o", ms=3, color=color, alpha=0.6)
            if fields:
                xu = sorted(set(xs.tolist()))
                mean = np.array([np.nanmean(ys[xs == x]) for x in xu])
                sd = np.array([np.nanstd(ys[xs == x]) for x in xu])
                ax.plot(xu, mean, "-", color=color, lw=1.5, label=label)
                ax.fill_between(xu, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel(f"{x_field} ({unit})" if unit else x_field)
        if not numeric:
            ax.set_xticks(list(positions.values()), list(positions))
        elif not fields:  # seeds: integer ticks
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if others and i == 0:
            ax.legend(fontsize=7, frameon=False)
    for j in range(len(metrics), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    if not metrics:
        axes[0][0].text(0.5, 0.5, "no finished runs", ha="center", va="center")
        axes[0][0].set_visible(True)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - SUMMARY_CELL["title"] / 2 / fig.get_figheight())
    out = Path(path)
    save_figure(fig, out)
    plt.close(fig)
    return out


# -- the sweep --------------------------------------------------------------------------


def _prepare_worker() -> str:
    """Import Brian2 and take a private Cython cache in a worker process.

    Brian2 installs a SIGINT handler when it is imported, which Python only allows in the
    main thread; Dask runs tasks in other threads, so the import happens here, in the
    worker's main (event-loop) thread, through :class:`_WorkerSetup`.
    """
    import brian2  # noqa: F401

    from spikingml.simulation import use_private_cython_cache

    return use_private_cython_cache()


def _worker_setup_plugin():
    from distributed.diagnostics.plugin import WorkerPlugin

    class _WorkerSetup(WorkerPlugin):
        name = "spikingml-worker-setup"

        def setup(self, worker) -> None:
            _prepare_worker()

    return _WorkerSetup()


def _client(workers: int, scheduler: str | None, forkserver: bool = False):
    """A Dask client: on an embedded LocalCluster of ``workers`` processes, or remote.

    With ``forkserver``, the workers are forked from multiprocessing's fork server
    (:func:`_fork_server`) rather than started afresh.
    """
    try:
        import logging

        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValidationError(
            "sweep", "Dask distributed installed (pip install spikingml[sweep])", "not installed"
        ) from exc
    if scheduler:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except OSError as exc:
            raise ValidationError(
                "--scheduler", "the address of a running Dask scheduler", scheduler
            ) from exc
    import dask

    setting = (
        dask.config.set({_MP_METHOD: "forkserver"}) if forkserver else contextlib.nullcontext()
    )
    with setting:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # its HTTP endpoints (health, metrics) on a free port, not Dask's 8787, which
            # another cluster (a notebook's dashboard) may hold
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
            env=_WORKER_ENV,
        )
    return Client(cluster), cluster


#: Environment of the embedded cluster's workers: one BLAS thread each, no display.
_WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}

#: Dask's setting of how worker processes start (``spawn``, ``forkserver``, ``fork``).
_MP_METHOD = "distributed.worker.multiprocessing-method"


@contextlib.contextmanager
def _fork_server(preload: Sequence[str]) -> Iterator[bool]:
    """Run multiprocessing's fork server, importing ``preload``, for the ``with`` block.

    Yields whether it runs: not where the platform has none, nor when this process already
    runs one (someone else's, left alone; the workers then start afresh). Worker
    processes forked from it (:func:`_client` with ``forkserver``) start with Brian2 and the
    circuit imported, instead of importing them (seconds each) after they start; and the
    server imports them while this process imports the circuit, on the other core. It is
    one process with one thread, so forking it is safe. It starts with this process's
    environment and ``sys.path`` as they are now, plus what Dask gives a worker before it
    starts (``distributed.nanny.pre-spawn-environ``, e.g. one BLAS thread) and
    :data:`_WORKER_ENV`, since its children inherit them from it, not from Dask. It is
    stopped when the block ends, so a later sweep sees the environment of its own time.

    It uses private members of :mod:`multiprocessing.forkserver` (the server, its process
    id, its preload list, its stop) and Dask's flag ``distributed.utils.
    _forkserver_preload_set``. Where one is missing (another Python or Dask), a warning
    is logged and it yields False: the workers start afresh, as without a fork server.
    """
    import multiprocessing
    import multiprocessing.forkserver

    try:
        import dask
        import distributed.utils
    except ImportError:  # no Dask: said when the cluster starts
        yield False
        return
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield False  # the platform has none
        return
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    missing = [
        f"multiprocessing.forkserver._forkserver.{member}"
        for member in ("_forkserver_pid", "_preload_modules", "_stop")
        if not hasattr(server, member)
    ]
    if not hasattr(distributed.utils, "_forkserver_preload_set"):
        missing.append("distributed.utils._forkserver_preload_set")
    import logging

    log = logging.getLogger(__name__)
    if missing:
        log.warning(
            "sweep workers start without a fork server (seconds each): %s missing "
            "(Python %s, distributed %s)",
            ", ".join(missing),
            sys.version.split()[0],
            distributed.__version__,
        )
        yield False
        return
    if server._forkserver_pid is not None:  # someone else's, left alone
        yield False
        return
    env = {
        str(k): str(v)
        for k, v in (dask.config.get("distributed.nanny.pre-spawn-environ") or {}).items()
    }
    env.setdefault("PYTHONHASHSEED", "6640")  # what Dask sets, for consistent hashing
    env.update(_WORKER_ENV)
    saved_env = {k: os.environ.get(k) for k in env}
    saved_preload = getattr(server, "_preload_modules", None)
    # Dask would otherwise set its own preload list on first use, importing pandas here
    saved_flag = getattr(distributed.utils, "_forkserver_preload_set", None)
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    distributed.utils._forkserver_preload_set = True
    try:
        os.environ.update(env)
        try:
            multiprocessing.forkserver.ensure_running()
            running = True
        except Exception as exc:  # internals there, but working otherwise: no fork server
            log.warning("sweep workers start without a fork server: %r", exc)
            running = False
        finally:
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        yield running
    finally:
        pid = getattr(server, "_forkserver_pid", None)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # it may still be importing
            server._stop()
        if saved_preload is not None:
            server._preload_modules = saved_preload
        if saved_flag is not None:
            distributed.utils._forkserver_preload_set = saved_flag


class _EmbeddedCluster:
    """The sweep's own LocalCluster (:func:`_client`), closed in the background.

    Closing it stops the worker processes, about a second of mostly waiting: :meth:`close`
    with ``wait=False`` does that in a thread while the caller goes on (drawing the
    summary figure), and a later :meth:`close` waits for it to end.
    """

    def __init__(self, workers: int, forkserver: bool = False) -> None:
        self._client, self._cluster = _client(workers, None, forkserver)
        self._closing: threading.Thread | None = None
        try:
            self._client.register_plugin(_worker_setup_plugin())
        except BaseException:
            self.close()
            raise

    def client(self) -> Any:
        """The :class:`distributed.Client` of the cluster."""
        return self._client

    def close(self, wait: bool = True) -> None:
        """Close the client and the cluster; with ``wait``, until their processes ended.

        A failure to close either is reported on stderr, not raised: the sweep's results
        are written by then.
        """
        if self._closing is None:
            self._closing = threading.Thread(
                target=self._close, name="spikingml-sweep-close", daemon=True
            )
            self._closing.start()
        if wait:
            self._closing.join()

    def _close(self) -> None:
        for part in (self._client, self._cluster):
            try:
                part.close()
            except Exception as exc:  # noqa: BLE001 - reported, then the next part
                logger.warning("closing the Dask cluster: %s", exc)


def sweep(
    name: str,
    out: str | os.PathLike,
    grid: Mapping[str, Sequence[str]] | None = None,
    seeds: Sequence[int] = (0,),
    quick: bool = False,
    device: str | None = None,
    base: Mapping[str, str] | None = None,
    base_origin: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    table_format: str = "csv",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    client: Any = None,
) -> Path:
    """Run circuit ``name`` for every grid combination and seed on Dask; write the table.

    Parameters
    ----------
    name : str
        Registered circuit name (``spikingml list``).
    out : path
        Output directory (``runs.csv``, ``sweep.json``, ``summary.png``, ``errors/``).
    grid : mapping of str to sequence of str, optional
        Parameter values to sweep, as strings (``--set`` syntax); every combination runs.
    seeds : sequence of int
        Seeds; every grid combination runs with each.
    quick : bool
        Start from the quick preset.
    device : str, optional
        Brian2 device (default: the circuit's own).
    base : mapping of str to str, optional
        Parameters every run shares, as strings (``--set`` syntax; ``--params FILE``);
        the grid overrides them. Recorded in ``sweep.json``; a resumed sweep must use the
        same.
    base_origin : str, optional
        Where ``base`` comes from (a file name), named in errors about its values.
    workers : int, optional
        Worker processes of the embedded LocalCluster (default: the number of cores).
        Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) to use instead.
    resume : bool
        Keep the finished runs of an earlier sweep into ``out`` and run only the rest
        (runs that failed before are run again).
    force : bool
        Replace an earlier sweep's table in ``out``.
    table_format : {"csv", "parquet"}
        ``parquet`` also writes ``runs.parquet`` (needs ``pyarrow``).
    progress : bool
        Report each finished run on stderr.
    log : callable, optional
        Receives the progress lines (default: the ``spikingml.sweep`` logger, INFO for
        progress and WARNING for what went wrong, e.g. a lost worker).
    client : dask.distributed.Client, optional
        Run on this client's cluster (left open afterwards) instead of starting one;
        ``workers`` and ``scheduler`` are then ignored.

    Returns
    -------
    pathlib.Path
        The table (``out/runs.csv``).

    Raises
    ------
    ValidationError
        Bad circuit, grid, seeds, device, workers or format (before anything runs).
    OutputExistsError
        ``out`` holds a sweep table and neither ``resume`` nor ``force`` is set.
    SweepInterrupted
        On Ctrl-C or SIGTERM; the table holds every run finished until then.
    """
    from spikingml._checks import check_device, check_seed
    from spikingml.circuits import REGISTRY, get_circuit
    from spikingml.circuits.contract import Circuit

    # first what needs no Brian2, so that the workers can start while it is imported
    if name not in REGISTRY:
        get_circuit(name)  # raises, naming the closest circuits
    if device is not None:
        check_device(device)
    grid = {k: list(v) for k, v in (grid or {}).items()}
    seeds = [check_seed(s) for s in seeds]
    if table_format not in ("csv", "parquet"):
        raise ValidationError("--format", "csv or parquet", table_format)
    if table_format == "parquet":
        _require_parquet()
    if scheduler is None and client is None:
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if workers is None else workers
        if (
            isinstance(workers, bool)
            or not isinstance(workers, int)
            or not 1 <= workers <= MAX_WORKERS
        ):
            raise ValidationError("--workers", f"an integer from 1 to {MAX_WORKERS}", workers)
    if scheduler is not None and (
        not isinstance(scheduler, str) or not _ADDRESS_RE.fullmatch(scheduler)
    ):
        raise ValidationError(
            "--scheduler", "the address of a Dask scheduler, such as tcp://host:8786", scheduler
        )
    if resume and force:
        raise ValidationError("--resume", "not together with --force", "both given")
    base = {str(k): v for k, v in (base or {}).items()}
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {out} exists and is not a directory")
    table_path = out / TABLE
    if table_path.exists() and not (resume or force):
        raise OutputExistsError(
            f"{out} already holds a sweep ({TABLE}); continue it with --resume, replace it "
            "with --force, or choose another directory with --out"
        )
    if resume and not table_path.exists():
        raise ValidationError("--resume", f"a directory holding {TABLE}", str(out))
    if resume:
        _check_same_base(out / SPEC, base)
    from spikingml.pipeline import check_output_location

    check_output_location(out, "--out", keep=False)  # before any worker starts
    say = (log or logger.info) if progress else (lambda msg: None)
    warn = log or logger.warning

    with contextlib.ExitStack() as stack:
        forkserver = client is None and scheduler is None
        if forkserver:  # it imports Brian2 and the circuit while this process does
            preload = ["distributed", "brian2", __name__, REGISTRY[name]]
            forkserver = stack.enter_context(_fork_server(preload))
        module = get_circuit(name)  # imports Brian2
        circuit = Circuit(module, name)
        device = check_device(device if device is not None else circuit.default_device)
        runs = plan_runs(module, grid, seeds, quick, base=base, base_origin=base_origin)
        metrics = list(circuit.METRICS)
        columns = _columns(list(grid), metrics)
        n_text = len(LEAD_COLUMNS) + len(grid) + 2  # ... swept values, status, error
        if client is None and scheduler is not None:
            # connect before anything is written: a wrong address leaves no directory behind
            client, _ = _client(1, scheduler)
            stack.callback(client.close)
        return _sweep_into(
            name=name,
            module=module,
            out=out,
            grid=grid,
            base=base,
            seeds=seeds,
            quick=quick,
            device=device,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            table_format=table_format,
            metrics=metrics,
            columns=columns,
            n_text=n_text,
            runs=runs,
            say=say,
            client=client,
            forkserver=forkserver,
            warn=warn,
        )


def _check_same_base(spec_path: Path, base: Mapping[str, str]) -> None:
    """A resumed sweep must use the base parameters of the sweep it continues."""
    try:
        earlier = json.loads(spec_path.read_text(encoding="utf-8")).get("base", {})
    except FileNotFoundError:
        earlier = {}
    except (OSError, ValueError, AttributeError):  # unreadable: cannot tell, so refuse
        earlier = None
    if earlier != dict(base):
        raise ValidationError(
            "--params", f"the base parameters of the sweep in {spec_path.parent}", dict(base)
        )


def _sweep_into(
    *,
    name,
    module,
    out,
    grid,
    base,
    seeds,
    quick,
    device,
    workers,
    scheduler,
    resume,
    table_format,
    metrics,
    columns,
    n_text,
    runs,
    say,
    client,
    forkserver,
    warn,
) -> Path:
    """Write the spec and the table into ``out`` and run what is not done yet.

    The runs go to ``client``, or else to an :class:`_EmbeddedCluster` of ``workers``
    processes (forked from the fork server if ``forkserver``), closed while the summary
    figure is drawn. Workers lost mid-task are said through ``warn`` and counted in the
    spec (``workers_lost``, over every sweep into ``out``).
    """
    from spikingml._files import write_json
    from spikingml.circuits import REGISTRY
    from spikingml.simulation import versions

    table_path = out / TABLE
    out.mkdir(parents=True, exist_ok=True)
    spec = {
        "circuit": name,
        "preset": "quick" if quick else "default",
        "device": device,
        "grid": grid,
        "base": dict(base),
        "seeds": seeds,
        "versions": versions(),
        "workers_lost": _workers_lost_before(out / SPEC) if resume else 0,
    }
    write_json(out / SPEC, spec)

    table = _Table(table_path, columns, resume=resume)
    embedded = None
    lost: list[str] = []
    try:
        done = table.done()
        todo = [r for r in runs if r.run_id not in done]
        say(
            f"sweep {name}: {len(runs)} runs ({len(runs) - len(todo)} already done), "
            f"device {device}, "
            + (f"scheduler {scheduler}" if scheduler else f"{workers} workers")
        )
        if todo:
            if client is None:
                embedded = _EmbeddedCluster(workers, forkserver)
            _execute(
                name,
                REGISTRY[name],
                quick,
                device,
                todo,
                table,
                out,
                table_format,
                columns,
                n_text,
                say,
                client if embedded is None else embedded.client(),
                base,
                prepare_workers=embedded is None,
                lost_workers=lost,
            )
    finally:
        table.close()
        if lost:
            warn(
                f"sweep {name}: {len(lost)} worker(s) lost while running its tasks "
                f"({', '.join(lost)}); their tasks were run again on other workers, up to "
                "distributed.scheduler.allowed-failures times"
            )
            spec["workers_lost"] += len(lost)
            write_json(out / SPEC, spec)
        if embedded is not None:  # its workers stop while the summary is drawn
            embedded.close(wait=False)
        try:
            rows = read_table(table_path)
            if table_format == "parquet":
                _write_parquet(rows, columns, n_text, out / PARQUET)
            if rows:
                plot_summary(
                    rows,
                    list(grid),
                    metrics,
                    out / SUMMARY,
                    module=module,
                    quick=quick,
                    title=f"{name} sweep ({spec['preset']} preset, {len(seeds)} seeds)",
                )
        finally:
            if embedded is not None:
                embedded.close()
    failed = sum(1 for r in rows if r["status"] != "ok")
    lost_note = f", {len(lost)} worker(s) lost" if lost else ""
    say(
        f"sweep {name}: done, {len(rows) - failed} runs ok, {failed} failed{lost_note}; "
        f"table {table_path}"
    )
    return table_path


def _workers_lost_before(spec_path: Path) -> int:
    """``workers_lost`` of the sweep that a resumed sweep continues (0 if unknown)."""
    try:
        earlier = json.loads(spec_path.read_text(encoding="utf-8")).get("workers_lost", 0)
    except (OSError, ValueError, AttributeError):
        return 0
    return earlier if isinstance(earlier, int) and earlier >= 0 else 0


def _record(
    name,
    quick,
    device,
    run,
    res,
    columns,
    table,
    out,
    table_format,
    n_text,
    say,
    finished,
    n_todo,
    t_start,
) -> int:
    """Append one finished run to the table (and its traceback to errors/); report it."""
    row = {
        "run_id": run.run_id,
        "circuit": name,
        "preset": "quick" if quick else "default",
        "device": device,
        "seed": run.seed,
        **dict(run.values),
        "status": res["status"],
        "error": res["error"],
        "wall_seconds": res["wall_seconds"],
        "simulated_seconds": res["simulated_seconds"],
        **{k: v for k, v in res["metrics"].items() if k in columns},
    }
    extra = sorted(set(res["metrics"]) - set(columns))
    if extra:
        say(f"  metrics not in {name}.METRICS (not in the table): {', '.join(extra)}")
    if res["status"] != "ok":
        (out / "errors").mkdir(exist_ok=True)
        (out / "errors" / f"{run.run_id}.txt").write_text(
            f"{run.describe()}\n\n{res['traceback']}", encoding="utf-8"
        )
    table.append(row)
    if table_format == "parquet":
        _write_parquet(table.rows, columns, n_text, out / PARQUET)
    finished += 1
    elapsed = time.perf_counter() - t_start
    eta = elapsed / finished * (n_todo - finished)
    status = "ok" if res["status"] == "ok" else f"FAILED ({res['error']})"
    say(
        f"  [{finished}/{n_todo}] {run.describe()}: {status}, "
        f"{res['wall_seconds']:.1f} s; ~{eta:.0f} s left"
    )
    return finished


def _groups(
    module_path: str,
    device: str,
    todo: Sequence[SweepRun],
    quick: bool = False,
    base: Mapping[str, str] | None = None,
) -> list[list[SweepRun]]:
    """Runs to submit together, so that each group compiles one program.

    Under ``cpp_standalone``: for circuits with a ``simulate_many`` hook, every run
    whose parameters share a structure (they differ only in run-time fields and seeds,
    :meth:`spikingml.params.CircuitParams.structure`); for circuits with a
    ``simulate_seeds`` hook, all seeds of a parameter combination
    (:func:`spikingml.circuits.reuses_compiled`). Otherwise each run alone (spread over
    all workers).
    """
    import importlib

    from spikingml.circuits import reuses_compiled
    from spikingml.circuits.contract import Circuit

    module = importlib.import_module(module_path)
    if not reuses_compiled(module, device):
        return [[run] for run in todo]
    groups: dict[Any, list[SweepRun]] = {}
    if Circuit(module).reruns_structure(device):
        preset = module.Params.quick() if quick else module.Params()
        for run in todo:
            params = preset.replace_from_strings({**dict(base or {}), **dict(run.values)})
            shape = json.dumps(params.structure().to_dict(), sort_keys=True, default=str)
            groups.setdefault(shape, []).append(run)
    else:
        for run in todo:
            groups.setdefault(run.values, []).append(run)
    return list(groups.values())


def _execute(
    name,
    module_path,
    quick,
    device,
    todo,
    table,
    out,
    table_format,
    columns,
    n_text,
    say,
    client,
    base=None,
    prepare_workers=True,
    lost_workers=None,
) -> None:
    """Submit ``todo`` to ``client``'s cluster and append each finished run to the table.

    With ``prepare_workers``, first registers :func:`_worker_setup_plugin` (an
    :class:`_EmbeddedCluster` has done so as it started). A worker that dies mid-task is
    Dask's to handle: the scheduler runs its tasks again on other workers (up to
    ``distributed.scheduler.allowed-failures`` times; a task beyond that gives its runs
    error rows). The addresses of such workers are appended to ``lost_workers``
    (:func:`_lost_workers`), also when the sweep is interrupted.
    """
    import secrets

    from dask.distributed import as_completed

    from spikingml._signals import sigterm_as_interrupt

    futures = {}
    t_start = time.perf_counter()
    # this sweep's own task keys, unlike those of an earlier sweep on the same scheduler
    # (a resumed one: the same runs), so that the scheduler's events tell them apart
    token = secrets.token_hex(4)
    keys: set[str] = set()
    with sigterm_as_interrupt():  # SIGTERM stops the sweep as Ctrl-C does
        try:
            if prepare_workers:
                client.register_plugin(_worker_setup_plugin())
            structured = _groups(module_path, device, todo, quick, base)
            for group in structured:
                # the grid's values win over the base values (--params)
                values = (*dict(base or {}).items(), *group[0].values)
                if len(group) > 1 and len({run.values for run in group}) > 1:
                    # combinations of one structure: one compiled program (run_group)
                    fut = client.submit(
                        run_group,
                        module_path,
                        quick,
                        [((*dict(base or {}).items(), *run.values), run.seed) for run in group],
                        device,
                        key=f"spikingml-{name}-{group[0].run_id}-{len(group)}-group-{token}",
                        pure=False,
                    )
                elif len(group) == 1:
                    run = group[0]
                    fut = client.submit(
                        run_one,
                        module_path,
                        quick,
                        values,
                        run.seed,
                        device,
                        key=f"spikingml-{name}-{run.run_id}-{token}",
                        pure=False,
                    )
                else:  # seeds of one combination: one compiled program (run_seeds)
                    fut = client.submit(
                        run_seeds,
                        module_path,
                        quick,
                        values,
                        [run.seed for run in group],
                        device,
                        key=f"spikingml-{name}-{group[0].run_id}-{len(group)}-seeds-{token}",
                        pure=False,
                    )
                futures[fut] = group
                keys.add(fut.key)
            finished = 0
            for fut in as_completed(futures):
                # released once recorded: a worker lost later holds no result to compute again
                group = futures.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # the task, not the run (e.g. KilledWorker): error rows
                    outcome = [_task_failed(exc) for _ in group]
                if len(group) == 1 and isinstance(outcome, Mapping):
                    outcome = [outcome]
                for run, res in zip(group, outcome, strict=True):
                    finished = _record(
                        name,
                        quick,
                        device,
                        run,
                        res,
                        columns,
                        table,
                        out,
                        table_format,
                        n_text,
                        say,
                        finished,
                        len(todo),
                        t_start,
                    )
        except KeyboardInterrupt:
            for fut in futures:
                fut.cancel()
            raise SweepInterrupted(
                f"sweep interrupted: {len(table.rows)} runs are in {table.path}; run the same "
                "command with --resume to finish the others"
            ) from None
        finally:
            if lost_workers is not None:
                lost_workers.extend(_lost_workers(client, keys))


def _task_failed(exc: BaseException) -> dict[str, Any]:
    """The row of a run whose task failed in Dask rather than in the run (which
    :func:`run_one` catches): e.g. ``KilledWorker``, when workers died running it more
    often than ``distributed.scheduler.allowed-failures``."""
    import platform

    return {
        "status": "error",
        "error": " ".join(f"{type(exc).__name__}: {exc}".split()),
        "traceback": "".join(traceback.format_exception(exc)),
        "metrics": {},
        "simulated_seconds": float("nan"),
        "wall_seconds": float("nan"),
        "host": platform.node(),
    }


def _lost_workers(client: Any, keys: set[str]) -> list[str]:
    """Workers that left the cluster unexpectedly (killed, crashed, out of contact) while
    running tasks of ``keys`` or holding their results, in the order they left.

    Read from the scheduler's ``remove-worker`` events (topic ``all``): ``expected`` is
    false unless the worker was retired on purpose. An older scheduler without them, or
    one no longer reachable, gives none.
    """
    try:
        events = client.get_events("all")
    except Exception:  # noqa: BLE001 - cannot tell: the table is complete either way
        return []
    lost: list[str] = []
    for _, msg in events:
        if not isinstance(msg, Mapping) or msg.get("action") != "remove-worker":
            continue
        if msg.get("expected", False):
            continue
        touched = {*msg.get("processing-tasks", ()), *msg.get("lost-computed-tasks", ())}
        worker = str(msg.get("worker", "?"))
        if touched & keys and worker not in lost:
            lost.append(worker)
    return lost
