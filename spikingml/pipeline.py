"""One run pipeline: simulate -> twin -> compare -> figures -> data files.

:func:`run` runs a circuit for one seed or many exactly as ``spikingml run`` does, and
the command line, sweeps (:mod:`spikingml.sweep`), the examples and notebooks all call
it. It returns a :class:`RunRecord` per seed: the metrics, the timings, the files
written and (unless told not to keep them) the simulation's ``Result`` and the twin's
output.

>>> from spikingml import pipeline
>>> from spikingml.circuits import td_conditioning as td
>>> record = pipeline.run("td-conditioning", td.Params.quick(), seed=0,
...                       out="out/td", force=True)              # doctest: +SKIP
>>> record.metrics["delta_correlation"]                          # doctest: +SKIP
0.889...
>>> records = pipeline.run("td-conditioning", seeds=range(10),
...                        device="cpp_standalone", out="out/td")   # doctest: +SKIP

The stages
----------
1. *Checks, before anything runs*: the circuit follows the contract
   (:mod:`spikingml.circuits.contract`), the seed(s), device and output location are
   valid, the output directory can be created and written (a read-only file system or a
   path under ``/proc`` is refused here, not after the simulation), and no earlier
   output would be overwritten without ``force``.
2. *Simulation and twin*: with an output directory, the twin runs in a forked child
   while this process simulates (they overlap on two cores); without one, one after the
   other (a sweep's worker has one core).
3. *Comparison*: ``compare`` may return only metrics that ``METRICS`` documents.
4. *Outputs* (only with ``out``): ``params.json``, the data file(s) (``data.nix`` and/or
   ``data.nwb``, written by a forked child while this process draws), ``raster.png``,
   ``comparison.png`` and the circuit's figures, then ``metrics.json``. Everything is
   written into a hidden temporary directory next to ``out`` and moved into place file by
   file only when all of it exists: an interrupted run leaves nothing half-written and
   never clobbers an earlier one.

Several seeds
-------------
With ``seeds``, each seed's files go to ``out/seed-N``. Under ``cpp_standalone`` a
circuit with a ``simulate_seeds`` hook compiles its program once and reruns it per seed;
then three streams overlap: the program simulates the next seeds, this process draws one
seed's figures, and one forked worker writes the previous seed's data files.

Progress and logging
--------------------
The pipeline reports its stages on the ``spikingml.pipeline`` logger (level INFO;
``spikingml`` configures it, see :func:`spikingml.configure_logging`); ``progress``
switches Brian2's progress bar. The first run of a circuit on a machine says that Brian2
is compiling generated code, and about how long that takes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, overload

from spikingml._checks import check_device, check_seed, parse_seeds
from spikingml._files import write_json
from spikingml.circuits.contract import RESERVED_KEYS, Circuit, ContractError, order_metrics
from spikingml.errors import OutputExistsError, ValidationError

if TYPE_CHECKING:
    from spikingml._background import Worker

__all__ = [
    "CHECKPOINT",
    "DATA_FILES",
    "OUTPUT_FILES",
    "RESERVED_KEYS",
    "RunRecord",
    "TwinCache",
    "check_output_location",
    "iter_runs",
    "load",
    "run",
    "simulations",
    "variant_records",
    "variants",
]

logger = logging.getLogger(__name__)

#: Files every run writes (circuit-specific figures come on top of these).
OUTPUT_FILES: tuple[str, ...] = (
    "metrics.json",
    "params.json",
    "data.nix",
    "raster.png",
    "comparison.png",
)

#: The data file(s) written for each ``data_format`` (``data.nix`` replaced in
#: :data:`OUTPUT_FILES`).
DATA_FILES: dict[str, tuple[str, ...]] = {
    "nix": ("data.nix",),
    "nwb": ("data.nwb",),
    "both": ("data.nix", "data.nwb"),
}

#: Name of the checkpoint a circuit with ``SUPPORTS_RESUME`` writes during training.
CHECKPOINT = "checkpoint.npz"

#: Rough cold-cache compile times on 2 cores, said on a circuit's first run on a machine.
_COMPILE_NOTE = {
    "runtime": "Brian2 is compiling its generated Cython code, about 1-3 minutes on 2 cores",
    "cpp_standalone": "Brian2 is compiling the standalone C++ program, about 0.5-1 minute on "
    "2 cores",
}

#: Names of the arguments in error messages (the command line passes its flags).
_PYTHON_NAMES = {
    "seed": "seed",
    "seeds": "seeds",
    "out": "out",
    "resume": "resume",
    "force": "force=True",
    "device": "device",
}


@dataclasses.dataclass
class RunRecord:
    """What one run of one seed produced.

    Attributes
    ----------
    circuit : str
        The circuit's name.
    seed : int
        The seed.
    device : str
        The Brian2 device it ran on.
    params : Params
        The circuit's parameters.
    metrics : dict of str to float
        Every metric of the circuit's ``METRICS``, in its order.
    timings : dict of str to float
        ``wall_seconds`` (the whole run), ``simulated_seconds``, ``simulate_wall_seconds``
        and ``synaptic_events``; under ``cpp_standalone`` also ``compile_seconds`` and
        ``binary_seconds``.
    out : Path or None
        The directory the files were moved into (``None``: nothing written).
    files : list of str
        The files written, relative to ``out``, standard outputs first.
    result : Result or None
        The simulation (``None`` when the run was made with ``keep=False``).
    twin_output : object
        The twin's output (``None`` when the run was made with ``keep=False``).
    """

    circuit: str
    seed: int
    device: str
    params: Any
    metrics: dict[str, float]
    timings: dict[str, float]
    out: Path | None = None
    files: list[str] = dataclasses.field(default_factory=list)
    result: Any = None
    twin_output: Any = None

    def to_json(self) -> dict[str, Any]:
        """The content of ``metrics.json``: every metric, the timings and what ran."""
        return {
            **self.metrics,
            "circuit": self.circuit,
            "seed": self.seed,
            "device": self.device,
            "params": self.params.to_dict(),
            **self.timings,
        }


def load(circuit: str | ModuleType | Circuit) -> Circuit:
    """The :class:`~spikingml.circuits.contract.Circuit` of a name, module or circuit.

    Raises
    ------
    ValidationError
        An unknown name (the message suggests the closest names).
    ContractError
        A module that does not follow the circuit contract.
    """
    if isinstance(circuit, Circuit):
        return circuit
    if isinstance(circuit, str):
        from spikingml.circuits import get_circuit

        return Circuit(get_circuit(circuit), circuit)
    return Circuit(circuit)


# -- checks before anything runs ---------------------------------------------------------


def check_output_location(
    path: str | os.PathLike, name: str = "out", keep: bool = True
) -> list[Path]:
    """Make sure ``path`` can be a directory of outputs: create it and write into it.

    The directories missing on the way are created, then a probe file is created in
    ``path`` and removed. This finds what checking permissions alone does not: a
    read-only file system, a path under ``/proc``, a parent that is a file. With
    ``keep``, the directories made are kept and returned, outermost first, so that a
    failed run can remove them again while empty; otherwise they are removed at once
    (and an empty list returned).

    Raises
    ------
    ValidationError
        Naming ``name``, when the directory cannot be created or written.
    """
    path = Path(path)
    missing = _missing_dirs(path.absolute())
    try:
        if os.path.lexists(path) and not path.is_dir():
            raise NotADirectoryError(f"{path} is not a directory")
        for d in missing:
            d.mkdir()
        fd, probe = tempfile.mkstemp(prefix=".spikingml-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        _remove_empty(missing)
        reason = exc.strerror or str(exc)
        raise ValidationError(
            name, "a directory that can be created and written", f"{path} ({reason})"
        ) from None
    if not keep:
        _remove_empty(missing)
        return []
    return missing


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
        if not os.path.lexists(d):
            continue
        try:
            d.rmdir()
        except OSError:  # not empty (or gone): keep it
            break


def _check_output(out: Path, names: Iterable[str], force: bool, labels: Mapping[str, str]):
    """Refuse to overwrite output files in ``out`` unless ``force``."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output path {out} exists and is not a directory")
    if force:
        return
    clash = [name for name in names if os.path.lexists(out / name)]
    if clash:
        raise OutputExistsError(
            f"{out} already contains {', '.join(clash)}; pass {labels['force']} to "
            f"overwrite, or choose another directory with {labels['out']}"
        )


