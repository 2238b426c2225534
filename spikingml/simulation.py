"""Shared plumbing for running Brian2 networks: devices, seeds, progress, versions.

Circuits build an explicit :class:`brian2.Network` inside :func:`brian_device`, which
selects the runtime (Cython, falling back to NumPy) or ``cpp_standalone`` device and
restores Brian2's global state afterwards, so runs with different devices can follow
each other in one process.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import brian2
import numpy as np
from jinja2 import pass_environment as jinja2_pass_environment

from spikingml._checks import DEVICES, MAX_SEED, check_device, check_seed
from spikingml._files import atomic_path
from spikingml.errors import ValidationError

__all__ = [
    "build_key",
    "DEVICES",
    "MAX_SEED",
    "available_cores",
    "DeviceTimes",
    "SynapticEventCounter",
    "brian_device",
    "check_device",
    "check_seed",
    "circuit_device",
    "Program",
    "compiled_runs",
    "constant_args",
    "constants_equations",
    "run_network",
    "set_constants",
    "simulate_many",
    "stable_build_order",
    "build_program",
    "versions",
    "progress_reporter",
    "record_device_times",
    "remove_run_args_files",
    "rerun_standalone",
    "standalone_build_directory",
    "standalone_compile_args",
    "share_private_cython_cache",
    "use_private_cython_cache",
]

#: Environment variable naming a Cython cache directory that :func:`brian_device` gives
#: Brian2 instead of its shared default (set by :func:`use_private_cython_cache`).
CYTHON_CACHE_ENV = "SPIKINGML_CYTHON_CACHE"

#: Environment variable: ``1`` compiles generated code without optimisation (``-O0``),
#: about twice as fast to compile and slower to run; for test suites, where most code is
#: compiled once and run for a fraction of a second. Such code is kept apart (its own
#: Cython cache and standalone build directories), never mixed with optimised code.
FAST_COMPILE_ENV = "SPIKINGML_FAST_COMPILE"


def _fast_compile() -> bool:
    return os.environ.get(FAST_COMPILE_ENV, "") == "1"


#: GCC gives up vectorising a loop that would need more than 10 run-time checks that its
#: arrays do not overlap. Brian2's state updates read and write a dozen arrays through
#: pointers GCC cannot prove distinct, so most are never vectorised; with this limit
#: raised they are (td-conditioning's program: 1.7 -> 1.3 s). The loops compute the same
#: operations per element either way.
_GCC_VECTORISE = "--param=vect-max-version-for-alias-checks=64"


@functools.cache
def _compiler_is_gcc(compiler: str) -> bool:
    """Whether ``compiler`` (a command) is GCC, which alone knows ``--param=...``."""
    try:
        out = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Free Software Foundation" in out and "clang" not in out.lower()


def standalone_compile_args() -> list[str]:
    """Compiler arguments of ``cpp_standalone`` programs, as :func:`brian_device` sets them.

    Brian2's defaults (``-O3 -ffast-math -march=native ...``); with GCC, a higher limit
    on the overlap checks it may add to vectorise a loop (see ``_GCC_VECTORISE``). With
    ``SPIKINGML_FAST_COMPILE=1``, ``-w -O0``.
    """
    if _fast_compile():
        return ["-w", "-O0"]
    # Brian2's default, whatever the current value of the preference
    args = list(brian2.prefs.pref_register["codegen.cpp"][0]["extra_compile_args_gcc"].default)
    if _compiler_is_gcc(os.environ.get("CXX", "g++")):
        args.append(_GCC_VECTORISE)
    return args


def versions() -> dict[str, str]:
    """Versions of the software that produced a result."""
    from spikingml import __version__

    return {
        "spikingml": __version__,
        "brian2": brian2.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


#: Environment variable choosing the code generation target of the ``runtime`` device:
#: ``cython`` (the default: compiled once per code object, fast to run) or ``numpy``
#: (nothing compiled, slower per time step: the test suite's short runs).
RUNTIME_TARGET_ENV = "SPIKINGML_RUNTIME_TARGET"


def _runtime_target() -> str:
    target = os.environ.get(RUNTIME_TARGET_ENV, "")
    if target:
        if target not in ("cython", "numpy"):
            raise ValidationError(RUNTIME_TARGET_ENV, "'cython' or 'numpy'", target)
        return target
    try:
        import Cython  # noqa: F401
    except ImportError:  # pragma: no cover - Cython is a dependency
        return "numpy"
    return "cython"


_log = logging.getLogger(__name__)

#: Environment variable: ``0`` keeps ``cpp_standalone`` builds from using ccache even
#: where it is installed.
CCACHE_ENV = "SPIKINGML_CCACHE"


def _compiler_cache() -> str | None:
    """ccache's path where it is installed (and not turned off by ``SPIKINGML_CCACHE=0``).

    A persistent build directory (:func:`standalone_build_directory`) already compiles
    only what changed; ccache also serves an unchanged source file compiled in another
    directory (another structure of the same circuit, a parallel slot, a cleared cache).
    """
    if os.environ.get(CCACHE_ENV, "") == "0":
        return None
    return shutil.which("ccache")


def case_sensitive_template_sort() -> int:
    """Make the ``sort`` filter of Brian2's code templates case-sensitive.

    Jinja2's ``sort`` ignores case by default, so two variables whose names differ only
    in case (the short-term plasticity rule's ``U`` and ``u``) compare equal and keep
    the order they came in, which is a Python set's: it changes from one process to the
    next. The generated source then changes too (the order of two lines), and a kept
    build directory compiled that code object again at every run; under Cython, a new
    module. With a case-sensitive sort the code is the same in every process. Applied to
    the templates of every code object class Brian2 has loaded; calling it again does
    nothing more.

    Returns
    -------
    int
        The number of template environments changed by this call.
    """
    from brian2.codegen.codeobject import CodeObject

    changed = 0
    classes, seen = [CodeObject], set()
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        env = getattr(getattr(cls, "templater", None), "env", None)
        if env is None or id(env) in seen:
            continue
        seen.add(id(env))
        if env.filters.get("sort") is not _case_sensitive_sort:
            env.filters["sort"] = _case_sensitive_sort
            changed += 1
    return changed


@jinja2_pass_environment
def _case_sensitive_sort(
    environment: Any,
    value: Any,
    reverse: bool = False,
    case_sensitive: bool = True,
    attribute: Any = None,
) -> list[Any]:
    """Jinja2's ``sort`` filter, case-sensitive unless asked otherwise."""
    import jinja2.filters

    return jinja2.filters.do_sort(environment, value, reverse, case_sensitive, attribute)


@contextlib.contextmanager
def brian_device(
    device: str, seed: int, directory: str | None = None, build_on_run: bool = True
) -> Iterator[str]:
    """Select a Brian2 device and seed for the duration of a ``with`` block.

    Parameters
    ----------
    device : {"runtime", "cpp_standalone"}
        ``runtime`` generates Cython code (compiled once, cached in the user's cache
        directory); ``cpp_standalone`` compiles the whole network into one program.
    seed : int
        Seeds NumPy and Brian2's generated code, so every random draw is reproducible.
    directory : str, optional
        Build directory for ``cpp_standalone`` (a temporary one by default, removed
        afterwards).
    build_on_run : bool
        ``cpp_standalone`` only: if true (default), the first ``run`` builds, compiles and
        runs the program. If false, the caller builds it once with
        ``brian2.device.build(run=False, directory=brian2.device.project_dir)`` and runs
        it as often as needed with ``brian2.device.run(run_args=...)``, new initial
        values and ``TimedArray`` contents each time, without recompiling.

    Yields
    ------
    str
        The device name.
    """
    check_device(device)
    # circuits set defaultclock.dt; it is put back afterwards, so code run later in the
    # same process (another circuit, a test) sees the dt it expects
    saved_dt = brian2.defaultclock.dt_
    brian2.device.reinit()
    brian2.device.activate()
    brian2.prefs.reset_to_defaults()
    brian2.prefs.codegen.target = _runtime_target()
    private_cache = os.environ.get(CYTHON_CACHE_ENV)
    if _fast_compile():
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = standalone_compile_args()
        # Brian2's cache key ignores compiler flags: unoptimised modules get a cache of
        # their own, so they never stand in for optimised ones
        private_cache = os.path.join(private_cache or _cache_root(), "cython-O0")
    if private_cache:
        brian2.prefs.codegen.runtime.cython.cache_dir = private_cache
    brian2.prefs.logging.std_redirection = False
    brian2.BrianLogger.suppress_name("resolution_conflict")
    # standalone cannot check StateMonitor indices into synapses made by connect() before
    # the run; circuits compute those indices from the connection pattern themselves
    brian2.BrianLogger.suppress_name("cannot_check_statemonitor_indices")
    made_dir = None
    # Brian2 names objects uniquely among the living ones ("..._clock_1" while an earlier
    # network's objects, held in reference cycles, are not yet collected): a new name is
    # new code, compiled again (a Cython module; a source file of a persistent build)
    gc.collect()
    case_sensitive_template_sort()
    if device == "cpp_standalone":
        if directory is None:
            made_dir = directory = tempfile.mkdtemp(prefix="spikingml-standalone-")
        # with_output=False keeps the program's output off the terminal, make's -s the
        # compiler command lines (g++ already runs with -w; errors still show)
        brian2.set_device(
            "cpp_standalone",
            directory=directory,
            build_on_run=build_on_run,
            with_output=False,
        )
        brian2.prefs.devices.cpp_standalone.openmp_threads = 0
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = standalone_compile_args()
        # Brian2's default "-j" starts every compiler job at once (dozens); one per core
        # is as fast and keeps parallel runs from swamping the machine
        make_args = [
            f"-j{os.cpu_count() or 1}" if arg == "-j" else arg
            for arg in brian2.prefs.devices.cpp_standalone.extra_make_args_unix
        ]
        launcher = _compiler_cache()
        if launcher is not None:  # compiled objects shared by every build directory
            cxx = os.environ.get("CXX", "g++")
            make_args.append(shlex.quote(f"CXX={launcher} {cxx}"))
        brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [*make_args, "-s"]
        _time_device_methods(brian2.get_device())
    brian2.seed(seed)
    try:
        yield device
    finally:
        brian2.defaultclock.dt_ = saved_dt
        if device == "cpp_standalone":
            _untime_device_methods(brian2.get_device())
            brian2.device.reinit()
            brian2.device.activate()
            brian2.set_device("runtime")
            if made_dir is not None:
                shutil.rmtree(made_dir, ignore_errors=True)


@dataclass
class DeviceTimes:
    """Where the time of ``cpp_standalone`` runs went (see :func:`record_device_times`).

    Attributes
    ----------
    compile_seconds : float
        Wall seconds spent compiling the generated C++ program (``make``).
    binary_seconds : float
        Wall seconds spent in the compiled program (all its runs), including the
        writing of ``run_args`` files. Code generation and reading results back are in
        neither: they are the rest of a run's wall time.
    compilations : int
        Builds whose ``make`` produced a new program (some source had changed); a build
        in a persistent directory whose sources are all unchanged compiles nothing and
        does not count.
    """

    compile_seconds: float = 0.0
    binary_seconds: float = 0.0
    compilations: int = 0


_RECORDERS: list[DeviceTimes] = []


@contextlib.contextmanager
def record_device_times() -> Iterator[DeviceTimes]:
    """Add up compile and run times of every ``cpp_standalone`` build inside the block.

    Yields
    ------
    DeviceTimes
        Filled in as :func:`brian_device` blocks inside this one compile and run
        programs; zero for the runtime device (whose Cython compilation happens inside
        ``Network.run`` and is cached, see :mod:`spikingml.sweep`).

    Examples
    --------
    >>> with record_device_times() as times:  # doctest: +SKIP
    ...     result = td_conditioning.simulate(params, device="cpp_standalone")
    >>> times.compile_seconds, times.binary_seconds  # doctest: +SKIP
    (41.2, 3.1)
    """
    times = DeviceTimes()
    _RECORDERS.append(times)
    try:
        yield times
    finally:
        _RECORDERS.remove(times)


#: Brian2 versions (major, minor) whose ``cpp_standalone`` device internals (members and
#: who calls them) :func:`_time_device_methods` and :func:`rerun_standalone` rely on;
#: pyproject.toml bounds Brian2 to them.
_BRIAN2_TESTED: tuple[tuple[int, int], ...] = ((2, 9),)

#: What :func:`_device_internals` has already warned about.
_INTERNALS_WARNED: set[str] = set()


def _device_internals(dev, names: Iterable[str], without: str) -> bool:
    """Whether Brian2 is a tested version and ``dev`` has every member in ``names``.

    If not, logs a warning (once per process for each ``without``, the text saying what
    is done instead) and returns False: the caller then takes Brian2's public path.
    """
    import logging
    import re

    version = tuple(int(part) for part in re.findall(r"\d+", brian2.__version__)[:2])
    missing = [name for name in names if not hasattr(dev, name)]
    if version in _BRIAN2_TESTED and not missing:
        return True
    if without not in _INTERNALS_WARNED:
        _INTERNALS_WARNED.add(without)
        if missing:
            why = f"Brian2 {brian2.__version__}'s {type(dev).__name__} lacks {', '.join(missing)}"
        else:
            tested = ", ".join(f"{major}.{minor}" for major, minor in _BRIAN2_TESTED)
            why = f"Brian2 {brian2.__version__} is not a version tested here ({tested})"
        logging.getLogger(__name__).warning("%s: %s", why, without)
    return False


def _time_device_methods(dev) -> None:
    """Wrap a standalone device's ``compile_source`` and ``run`` to time them.

    The wrappers are instance attributes, so ``device.build`` (which calls them through
    ``self``) is timed too; :func:`_untime_device_methods` removes them. Under a Brian2
    whose device may work otherwise (see :func:`_device_internals`) nothing is wrapped
    and a warning is logged: compile and binary times then stay zero.
    """
    if not _device_internals(
        dev,
        ("compile_source", "run"),
        "compile and binary times of cpp_standalone runs are not recorded",
    ):
        return

    def timed(method, field_name: str):
        def call(*args, **kwargs):
            t0 = time.perf_counter()
            binary = os.path.join(str(getattr(dev, "project_dir", "")), "main")
            before = _mtime(binary) if field_name == "compile_seconds" else None
            try:
                return method(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                compiled = field_name == "compile_seconds" and _mtime(binary) != before
                for times in _RECORDERS:
                    setattr(times, field_name, getattr(times, field_name) + elapsed)
                    times.compilations += int(compiled)

        return call

    dev.compile_source = timed(dev.compile_source, "compile_seconds")
    dev.run = timed(dev.run, "binary_seconds")


def _mtime(path: str) -> int | None:
    """Modification time of ``path`` in nanoseconds (``None`` if it does not exist)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _untime_device_methods(dev) -> None:
    for name in ("compile_source", "run"):
        with contextlib.suppress(AttributeError):
            delattr(dev, name)


class SynapticEventCounter:
    """Count synaptic events: spikes delivered through the synapses of a network.

    One event is one spike arriving at one synapse through one pathway: a presynaptic
    spike of a neuron with ``k`` outgoing synapses is ``k`` events of the ``pre``
    pathway, and a postsynaptic spike of a neuron with ``k`` incoming synapses is ``k``
    events of a ``post`` pathway (plasticity). The benchmarks divide the total by the
    wall time: synaptic events per second.

    The counts come from a monitor of the network that already counts the events a
    pathway listens to: a :class:`brian2.SpikeMonitor` or :class:`brian2.EventMonitor`
    on the pathway's source group (or on the whole group a subgroup belongs to), for
    the same event, active for the whole run. Where there is none, the counter adds an
    :class:`brian2.EventMonitor` (``record=False``: counts only). Every added monitor
    costs a code object per time step (a few percent of a small network's run), hence
    the reuse. Create the counter after the network's synapses and monitors and before
    its run; read :meth:`total` after the run (under ``cpp_standalone`` with
    ``build_on_run=False``: after ``device.run``). A monitor that is switched off
    (``active = False``) for part of a run would undercount: name the monitors that
    may be reused (``reuse=[...]``) to leave such a monitor out.

    Parameters
    ----------
    net : brian2.Network
        The network, complete with its ``Synapses`` and monitors.
    reuse : bool or iterable of brian2.EventMonitor
        Count with the network's own monitors where they count the same events: any of
        them (``True``), none (``False``) or only those given (each must be active for
        the whole run).
    """

    def __init__(
        self, net: brian2.Network, reuse: bool | Iterable[brian2.EventMonitor] = True
    ) -> None:
        # keyed by the group's name (Brian2 holds groups through weak proxies: no id())
        monitors: dict[tuple[str, str], tuple[brian2.EventMonitor, int]] = {}
        if reuse is True:
            reuse = [obj for obj in net.objects if isinstance(obj, brian2.EventMonitor)]
        for obj in reuse or ():
            monitors.setdefault((obj.source.name, obj.event), (obj, 0))
        self._pathways: list[tuple[brian2.Synapses, str, brian2.EventMonitor, int]] = []
        synapses = [obj for obj in net.objects if isinstance(obj, brian2.Synapses)]
        added = 0
        for obj in sorted(synapses, key=lambda syn: syn.name):
            for pathway in obj._pathways:
                key = (pathway.source.name, pathway.event)
                parent = getattr(pathway.source, "source", None)  # of a Subgroup
                if key not in monitors and parent is not None:
                    whole = monitors.get((parent.name, pathway.event))
                    if whole is not None:  # its counts, offset by the subgroup's start
                        monitors[key] = (whole[0], whole[1] + int(pathway.source.start))
                if key not in monitors:
                    # a fixed name: Brian2's generated code (and so its Cython cache key)
                    # holds the names of the arrays, so an automatic name (eventmonitor_7)
                    # would compile anew each time a network is rebuilt in one process
                    monitor = brian2.EventMonitor(
                        pathway.source,
                        pathway.event,
                        variables=[],
                        record=False,
                        name=f"synaptic_event_count_{added}",
                    )
                    added += 1
                    net.add(monitor)
                    monitors[key] = (monitor, 0)
                self._pathways.append((obj, pathway.prepost, *monitors[key]))

    def total(self) -> int:
        """Synaptic events delivered so far (every pathway of every ``Synapses``)."""
        events = 0
        for synapses, prepost, monitor, offset in self._pathways:
            count = np.asarray(monitor.count[:])
            # the synapse's neuron on the pathway's side, indexed within its group
            index = np.asarray(synapses.i[:] if prepost == "pre" else synapses.j[:])
            events += int(count[index + offset].sum()) if index.size else 0
        return events


def available_cores() -> int:
    """CPU cores this process may run on (its affinity where the system reports it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(os.cpu_count() or 1, 1)


def rerun_standalone(
    runs: Iterable[Mapping[Any, Any]],
    jobs: int | None = None,
    allow_first: bool = False,
    progress: Callable[[int, str], None] | None = None,
    progress_period: float = 10.0,
) -> Iterator[int]:
    """Run the built ``cpp_standalone`` program again, once per set of run arguments.

    What ``brian2.device.run(run_args=...)`` does, for several runs at once: up to
    ``jobs`` processes of the compiled program run side by side, each writing into a
    results directory of its own inside the project directory. The runs are yielded in
    order: when run ``k`` (its index) is yielded, it has finished and the device reads
    its results (``group.variable[:]``, monitors), exactly as after ``device.run``; the
    directory is removed when the next run is asked for. The program must have been
    built and run once by ``device.run`` (the usual first run, which also checks it),
    unless ``allow_first`` is true: then it may only have been built
    (``device.build(run=False)``) and these are its first runs.

    This uses members of Brian2's device that are not its public API. Under a Brian2
    where they may differ (see :func:`_device_internals`), a warning is logged and the
    runs are made one after another by ``device.run`` itself, with the same results.

    Parameters
    ----------
    runs : iterable of mappings
        For each run, its ``run_args``: ``{group.variable: values}``, as for
        ``brian2.device.run``.
    jobs : int, optional
        Programs running at once (default: the cores this process may use). Each is a
        single-threaded process.
    allow_first : bool
        Accept a program that was built but never run (see above).
    progress : callable, optional
        Called every ``progress_period`` seconds while programs run, as ``progress(k,
        line)`` for each running program ``k`` with the last line of its output (the
        program's own progress report where it was built with ``report="stderr"``; an
        empty string while it has printed nothing).
        Not called where the reruns fall back to ``device.run``.
    progress_period : float
        Seconds between two calls of ``progress``.

    Yields
    ------
    int
        The index of the run whose results the device now reads.

    Raises
    ------
    RuntimeError
        If a run of the program fails (with its output).
    """
    device = brian2.get_device()
    if not getattr(device, "has_been_run", False) and not allow_first:
        raise RuntimeError("rerun_standalone: build and run the program once first")
    jobs = available_cores() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValidationError("jobs", "an integer >= 1", jobs)
    if not _device_internals(
        device,
        (
            "_prepare_variableview_run_arg",
            "results_dir",
            "array_cache",
            "clocks",
            "run_environment_variables",
        ),
        "standalone reruns run one at a time, by device.run",
    ):
        for k, run_args in enumerate(runs):
            device.run(run_args=run_args, with_output=False)
            remove_run_args_files()
            yield k
        return
    project = os.path.abspath(device.project_dir)
    env = dict(os.environ)
    env.update(brian2.prefs["devices.cpp_standalone.run_environment_variables"])
    env.update(device.run_environment_variables)
    command = brian2.prefs.devices.cpp_standalone.run_cmd_unix
    command = [command] if isinstance(command, str) else list(command)
    pending = list(enumerate(runs))
    running: dict[int, tuple[subprocess.Popen, str, list[str]]] = {}
    variables = {}

    def start(k: int, run_args: Mapping[Any, Any]) -> None:
        arguments, files = [], []
        for key, value in run_args.items():
            name, text, file_name, array = device._prepare_variableview_run_arg(key, value)
            variables[name] = key.variable
            if file_name:
                path = os.path.join(project, "static_arrays", file_name)
                if not os.path.exists(path):
                    array.tofile(path)
                files.append(path)
            arguments.append(f"{name}={text}")
        results = os.path.join(project, f"results-rerun-{k}", "")
        shutil.rmtree(results, ignore_errors=True)
        os.makedirs(results)
        stdout = open(os.path.join(results, "stdout.txt"), "w")
        proc = subprocess.Popen(
            [*command, "--results_dir", results, *arguments],
            cwd=project,
            env=env,
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )
        stdout.close()
        running[k] = (proc, results, files)

    def stop_all() -> None:
        for proc, results, _files in running.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            shutil.rmtree(results, ignore_errors=True)

    def record(since: float) -> float:
        # the programs' wall time counts as binary time (record_device_times), the
        # caller's time between two yields does not
        elapsed = time.perf_counter() - since
        for times in _RECORDERS:
            times.binary_seconds += elapsed
        return elapsed

    original = device.results_dir
    previous: str | None = None
    resumed = time.perf_counter()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                k, run_args = pending.pop(0)
                start(k, run_args)
            k = min(running)
            proc, results, files = running[k]
            status = _wait(proc, running, progress, progress_period)
            del running[k]
            for path in files:
                if not any(path in other[2] for other in running.values()):
                    with contextlib.suppress(OSError):
                        os.remove(path)
            if status:
                with open(os.path.join(results, "stdout.txt")) as f:
                    output = f.read()
                shutil.rmtree(results, ignore_errors=True)
                raise RuntimeError(
                    f"run {k} of the standalone program failed (status {status}):\n{output}"
                )
            if previous is not None:
                shutil.rmtree(previous, ignore_errors=True)
            device.results_dir = results
            device.has_been_run = True  # the device now reads results (allow_first)
            for var in variables.values():
                device.array_cache[var] = None
            for clock in device.clocks:
                device.array_cache[clock.variables["t"]] = None
            info = os.path.join(results, "last_run_info.txt")
            if os.path.isfile(info):
                with open(info) as f:
                    run_time, fraction = f.read().split()
                device._last_run_time = float(run_time)
                device._last_run_completed_fraction = float(fraction)
            previous = results
            record(resumed)
            yield k
            resumed = time.perf_counter()
    finally:
        stop_all()
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        device.results_dir = original


def _wait(
    proc: subprocess.Popen,
    running: Mapping[int, tuple[subprocess.Popen, str, list[str]]],
    progress: Callable[[int, str], None] | None,
    period: float,
) -> int:
    """Wait for ``proc``; meanwhile report the last output line of every running one."""
    if progress is None:
        return proc.wait()
    while True:
        try:
            return proc.wait(timeout=period)
        except subprocess.TimeoutExpired:
            for k, (_proc, results, _files) in sorted(running.items()):
                with contextlib.suppress(OSError):
                    with open(os.path.join(results, "stdout.txt")) as f:
                        lines = [line.strip() for line in f.read().splitlines() if line.strip()]
                    progress(k, lines[-1] if lines else "")


def remove_run_args_files() -> int:
    """Remove the files of array run arguments that the last ``device.run`` wrote.

    ``brian2.device.run(run_args=...)`` writes every array it is given into the project's
    ``static_arrays`` directory, under a name made from the array's hash, with a lock
    file beside it (taken while writing), and keeps both. In a persistent build
    directory, run again and again with new inputs, they would pile up; call this after
    each run. The program's own static arrays are left alone.

    Returns
    -------
    int
        The number of files removed (an array's file and its lock count apart).
    """
    device = brian2.get_device()
    static = os.path.join(device.project_dir, "static_arrays")
    removed = 0
    for name in getattr(device, "run_args_arrays", ()):
        for suffix in ("", ".lock"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(static, name + suffix))
                removed += 1
    return removed


def _cache_root() -> str:
    root = os.environ.get("SPIKINGML_CACHE")
    if root:
        return root
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "spikingml")


def build_key(name: str, params: Any) -> str:
    """Name of the persistent build directory of circuit ``name``'s program for ``params``.

    ``name`` followed by the first 12 hex digits of the SHA-1 of the parameters'
    structure (:meth:`spikingml.params.CircuitParams.structure`: run-time fields at their
    defaults) as sorted JSON: one directory per structure, shared by every seed and every
    value of the run-time fields (:func:`standalone_build_directory`).
    """
    structure = params.structure() if hasattr(params, "structure") else params
    text = json.dumps(structure.to_dict(), sort_keys=True, default=str)
    return f"{name}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


def _unit_text(value: Any) -> str:
    """The unit of ``value`` as Brian2's equations write it (``1`` if dimensionless)."""
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

    dims = get_dimensions(value)
    return "1" if dims is DIMENSIONLESS else dims._str_representation(python_code=True)


def constants_equations(values: Mapping[str, Any]) -> str:
    """Equation lines that declare each of ``values`` a shared constant of a group.

    A constant of the equations taken from a run-time field
    (:func:`spikingml.params.param`) must not be in the generated code, where the
    ``cpp_standalone`` device writes the namespace's constants: declared as a shared
    variable (``name : unit (shared, constant)``) of every group whose code uses it, it
    is a value the compiled program reads at the start of a run, which
    ``brian2.device.run(run_args=...)`` sets (:func:`constant_args`). Under the runtime
    device the code is the same for every value, so nothing is generated or compiled
    again either.

    Parameters
    ----------
    values : mapping of str to quantity or float
        Name in the equations -> value (its dimension gives the declared unit).

    Returns
    -------
    str
        One line per name, each starting with a newline; append it to the group's model.
    """
    # a newline first: the equations it is appended to may not end in one
    return "".join(f"\n{n} : {_unit_text(v)} (shared, constant)" for n, v in values.items())


def _constant_views(objects: Iterable[Any], names: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """``(name, VariableView)`` of every shared constant among ``names`` in ``objects``."""
    names = list(names)
    for obj in objects:
        variables = getattr(obj, "variables", None)
        if variables is None:
            continue
        for name in names:
            var = variables[name] if name in variables else None
            owner = getattr(getattr(var, "owner", None), "name", None)
            if var is not None and owner == obj.name and getattr(var, "scalar", False):
                yield name, getattr(obj, name)


def set_constants(objects: Iterable[Any], values: Mapping[str, Any]) -> int:
    """Give the shared constants of :func:`constants_equations` their values.

    Parameters
    ----------
    objects : iterable of Brian2 groups
        The circuit's groups and synapses (a ``brian2.Network`` or a list); every one
        that declares a shared constant named in ``values`` gets its value.
    values : mapping of str to quantity or float
        Name in the equations -> value.

    Returns
    -------
    int
        The number of variables set.

    Raises
    ------
    ValidationError
        If a name of ``values`` is declared by none of ``objects`` (a typo would
        otherwise leave a constant at zero).
    """
    found: set[str] = set()
    count = 0
    for name, view in _constant_views(_objects_of(objects), values):
        view.set_item(slice(None), values[name])
        found.add(name)
        count += 1
    missing = sorted(set(values) - found)
    if missing:
        raise ValidationError(
            "values", "names of shared constants of the network", ", ".join(missing)
        )
    return count


def constant_args(objects: Iterable[Any], values: Mapping[str, Any]) -> dict[Any, Any]:
    """``run_args`` of ``brian2.device.run`` that give the shared constants new values.

    Every shared constant named in ``values`` (:func:`constants_equations`) of every
    group in ``objects``, mapped to its value; nothing else.
    """
    return {view: values[name] for name, view in _constant_views(_objects_of(objects), values)}


def _objects_of(objects: Iterable[Any]) -> list[Any]:
    """The objects of a ``brian2.Network`` (its ``objects``) or of any iterable, by name.

    In name order: a network's objects are a set, and the order of the assignments is
    written into the program (``main.cpp``), which a new order would compile again.
    """
    found = list(getattr(objects, "objects", objects))
    return sorted(found, key=lambda obj: str(getattr(obj, "name", "")))


@dataclass(frozen=True)
class Program:
    """How :func:`compiled_runs` builds a circuit's program and runs it again.

    Attributes
    ----------
    build : callable
        ``build(params, seed) -> built``: creates every Brian2 object and *records* the
        protocol's ``run`` calls (the device does not build on run), runs nothing.
    run_args : callable
        ``run_args(built, params, seed) -> dict``: the ``run_args`` that make the program
        built by ``build`` run ``params`` and ``seed``: the run-time fields' shared
        constants (:func:`constant_args`), and the seed's draws where they are run
        arguments too.
    collect : callable
        ``collect(built, params, seed, t_wall) -> Result``: reads a finished run.
    seed_is_run_arg : bool
        Whether every random draw of a seed is among its ``run_args`` (then one program
        serves every seed; else each seed is built on its own).
    directory_of : callable, optional
        ``directory_of(structure) -> params``: the parameters whose :func:`build_key`
        names the build directory of a structure's program (default: the structure
        itself). Structures that differ only in what ``main.cpp`` holds (a protocol's
        number of runs, say) can share a directory this way: building one after another
        there compiles ``main.cpp`` again, not the code objects.
    """

    build: Callable[[Any, int], Any]
    run_args: Callable[[Any, Any, int], Mapping[Any, Any]]
    collect: Callable[[Any, Any, int, float], Any]
    seed_is_run_arg: bool = False
    directory_of: Callable[[Any], Any] | None = None


def compiled_runs(
    name: str,
    runs: Iterable[tuple[Any, int]],
    program: Program,
    jobs: int | None = None,
    fresh: bool = False,
    progress: bool = False,
) -> Iterator[Any]:
    """Run ``(params, seed)`` pairs under ``cpp_standalone``, compiling once per structure.

    Consecutive runs with the same :meth:`~spikingml.params.CircuitParams.structure`
    (and the same seed, unless ``program.seed_is_run_arg``) share one program: built
    for the structure (run-time fields at their defaults) in its persistent build
    directory (:func:`build_key`, :func:`standalone_build_directory`; a later call with
    that structure compiles nothing), then run once per pair with that pair's run
    arguments, ``jobs`` at a time (:func:`rerun_standalone`). Each result equals the
    program built for its own parameters, spike for spike (the conformance test checks).

    Parameters
    ----------
    name : str
        The circuit's name (names the build directories).
    runs : iterable of (params, seed)
        The runs, in the order of the results.
    program : Program
        The circuit's build, run arguments and collection.
    jobs : int, optional
        Programs running at once (default: the cores this process may use).
    fresh : bool
        Build every run's program from its own parameters, their values compiled into
        it (the run arguments then repeat them): what a program of one's own gives, for
        tests.
    progress : bool
        Log, every 10 s, which runs are running and for how long (with the program's last
        output line, if it printed one): :func:`standalone_progress`.

    Yields
    ------
    Result
        One per run, in order. Its ``wall_seconds`` counts from the previous result (the
        first: from the call, building and compiling included).
    """
    runs = [(params, check_seed(seed)) for params, seed in runs]
    start = 0
    while start < len(runs):
        params0, seed0 = runs[start]
        shape = params0.structure().to_dict()
        stop = start + 1
        while not fresh and stop < len(runs):
            params, seed = runs[stop]
            same_seed = program.seed_is_run_arg or seed == seed0
            if not same_seed or params.structure().to_dict() != shape:
                break
            stop += 1
        built_from = params0 if fresh else params0.structure()
        yield from _one_program(name, built_from, seed0, runs[start:stop], program, jobs, progress)
        start = stop


def simulate_many(
    name: str,
    program: Program,
    simulate: Callable[..., Any],
    runs: Iterable[tuple[Any, int]],
    device: str = "cpp_standalone",
    progress: bool = True,
    jobs: int | None = None,
    fresh: bool = False,
) -> Iterator[Any]:
    """The body of a circuit's ``simulate_many`` hook (the circuit contract).

    Under ``cpp_standalone``, :func:`compiled_runs` with the circuit's ``program``;
    under ``runtime``, ``simulate(params, seed=seed, device=device, progress=progress)``
    for each run in turn (no compilation to share; Cython caches each code object, and
    run-time fields, shared variables, leave the code unchanged).

    Parameters
    ----------
    name : str
        The circuit's name.
    program : Program
        Its build, run arguments and collection.
    simulate : callable
        Its ``simulate`` (the runtime device's path).
    runs, jobs, fresh
        As for :func:`compiled_runs`.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show the progress of each simulation.
    """
    runs = [(params, check_seed(seed)) for params, seed in runs]
    check_device(device)
    if device != "cpp_standalone":
        for params, seed in runs:
            yield simulate(params, seed=seed, device=device, progress=progress)
        return
    yield from compiled_runs(name, runs, program, jobs=jobs, fresh=fresh, progress=progress)


#: What one program serves, by ``Program.seed_is_run_arg``.
_SERVES = {
    True: ("the pairs that differ only in their seeds and run-time fields run on one program"),
    False: (
        "consecutive pairs with the same seed that differ only in their run-time fields "
        "run on one program (a seed's draws are compiled into it)"
    ),
}

_HOOK_DOC = """Simulate ``(params, seed)`` pairs of {name}, compiling one program per structure.

    Under ``cpp_standalone`` {serves}, built and compiled once in the persistent build
    directory of its structure (a later call with the same structure compiles nothing),
    and run with each pair's run arguments, ``jobs`` at a time. Each result equals a
    program compiled for the pair's own values, spike for spike (the conformance test
    checks). Under ``runtime`` the pairs are simulated one after the other.

    Parameters
    ----------
    runs : iterable of (Params, int)
        The parameters and seed of each run, in the order of the results.
    device : {{"cpp_standalone", "runtime"}}
        Brian2 device.
    progress : bool
        Show the progress of each simulation on stderr.
    jobs : int, optional
        ``cpp_standalone``: programs running at once (default: the cores this process may
        use).
    fresh : bool
        ``cpp_standalone``: compile a program for each run's own values (for tests).

    Yields
    ------
    Result
        One per run, in order, each yielded as soon as it is read. ``wall_seconds`` of
        the first run of a program includes building and compiling it.

    Notes
    -----
    The ``cpp_standalone`` device stays selected while the generator is suspended
    (between two results); run no other Brian2 simulation in this process until it is
    exhausted or closed.
    """


def simulate_many_hook(module: str, program: Program) -> Callable[..., Iterator[Any]]:
    """The contract's ``simulate_many`` hook of the circuit module named ``module``.

    The hook checks each run's parameters with the module's ``_check_params`` and runs
    them with :func:`simulate_many` (the module's ``NAME``, ``program`` and
    ``simulate``). The module is imported when the hook is first called, so a circuit's
    ``_<circuit>_runs`` module and the circuit module can import each other.

    Parameters
    ----------
    module : str
        The circuit module's dotted name, e.g. ``"spikingml.circuits.rescorla_wagner"``.
    program : Program
        Its build, run arguments and collection.

    Returns
    -------
    callable
        ``simulate_many(runs, device="cpp_standalone", progress=True, jobs=None,
        fresh=False)``, documented for the circuit.
    """
    circuit_name = module.rsplit(".", 1)[-1].replace("_", "-")

    def hook(
        runs: Iterable[tuple[Any, int]],
        device: str = "cpp_standalone",
        progress: bool = True,
        jobs: int | None = None,
        fresh: bool = False,
    ) -> Iterator[Any]:
        import importlib

        circuit = importlib.import_module(module)
        checked = [(circuit._check_params(params), seed) for params, seed in runs]
        yield from simulate_many(
            circuit.NAME, program, circuit.simulate, checked, device, progress, jobs, fresh
        )

    hook.__name__ = hook.__qualname__ = "simulate_many"
    hook.__module__ = module  # documented with the circuit, whose hook it is
    hook.__doc__ = _HOOK_DOC.format(name=circuit_name, serves=_SERVES[program.seed_is_run_arg])
    return hook


#: The entries of Brian2's standalone ``main_queue`` that assign a value to an array.
_SETTERS = ("set_by_constant", "set_by_single_value")


def stable_build_order() -> int:
    """Put the current ``cpp_standalone`` program's clock initialisations in name order.

    Brian2 initialises the clocks of a run (``timestep`` and ``t`` of each) in the order
    of a Python set, which changes from one process to the next; the order is written into
    ``main.cpp``, which a persistent build directory (:func:`standalone_build_directory`)
    then compiles again though nothing changed. The assignments are independent of each
    other, so each consecutive block of them is sorted by array name. Call it after the
    protocol's ``run`` calls, before ``brian2.device.build``.

    Returns
    -------
    int
        The number of assignments in sorted blocks (0 where Brian2's device has no such
        queue; see :func:`_device_internals`).
    """
    device = brian2.get_device()
    if not _device_internals(
        device, ("main_queue", "clocks", "get_array_name"), "clock initialisations unsorted"
    ):
        return 0
    names = set()
    for clock in device.clocks:
        for var in ("timestep", "t"):
            names.add(device.get_array_name(clock.variables[var]))
    queue = device.main_queue
    sorted_count = 0
    k = 0
    while k < len(queue):
        end = k
        while end < len(queue) and queue[end][0] in _SETTERS and queue[end][1][0] in names:
            end += 1
        if end - k > 1:
            queue[k:end] = sorted(queue[k:end], key=lambda item: item[1][0])
            sorted_count += end - k
        k = max(end, k + 1)
    return sorted_count


def build_program(name: str, directory: str, run: bool) -> float:
    """Build the recorded ``cpp_standalone`` program in ``directory``, saying what it does.

    Sorts the clock initialisations (:func:`stable_build_order`), logs how many code
    objects the program has and then whether ``make`` compiled something (and how long
    it took) or found everything up to date, and builds it (``brian2.device.build``).

    Parameters
    ----------
    name : str
        What the program is (a circuit's name), for the messages.
    directory : str
        The build directory.
    run : bool
        Run the program once built (``device.build(run=True)``).

    Returns
    -------
    float
        Seconds spent building (code generation, compilation and, with ``run``, the run).
    """
    stable_build_order()
    device = brian2.get_device()
    binary = os.path.join(directory, "main")
    before = _mtime(binary)
    n_objects = len(getattr(device, "code_objects", {}))
    _log.info(
        "%s: building its C++ program (%d code objects) in %s%s",
        name,
        n_objects,
        directory,
        "" if before is None else "; only changed sources are compiled",
    )
    t0 = time.perf_counter()
    brian2.device.build(run=run, directory=directory, with_output=False)
    elapsed = time.perf_counter() - t0
    if _mtime(binary) == before:
        _log.info("%s: program up to date, nothing compiled (%.1f s)", name, elapsed)
    else:
        what = "compiled and ran" if run else "compiled"
        _log.info("%s: program %s in %.1f s", name, what, elapsed)
    return elapsed


def standalone_progress(
    name: str, n_runs: int, period: float = 10.0
) -> Callable[[int, str], None]:
    """A ``progress`` callback for :func:`rerun_standalone` that logs each running program.

    Each call logs one line at level INFO (logger ``spikingml.simulation``, shown by the
    command line as its ``[spikingml]`` stage lines): which run (of ``n_runs``) is
    running, for how long (counted from the first call that saw it, less one
    ``period``), and the program's last output line where it printed one, e.g.
    ``wta-em: run 2 of 8 running, 20 s``.

    Parameters
    ----------
    name : str
        What runs (a circuit's name), the line's prefix.
    n_runs : int
        How many runs there are.
    period : float
        Seconds between two calls (``rerun_standalone``'s ``progress_period``).
    """
    first_seen: dict[int, float] = {}

    def report(k: int, line: str) -> None:
        now = time.perf_counter()
        started = first_seen.setdefault(k, now - period)
        text = f"{name}: run {k + 1} of {n_runs} running, {now - started:.0f} s"
        if line:
            text += f" ({line})"
        _log.info("%s", text)

    return report


def _one_program(
    name: str,
    built_from: Any,
    seed0: int,
    group: Sequence[tuple[Any, int]],
    program: Program,
    jobs: int | None,
    progress: bool,
) -> Iterator[Any]:
    t_wall = time.perf_counter()
    with contextlib.ExitStack() as stack:
        keyed = built_from if program.directory_of is None else program.directory_of(built_from)
        directory = stack.enter_context(standalone_build_directory(build_key(name, keyed)))
        stack.enter_context(brian_device("cpp_standalone", seed0, directory, build_on_run=False))
        built = program.build(built_from, seed0)
        build_program(name, directory, run=False)
        args = (program.run_args(built, params, seed) for params, seed in group)
        report = standalone_progress(name, len(group)) if progress else None
        for k in rerun_standalone(args, jobs, allow_first=True, progress=report):
            params, seed = group[k]
            yield program.collect(built, params, seed, t_wall)
            t_wall = time.perf_counter()


@contextlib.contextmanager
def circuit_device(name: str, params: Any, device: str, seed: int) -> Iterator[str | None]:
    """The Brian2 device of one run of circuit ``name``, for a ``with`` block.

    Under ``cpp_standalone`` the program lives in the persistent build directory of
    ``params`` (:func:`build_key`, :func:`standalone_build_directory`), so other seeds
    reuse it, and it is built by :func:`run_network`; under ``runtime`` each ``run``
    executes at once.

    Parameters
    ----------
    name : str
        The circuit's name (the first part of the build directory's name).
    params : Params
        Its parameters.
    device : {"runtime", "cpp_standalone"}
        The Brian2 device.
    seed : int
        The seed of NumPy and the generated code (:func:`brian_device`).

    Yields
    ------
    str or None
        The build directory under ``cpp_standalone``, else ``None``: pass it to
        :func:`run_network`.
    """
    standalone = device == "cpp_standalone"
    with contextlib.ExitStack() as stack:
        directory = (
            stack.enter_context(standalone_build_directory(build_key(name, params)))
            if standalone
            else None
        )
        stack.enter_context(brian_device(device, seed, directory, build_on_run=not standalone))
        yield directory


def run_network(
    net: Any, duration: Any, label: str, progress: bool, directory: str | None
) -> None:
    """Run ``net`` for ``duration`` inside :func:`circuit_device`, with progress.

    Under ``cpp_standalone`` (``directory`` given) the run is recorded, then the program
    is built and run in ``directory`` with Brian2's text report on standard error;
    under ``runtime`` the run executes with :func:`progress_reporter`'s display.
    """
    if directory is None:
        report = progress_reporter(progress, label)
    else:
        report = "stderr" if progress else None
    net.run(duration, report=report, report_period=10 * brian2.second)
    if directory is not None:
        build_program(label, directory, run=True)


@contextlib.contextmanager
def standalone_build_directory(key: str) -> Iterator[str]:
    """A persistent ``cpp_standalone`` build directory for ``key``, locked while in use.

    Brian2 rewrites a generated source file only when its content changes and ``make``
    recompiles only what changed, so a program built again in the same directory with
    the same structure (other seeds, initial values, inputs) skips the compilation: tens
    of seconds saved per run. Directories live under ``$SPIKINGML_CACHE`` (default
    ``~/.cache/spikingml``) in ``standalone/<key>-<slot>``; each is locked (``flock``)
    while a process uses it, and a process that finds every existing slot busy (runs in
    parallel) takes a new one, so parallel runs never share a directory.

    Parameters
    ----------
    key : str
        Names the program, e.g. the circuit and a hash of the parameters that shape
        its code. Only letters, digits, ``-``, ``_`` and ``.``.

    Yields
    ------
    str
        The directory, exclusively this process's until the block ends.
    """
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
        raise ValidationError("key", "letters, digits, '-', '_' or '.'", key)
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - Windows: no flock, a fresh directory per run
        with tempfile.TemporaryDirectory(prefix=f"spikingml-{key}-") as directory:
            yield directory
        return
    # make recompiles only changed sources, not those whose compiler flags changed:
    # programs built with other flags (unoptimised ones, say) get directories of their own
    flags = " ".join(standalone_compile_args())
    key += "-" + hashlib.sha1(flags.encode()).hexdigest()[:6]
    directory, lock = _acquire_slot(os.path.join(_cache_root(), "standalone"), key)
    try:
        yield directory
    finally:
        _release_slot(lock)


def _acquire_slot(root: str, key: str):
    """Lock the first free directory ``root/<key>-<n>`` (``flock``); return it and its lock.

    The lock is held until :func:`_release_slot` (or the process ends), so two processes
    never get the same directory, and a directory is reused by later processes.
    """
    import fcntl

    os.makedirs(root, exist_ok=True)
    slot = 0
    while True:
        directory = os.path.join(root, f"{key}-{slot}")
        os.makedirs(directory, exist_ok=True)
        lock = open(os.path.join(directory, ".lock"), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            slot += 1
            continue
        return directory, lock


def _release_slot(lock) -> None:
    import fcntl

    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()


_PRIVATE_CACHE: dict[str, object] = {}


def use_private_cython_cache() -> str:
    """Give this process a Cython cache directory of its own, warm from the shared one.

    Parallel workers (:mod:`spikingml.sweep`) each call this once: it locks a directory
    ``$SPIKINGML_CACHE/cython/worker-<n>`` for the rest of the process's life (another
    process never uses it meanwhile; a later one reuses it, already compiled), hard-links
    into it the compiled modules of Brian2's default cache that it lacks (so nothing is
    compiled again; compiled modules are never rewritten, so sharing their files is
    safe), and sets :data:`CYTHON_CACHE_ENV` so that :func:`brian_device` points Brian2
    at it. No two processes then compile into, or load from, a directory that the other
    is writing.

    Returns
    -------
    str
        The directory (the same one on every call in a process).
    """
    if "directory" in _PRIVATE_CACHE:
        return str(_PRIVATE_CACHE["directory"])
    try:
        directory, lock = _acquire_slot(os.path.join(_cache_root(), "cython"), "worker")
    except ImportError:  # pragma: no cover - Windows: no flock
        directory, lock = tempfile.mkdtemp(prefix="spikingml-cython-"), None
    from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir

    shared = os.path.abspath(os.path.expanduser(get_cython_cache_dir() or ""))
    _PRIVATE_CACHE.update(directory=directory, lock=lock, shared=shared)
    if shared != os.path.abspath(directory):
        _link_compiled(shared, directory)
    os.environ[CYTHON_CACHE_ENV] = directory
    return directory


def _link_compiled(source: str, target: str) -> int:
    """Hard-link (or copy) the compiled modules of ``source`` missing from ``target``."""
    if not os.path.isdir(source) or not os.path.isdir(target):
        return 0
    linked = 0
    for name in os.listdir(source):
        if not name.endswith((".so", ".pyd")) or os.path.exists(os.path.join(target, name)):
            continue
        try:
            os.link(os.path.join(source, name), os.path.join(target, name))
        except FileExistsError:  # another process linked it meanwhile
            continue
        except OSError:  # another file system: copy (to a temporary name, then rename)
            with atomic_path(os.path.join(target, name)) as tmp:
                shutil.copy2(os.path.join(source, name), tmp)
        linked += 1
    return linked


def share_private_cython_cache() -> int:
    """Offer what this process compiled in its private cache to the shared cache.

    Called after each task of a parallel sweep, so that code compiled by one worker is
    reused by the others (when they start) and by later ordinary runs. Only finished
    modules are linked, and a module file is never rewritten, so this is safe while
    other processes load from the shared cache.

    Returns
    -------
    int
        The number of modules linked.
    """
    if "directory" not in _PRIVATE_CACHE:
        return 0
    shared = str(_PRIVATE_CACHE["shared"])
    try:
        os.makedirs(shared, exist_ok=True)
        return _link_compiled(str(_PRIVATE_CACHE["directory"]), shared)
    except OSError:  # a read-only shared cache: nothing to offer it, nothing lost
        return 0


def progress_reporter(enabled: bool, label: str):
    """Return a Brian2 ``report`` argument: a one-line progress display or ``None``.

    Brian2 calls it with elapsed wall time, completed fraction, start and duration. On a
    terminal the line is rewritten in place; otherwise a line is printed every 10%.
    Under ``cpp_standalone`` Brian2 prints its own text report instead.
    """
    if not enabled:
        return None
    interactive = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    last = {"decile": -1}

    def report(elapsed, completed, start, duration):
        elapsed_s = float(elapsed)
        frac = float(completed)
        if interactive:
            eta = elapsed_s * (1 - frac) / frac if frac > 0 else float("nan")
            bar = "#" * int(30 * frac)
            sys.stderr.write(
                f"\r{label}: [{bar:<30}] {100 * frac:5.1f}%  {elapsed_s:5.1f}s elapsed, "
                f"~{eta:4.0f}s left"
            )
            if frac >= 1:
                sys.stderr.write("\n")
            sys.stderr.flush()
        else:
            decile = int(10 * frac + 1e-9)
            if decile > last["decile"]:
                last["decile"] = decile
                sys.stderr.write(f"{label}: {100 * frac:3.0f}% ({elapsed_s:.1f}s)\n")
                sys.stderr.flush()

    return report