def _require_pynwb() -> None:
    """Fail before any work if NWB output is asked for and pynwb is missing."""
    try:
        import pynwb  # noqa: F401
    except ImportError as exc:
        raise ValidationError(
            "data_format",
            "nix, or pynwb installed for NWB: pip install 'spikingml[nwb]'",
            "nwb (pynwb is not installed)",
        ) from exc


@dataclasses.dataclass
class _Plan:
    """Everything a run needs, checked before it starts."""

    circuit: Circuit
    params: Any
    seeds: list[int]
    single: bool
    device: str
    out: Path | None
    outs: dict[int, Path]
    force: bool
    data_files: tuple[str, ...]
    trainings: dict[int, dict[str, Any]]
    created: list[Path]
    progress: bool
    keep: bool
    t_begin: float

    @property
    def reuse(self) -> bool:
        """Whether the seeds come from one program compiled once."""
        return (
            not self.single
            and self.circuit.reuses_compiled(self.device)
            and not any(self.trainings.values())
        )


def _plan(
    circuit: str | ModuleType | Circuit,
    params: Any,
    seed: int | None,
    seeds: Iterable[int] | str | None,
    device: str | None,
    out: str | os.PathLike | None,
    force: bool,
    data_format: str,
    resume: str | os.PathLike | bool | None,
    progress: bool,
    keep: bool,
    labels: Mapping[str, str] | None,
) -> _Plan:
    t_begin = time.perf_counter()
    names = {**_PYTHON_NAMES, **(labels or {})}
    circ = load(circuit)
    device = check_device(device if device is not None else circ.default_device)
    params = circ.Params() if params is None else params
    if not isinstance(params, circ.Params):
        raise ValidationError(
            "params", f"{circ.name}'s Params", f"a {type(params).__name__} object"
        )
    if data_format not in DATA_FILES:
        raise ValidationError("data_format", f"one of {', '.join(DATA_FILES)}", data_format)
    single = seeds is None
    if single:
        seed_list = [check_seed(0 if seed is None else seed, names["seed"])]
    else:
        if seed is not None:
            raise ValidationError(names["seeds"], f"seeds or {names['seed']}, not both", seeds)
        if isinstance(seeds, str):
            seed_list = parse_seeds(seeds, names["seeds"])
        else:
            seed_list = [check_seed(s, names["seeds"]) for s in seeds]
            if not seed_list:
                raise ValidationError(names["seeds"], "at least one seed", "none")
        if resume not in (None, False):
            raise ValidationError(
                names["resume"], f"a run of one seed (not with {names['seeds']})", "seeds"
            )
    resuming = resume not in (None, False)
    plan = _Plan(
        circuit=circ,
        params=params,
        seeds=seed_list,
        single=single,
        device=device,
        out=None,
        outs={},
        force=force or resuming,
        data_files=DATA_FILES[data_format],
        trainings={s: {} for s in seed_list},
        created=[],
        progress=progress,
        keep=keep,
        t_begin=t_begin,
    )
    if out is None:
        if resuming:
            raise ValidationError(names["resume"], f"an output directory ({names['out']})", None)
        return plan
    if "data.nwb" in plan.data_files:
        _require_pynwb()
    plan.out = Path(out)
    # absolute for a series: while a seed's files are written, Brian2 runs the next seed
    # in its build directory (the working directory of the process meanwhile)
    if single:
        plan.outs = {seed_list[0]: plan.out}
    else:
        plan.outs = {s: plan.out.resolve() / f"seed-{s}" for s in seed_list}
    expected = [f for f in OUTPUT_FILES if f != "data.nix"] + list(plan.data_files)
    for seed_out in plan.outs.values():
        _check_output(seed_out, expected, plan.force, names)
    # ``resume=True`` or ``""``: the checkpoint in the output directory
    resume_path = Path(resume) if resuming and resume is not True and str(resume) else None
    # a checkpoint is checked before the output directory is made
    plan.trainings = {
        s: _training(circ, o, params, s, resuming, resume_path, plan.force, names)
        for s, o in plan.outs.items()
    }
    plan.created = check_output_location(plan.out, names["out"])
    return plan


def _training(
    circuit: Circuit,
    out: Path,
    params: Any,
    seed: int,
    resuming: bool,
    resume_path: Path | None,
    force: bool,
    names: Mapping[str, str],
) -> dict[str, Any]:
    """Checkpoint and resume arguments of ``simulate``, for circuits that train long.

    Such circuits (``SUPPORTS_RESUME``) write ``out/checkpoint.npz`` during training, so
    that an interrupted run can be continued; a checkpoint left by an earlier run is
    never overwritten unless ``resume`` or ``force`` says what to do with it.
    """
    if not circuit.supports_resume:
        if resuming:
            raise ValidationError(
                names["resume"],
                "a circuit that writes checkpoints",
                f"{circuit.name} (it does not)",
            )
        return {}
    checkpoint = out / CHECKPOINT
    if resuming:
        resume = resume_path if resume_path is not None else checkpoint
        if not resume.is_file():
            raise ValidationError(names["resume"], "an existing checkpoint file", str(resume))
        circuit.check_checkpoint(resume, params, seed)  # a foreign or damaged file: now
        return {"checkpoint": checkpoint, "resume": resume}
    if checkpoint.exists() and not force:
        raise OutputExistsError(
            f"{checkpoint} exists (from an interrupted run?): continue it with "
            f"{names['resume']} or start over with {names['force']}"
        )
    return {"checkpoint": checkpoint}


# -- the run -----------------------------------------------------------------------------


@overload
def run(
    circuit: str | ModuleType | Circuit,
    params: Any = ...,
    *,
    seed: int | None = ...,
    seeds: None = ...,
    device: str | None = ...,
    out: str | os.PathLike | None = ...,
    force: bool = ...,
    data_format: str = ...,
    resume: str | os.PathLike | bool | None = ...,
    progress: bool = ...,
    keep: bool = ...,
    labels: Mapping[str, str] | None = ...,
) -> RunRecord: ...


@overload
def run(
    circuit: str | ModuleType | Circuit,
    params: Any = ...,
    *,
    seed: None = ...,
    seeds: Iterable[int] | str,
    device: str | None = ...,
    out: str | os.PathLike | None = ...,
    force: bool = ...,
    data_format: str = ...,
    resume: None = ...,
    progress: bool = ...,
    keep: bool = ...,
    labels: Mapping[str, str] | None = ...,
) -> list[RunRecord]: ...


def run(
    circuit: str | ModuleType | Circuit,
    params: Any = None,
    *,
    seed: int | None = None,
    seeds: Iterable[int] | str | None = None,
    device: str | None = None,
    out: str | os.PathLike | None = None,
    force: bool = False,
    data_format: str = "nix",
    resume: str | os.PathLike | bool | None = None,
    progress: bool = True,
    keep: bool = True,
    labels: Mapping[str, str] | None = None,
) -> RunRecord | list[RunRecord]:
    """Run a circuit and its twin, compare them, and write every output, as ``spikingml run``.

    Parameters
    ----------
    circuit : str, module or Circuit
        A registered name (``"td-conditioning"``), a circuit module, or a
        :class:`~spikingml.circuits.contract.Circuit`.
    params : Params, optional
        The circuit's parameters (default: its default preset).
    seed : int, optional
        The seed of a single run (default 0).
    seeds : iterable of int or str, optional
        Several seeds (``range(10)`` or ``"0-9"``, ``"0,3,5-7"``): one run each, into
        ``out/seed-N``. Then :func:`run` returns a list of records, in seed order.
    device : {"runtime", "cpp_standalone"}, optional
        Brian2 device (default: the circuit's ``DEFAULT_DEVICE``).
    out : str or path-like, optional
        Directory of the outputs (``metrics.json``, ``params.json``, ``data.nix``,
        ``raster.png``, ``comparison.png`` and the circuit's figures). ``None``: compute
        the metrics only and write nothing (as a sweep does).
    force : bool
        Overwrite earlier outputs in ``out``.
    data_format : {"nix", "nwb", "both"}
        The data file(s): ``data.nix`` (NEO/NIX), ``data.nwb`` (needs pynwb), or both.
    resume : str, path-like or bool, optional
        For circuits that write checkpoints (``SUPPORTS_RESUME``): continue training
        from this checkpoint (``True`` or ``""``: ``out/checkpoint.npz``) and replace the
        outputs in ``out``.
    progress : bool
        Show Brian2's progress bar (the stages are logged on ``spikingml.pipeline``).
    keep : bool
        Keep each run's ``Result`` and twin output in its record (``False`` frees them
        as soon as the run's files are written: many seeds of a large circuit).
    labels : mapping of str to str, optional
        How error messages name the arguments (the command line passes its flags, e.g.
        ``{"seed": "--seed", "out": "--out"}``).

    Returns
    -------
    RunRecord or list of RunRecord
        One record (``seed``) or one per seed (``seeds``).

    Raises
    ------
    ValidationError
        Bad input (unknown circuit, seed, device, output location, resume), found
        before anything is simulated.
    OutputExistsError
        ``out`` holds outputs and ``force`` is not set (also found before simulating).
    ContractError
        The circuit does not follow the contract, or ``compare`` returned other metrics
        than ``METRICS`` documents.
    """
    plan = _plan(
        circuit,
        params,
        seed,
        seeds,
        device,
        out,
        force,
        data_format,
        resume,
        progress,
        keep,
        labels,
    )
    records = list(_execute(plan))
    return records[0] if plan.single else records


def iter_runs(
    circuit: str | ModuleType | Circuit,
    params: Any = None,
    *,
    seeds: Iterable[int] | str,
    device: str | None = None,
    out: str | os.PathLike | None = None,
    force: bool = False,
    data_format: str = "nix",
    progress: bool = True,
    keep: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[RunRecord]:
    """:func:`run` for several seeds, yielding each seed's record as soon as it is done.

    The same checks happen first, before the first simulation (on the first ``next``).
    A failure stops the iteration after the records already yielded; the caller can then
    run the remaining seeds on their own (as a sweep does).
    """
    plan = _plan(
        circuit,
        params,
        None,
        seeds,
        device,
        out,
        force,
        data_format,
        None,
        progress,
        keep,
        labels,
    )
    yield from _execute(plan)


def _execute(plan: _Plan) -> Iterator[RunRecord]:
    circ = plan.circuit
    where = f" -> {plan.out}" if plan.out is not None else ""
    what = f"seed {plan.seeds[0]}" if plan.single else f"seeds {_ranges(plan.seeds)}"
    logger.info(
        "running %s (%s, device %s%s)%s",
        circ.name,
        what,
        plan.device,
        ", compiled once" if plan.reuse else "",
        where,
    )
    _say_if_cold(circ.name, plan.device)
    if plan.out is not None and "matplotlib.pyplot" not in sys.modules:
        os.environ.setdefault("MPLBACKEND", "Agg")  # only files are drawn: no display
    if plan.out is None:
        yield from _metrics_only(plan)
    elif plan.reuse:
        yield from _series(plan)
    else:
        t_seed = plan.t_begin  # the first seed counts from the start, like a single run
        for seed in plan.seeds:
            if not plan.single:
                logger.info("seed %d -> %s", seed, plan.outs[seed])
            record = _run_into(plan, seed, t_seed)
            t_seed = time.perf_counter()
            yield record
    _mark_warm(circ.name, plan.device)


def _ranges(seeds: Sequence[int]) -> str:
    """``0-3,7`` for ``[0, 1, 2, 3, 7]``."""
    parts: list[str] = []
    start = prev = seeds[0]
    for s in [*seeds[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ",".join(parts)


def simulations(
    circuit: str | ModuleType | Circuit,
    params: Any = None,
    seeds: Iterable[int] = (0,),
    device: str | None = None,
    progress: bool = True,
) -> Iterator[Any]:
    """Simulate ``circuit`` once per seed, compiling once where the circuit can.

    Yields one ``Result`` per seed, equal (spike for spike) to ``simulate(params, seed,
    device)``: through the circuit's ``simulate_many`` or ``simulate_seeds`` hook where
    it has one, else one ``simulate`` per seed. Nothing else runs (no twin, no outputs).
    """
    circ = load(circuit)
    params = circ.Params() if params is None else params
    yield from variants(circ, [(params, seed) for seed in seeds], device, progress)


def variants(
    circuit: str | ModuleType | Circuit,
    runs: Iterable[tuple[Any, int]],
    device: str | None = None,
    progress: bool = True,
) -> Iterator[Any]:
    """Simulate ``(params, seed)`` pairs, compiling once per structure where the circuit can.

    Under ``cpp_standalone``, a circuit with a ``simulate_many`` hook runs the pairs
    that share a structure (:meth:`spikingml.params.CircuitParams.structure`: they
    differ only in run-time fields and seeds) on one compiled program; put such pairs
    next to each other. Yields one ``Result`` per pair, in order, each equal to
    ``simulate(params, seed, device)``. Nothing else runs (no twin, no outputs).
    """
    circ = load(circuit)
    device = check_device(device if device is not None else circ.default_device)
    runs = list(runs)
    for params, _ in runs:
        if not isinstance(params, circ.Params):
            raise ValidationError(
                "params", f"{circ.name}'s Params", f"a {type(params).__name__} object"
            )
    yield from circ.many(runs, device, progress)


def variant_records(
    circuit: str | ModuleType | Circuit,
    runs: Iterable[tuple[Any, int]],
    device: str | None = None,
    progress: bool = True,
    keep: bool = False,
) -> Iterator[RunRecord]:
    """The metrics of ``(params, seed)`` pairs: :func:`variants`, each pair's twin, compare.

    What a sweep computes for a group of parameter sets that share a structure: each
    pair is simulated (under ``cpp_standalone``, on one program per structure), its twin
    run and the two compared; no files are written. Pairs that agree on the seed and on
    every field their twin reads share one twin output (:class:`TwinCache`). The
    records' ``wall_seconds`` count from the previous record (the first: from the
    call).

    Parameters
    ----------
    circuit : str, module or Circuit
        The circuit.
    runs : iterable of (Params, int)
        Parameters and seed of each run, in the order of the records.
    device : str, optional
        Brian2 device (default: the circuit's).
    progress : bool
        Show the simulations' progress.
    keep : bool
        Keep each ``Result`` and twin output in its record.
    """
    from spikingml.simulation import record_device_times

    circ = load(circuit)
    device = check_device(device if device is not None else circ.default_device)
    runs = list(runs)
    twins = TwinCache(circ)
    t_run = time.perf_counter()
    with record_device_times() as times:
        results = variants(circ, runs, device, progress)
        try:
            for (params, seed), result in zip(runs, results, strict=True):
                simulate_wall = time.perf_counter() - t_run
                twin_output = twins(params, seed)
                timings = {
                    "simulated_seconds": float(result.simulated_seconds) or float(result.t_stop),
                    "simulate_wall_seconds": simulate_wall,
                    "synaptic_events": int(result.synaptic_events),
                }
                if device == "cpp_standalone":
                    timings["compile_seconds"] = times.compile_seconds
                    timings["binary_seconds"] = times.binary_seconds
                    times.compile_seconds = times.binary_seconds = 0.0
                record = RunRecord(
                    circuit=circ.name,
                    seed=seed,
                    device=device,
                    params=params,
                    metrics=_compare(circ, result, twin_output),
                    timings=timings,
                    result=result if keep else None,
                    twin_output=twin_output if keep else None,
                )
                record.timings["wall_seconds"] = time.perf_counter() - t_run
                t_run = time.perf_counter()
                yield record
        finally:
            results.close()


def _simulate(plan: _Plan, seed: int) -> tuple[Any, float, Any]:
    """One seed's simulation in this process: the result, its wall time, device times."""
    from spikingml.simulation import record_device_times

    t0 = time.perf_counter()
    with record_device_times() as device_times:
        result = plan.circuit.module.simulate(
            plan.params,
            seed=seed,
            device=plan.device,
            progress=plan.progress,
            **plan.trainings.get(seed, {}),
        )
    return result, time.perf_counter() - t0, device_times


class TwinCache:
    """A circuit's twin outputs, each shared by the runs that would compute it again.

    A twin is a deterministic function of its seed and of the fields of ``params`` it
    reads. The first call for a seed runs the twin on a :func:`~spikingml.params.
    recording` copy of the parameters, which notes those fields; a later call with the
    same seed and the same values of every noted field returns the same output without
    running the twin (it would read the same values and compute the same thing). A
    sweep of a field the twin does not read (a learning rate of the circuit, say)
    computes the twin once. The last ``size`` outputs are kept.

    Parameters
    ----------
    circuit : Circuit
        The circuit whose ``twin`` is called.
    size : int
        Outputs kept (least recently used dropped first).

    Attributes
    ----------
    computed, reused : int
        Twins computed and outputs reused so far.
    """

    def __init__(self, circuit: Circuit, size: int = 8) -> None:
        self.circuit = circuit
        self.size = size
        self.computed = 0
        self.reused = 0
        self._entries: list[tuple[int, dict[str, Any], Any]] = []

    def __call__(self, params: Any, seed: int) -> Any:
        """The twin output of ``params`` and ``seed``, computed or reused."""
        from spikingml.params import recording

        values = params.to_dict()
        for k, (entry_seed, read, output) in enumerate(self._entries):
            if entry_seed == seed and all(values[f] == v for f, v in read.items()):
                self._entries.append(self._entries.pop(k))  # most recently used last
                self.reused += 1
                return output
        noting, names = recording(params)
        output = _twin_of(self.circuit, noting, seed)
        self.computed += 1
        self._entries.append((seed, {f: values[f] for f in names}, output))
        del self._entries[: -self.size]
        return output


def _twin_of(circuit: Circuit, params: Any, seed: int) -> Any:
    """The circuit's twin, its BLAS threads leaving one core to the simulation."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return circuit.twin(params, seed=seed)
    with threadpool_limits(limits=max(1, (os.cpu_count() or 2) - 1)):
        return circuit.twin(params, seed=seed)


def _compare(circuit: Circuit, result: Any, twin_output: Any) -> dict[str, float]:
    """``compare``'s metrics as floats, in the order of ``METRICS``; checked against it."""
    raw = circuit.compare(result, twin_output)
    clash = sorted(set(raw) & set(RESERVED_KEYS))
    if clash:
        raise ContractError(
            f"circuit {circuit.name!r} returned metrics named {', '.join(clash)}, "
            "which are reserved"
        )
    try:
        ordered = order_metrics(circuit.METRICS, raw, require_all=False)
    except ContractError as exc:
        raise ContractError(f"circuit {circuit.name!r}: {exc}") from None
    return {k: float(raw[k]) for k in ordered}


def _timings(
    plan: _Plan, result: Any, simulate_wall: float, device_times: Any
) -> dict[str, float]:
    timings: dict[str, float] = {
        "simulated_seconds": float(result.simulated_seconds) or float(result.t_stop),
        "simulate_wall_seconds": simulate_wall,
        "synaptic_events": int(result.synaptic_events),
    }
    if plan.device == "cpp_standalone" and device_times is not None:
        # where the simulation's wall time went: compiling, and the compiled program
        timings["compile_seconds"] = device_times.compile_seconds
        timings["binary_seconds"] = device_times.binary_seconds
    return timings


def _compared(
    plan: _Plan,
    seed: int,
    result: Any,
    twin_output: Any,
    simulate_wall: float,
    device_times: Any,
) -> RunRecord:
    """The seed's record: the comparison's metrics and the simulation's timings."""
    return RunRecord(
        circuit=plan.circuit.name,
        seed=seed,
        device=plan.device,
        params=plan.params,
        metrics=_compare(plan.circuit, result, twin_output),
        timings=_timings(plan, result, simulate_wall, device_times),
        out=plan.outs.get(seed),
        result=result if plan.keep else None,
        twin_output=twin_output if plan.keep else None,
    )


def _metrics_only(plan: _Plan) -> Iterator[RunRecord]:
    """No outputs: simulation, twin and comparison in this process, one after the other.

    Several seeds come from the circuit's ``simulate_many`` or ``simulate_seeds`` hook
    where it has one, on any device (as :func:`simulations`).
    """
    hook = any(hasattr(plan.circuit.module, h) for h in ("simulate_seeds", "simulate_many"))
    if not plan.single and hook and not any(plan.trainings.values()):
        results: Iterator[Any] | None = simulations(
            plan.circuit, plan.params, plan.seeds, plan.device, plan.progress
        )
    else:
        results = None
    t_seed = plan.t_begin
    try:
        for seed in plan.seeds:
            if results is not None:
                result = next(results)
                simulate_wall, device_times = float(result.wall_seconds), None
            else:
                result, simulate_wall, device_times = _simulate(plan, seed)
            twin_output = _twin_of(plan.circuit, plan.params, seed)
            record = _compared(plan, seed, result, twin_output, simulate_wall, device_times)
            record.timings["wall_seconds"] = time.perf_counter() - t_seed
            t_seed = time.perf_counter()
            yield record
    finally:
        if results is not None:
            results.close()


class _Pending:
    """A run's outputs in their temporary directory, until :meth:`finish` moves them.

    ``data_task``, if set, is still writing the data files there.
    """

    def __init__(self, plan: _Plan, seed: int) -> None:
        self.out = plan.outs[seed]
        self.force = plan.force
        self.created = plan.created
        parent = self.out.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{self.out.resolve().name or 'out'}.tmp-"
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.record: RunRecord | None = None
        self.data_task: Any = None

    def finish(self, t_begin: float) -> RunRecord:
        """Wait for the data files, write metrics.json, move every file into ``out``."""
        assert self.record is not None
        try:
            if self.data_task is not None:
                self.data_task.wait()
                self.data_task = None
            self.record.timings["wall_seconds"] = time.perf_counter() - t_begin
            write_json(self.tmp / "metrics.json", self.record.to_json())
            produced = _ordered_files(self.tmp)
            _check_output(self.out, produced, self.force, _PYTHON_NAMES)
            self.out.mkdir(parents=True, exist_ok=True)
            for rel in produced:
                dest = self.out / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.tmp / rel, dest)
        except BaseException:
            self.abort()
            raise
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.record.files = produced
        logger.debug("%s: files in place in %s", self.record.circuit, self.out)
        return self.record

    def abort(self) -> None:
        """Stop the data files' task, remove the temporary directory (and empty ones made)."""
        if self.data_task is not None:
            self.data_task.cancel()
            self.data_task = None
        shutil.rmtree(self.tmp, ignore_errors=True)
        _remove_empty(self.created)


def _run_into(plan: _Plan, seed: int, t_begin: float) -> RunRecord:
    """One seed's outputs, written into a temporary directory and then moved into place."""
    pending = _Pending(plan, seed)
    try:
        pending.record, _ = _produce(plan, seed, pending.tmp)
    except BaseException:
        pending.abort()
        raise
    return pending.finish(t_begin)


def _series(plan: _Plan) -> Iterator[RunRecord]:
    """Several seeds of a program compiled once: three streams of work overlap.

    The compiled program simulates the next seeds (in a thread waiting for them); this
    process draws a seed's figures while one worker process, forked once, writes the
    previous seed's data files; a seed's files move into place when its data files are
    written. Each seed's wall time runs from the previous seed's files being in place to
    its own.
    """
    from spikingml._background import Prefetch, Worker

    _import_writers()  # before the working directory may change
    # one child writes every seed's data files, forked before any thread starts
    worker = Worker()
    results = Prefetch(
        simulations(plan.circuit, plan.params, plan.seeds, plan.device, plan.progress)
    )
    t_seed = plan.t_begin  # the first seed's time counts from the start, like a single run
    previous: tuple[int, _Pending] | None = None
    current: _Pending | None = None
    done: list[RunRecord] = []

    def finish_previous() -> None:
        nonlocal previous, t_seed
        if previous is None:
            return
        seed, pending = previous
        previous = None
        done.append(pending.finish(t_seed))
        logger.info("seed %d: files in %s", seed, pending.out)
        t_seed = time.perf_counter()

    try:
        for seed in plan.seeds:
            logger.info("seed %d -> %s", seed, plan.outs[seed])
            current = _Pending(plan, seed)
            current.record, current.data_task = _produce(
                plan,
                seed,
                current.tmp,
                results=results,
                worker=worker,
                before_data=finish_previous,
            )
            previous, current = (seed, current), None
            yield from done
            done.clear()
        finish_previous()
        yield from done
    except BaseException:
        for pending in (current, previous[1] if previous else None):
            if pending is not None:
                pending.abort()
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


def _produce(
    plan: _Plan,
    seed: int,
    tmp: Path,
    results: Iterator[Any] | None = None,
    worker: Worker | None = None,
    before_data: Any = None,
) -> tuple[RunRecord, Any]:
    """Run simulation, twin and comparison; write every output but metrics.json to ``tmp``.

    ``results``, if given, yields the simulation of this seed (a compiled-once series).
    By default a forked child writes the data files while this process draws the
    figures, and both are done on return. With ``worker`` (a series of seeds) the
    figures are drawn first, then ``before_data()`` is called (it waits for the previous
    seed's data files), then ``worker`` starts on this seed's data files, which may
    still be being written on return.

    Returns
    -------
    tuple
        The seed's record (without ``wall_seconds`` and files), and the task writing
        the data files (``None`` once they are written).
    """
    from spikingml._background import Background
    from spikingml.plotting import raster, save_figure

    circ = plan.circuit
    # In a compiled-once series the twin runs here while the compiled program simulates
    # this seed; otherwise in a forked child while the circuit simulates in this process.
    twin_task = None if results is not None else Background(_twin_of, circ, plan.params, seed)
    try:
        if results is not None:
            twin_output = _twin_of(circ, plan.params, seed)
            result = next(results)
            if result.seed != seed:  # pragma: no cover - the caller's bug
                raise RuntimeError(f"expected the result of seed {seed}, got {result.seed}")
            # its own simulation (the first's includes compiling), not the wait for it
            simulate_wall, device_times = float(result.wall_seconds), None
        else:
            result, simulate_wall, device_times = _simulate(plan, seed)
        logger.info("simulation done in %.1f s; waiting for the twin", simulate_wall)
    except BaseException:
        if twin_task is not None:
            twin_task.cancel()
        raise
    if twin_task is not None:
        twin_output = twin_task.wait()
    logger.info("comparing")
    record = _compared(plan, seed, result, twin_output, simulate_wall, device_times)

    logger.info("writing %s and figures", " and ".join(plan.data_files))
    write_json(tmp / "params.json", plan.params.to_dict())
    data_args = (result, tmp, tuple(plan.data_files))

    def draw() -> None:
        ax_raster, _ = raster(result, **circ.raster_options(result))
        ax_raster.set_title(f"{circ.name} (seed {seed})", loc="right", fontsize=9, y=1.0)
        save_figure(ax_raster.figure, tmp / "raster.png")
        circ.figures(result, twin_output, tmp)

    if worker is None:
        # the data files are written by a forked child while this process draws
        data_task = Background(_write_data, *data_args)
        try:
            draw()
        except BaseException:
            data_task.cancel()
            raise
        data_task.wait()
        return record, None
    # the worker is still writing the previous seed's data files meanwhile
    draw()
    if before_data is not None:
        before_data()
    return record, worker.submit(_write_data, *data_args)


def _write_data(result: Any, directory: Path, data_files: Sequence[str]) -> None:
    """Write ``data.nix`` and/or ``data.nwb`` of a run into ``directory``."""
    from spikingml.export import write_nix, write_nwb

    writers = {"data.nix": write_nix, "data.nwb": write_nwb}
    for name in data_files:
        writers[name](result, directory / name)


def _ordered_files(directory: Path) -> list[str]:
    """Files under ``directory`` as relative POSIX paths, standard outputs first."""
    found = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))
    found = [rel for rel in found if (directory / rel).is_file()]
    first = [name for name in OUTPUT_FILES if name in found]
    return first + [rel for rel in found if rel not in first]


# -- first runs --------------------------------------------------------------------------


def _warm_marker(name: str, device: str) -> Path:
    from spikingml import __version__

    try:
        from importlib.metadata import version

        brian = version("brian2")
    except Exception:  # noqa: BLE001 - no metadata: one marker for all versions
        brian = "unknown"
    root = os.environ.get("SPIKINGML_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "spikingml",
    )
    return Path(root) / "ran" / f"{name}-{device}-brian2-{brian}-spikingml-{__version__}"


def _say_if_cold(name: str, device: str) -> None:
    """On a circuit's first run on this machine, say that compiling takes a while."""
    try:
        if _warm_marker(name, device).exists():
            return
    except OSError:
        return
    logger.info(
        "first run of %s on %s here: %s; later runs reuse the compiled code",
        name,
        device,
        _COMPILE_NOTE.get(device, "Brian2 is compiling generated code"),
    )


def _mark_warm(name: str, device: str) -> None:
    try:
        marker = _warm_marker(name, device)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only cache: the note is said again next time, nothing lost
        pass
