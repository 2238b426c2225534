"""Shared fixtures: one quick run of the TD-conditioning circuit for the whole session."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")

# Compile Brian2's generated code without optimisation (-O0): the suite compiles
# every circuit's cpp_standalone program and runs each for seconds at most, so this
# halves a cold run. Cython modules go to a cache of their own
# (spikingml.simulation.FAST_COMPILE_ENV). Set SPIKINGML_FAST_COMPILE=0 to test optimised
# code.
os.environ.setdefault("SPIKINGML_FAST_COMPILE", "1")

#: Brian2's code generation target of the runtime device (spikingml.simulation).
RUNTIME_TARGET_ENV = "SPIKINGML_RUNTIME_TARGET"


def pytest_configure(config) -> None:
    """Choose the runtime device's code generation target for this session.

    The default suite (``-m 'not slow ...'``) runs short simulations of hundreds of
    distinct code objects: generated Cython costs about 2 s of compilation per object on
    a cold machine (524 objects, most of a cold ``make test``), NumPy nothing, so it runs
    under ``numpy``. Sessions that select the slow science runs (``make test-slow``,
    ``make test-all``) run long simulations and use ``cython``. An explicit
    ``SPIKINGML_RUNTIME_TARGET`` wins. Cython and NumPy give the same spikes
    (``tests/test_simulation.py::test_cython_and_numpy_targets_give_the_same_run``), and
    every circuit's runtime run is compared with its compiled cpp_standalone program in
    ``tests/test_contract.py``.
    """
    if RUNTIME_TARGET_ENV not in os.environ:
        markexpr = config.getoption("markexpr", default="") or ""
        os.environ[RUNTIME_TARGET_ENV] = "numpy" if "not slow" in markexpr else "cython"


def pytest_report_header(config) -> list[str]:
    """Say whether a missing optional test dependency skips or fails (tests/_optional.py),
    and which code generation target the runtime device uses."""
    from _optional import REQUIRE_ENV, optional_required

    if optional_required():
        optional = f"required (CI or {REQUIRE_ENV}=1; missing = error)"
    else:
        optional = f"skipped where missing (set {REQUIRE_ENV}=1 to require)"
    return [
        f"optional test dependencies: {optional}",
        f"Brian2 runtime target: {os.environ.get(RUNTIME_TARGET_ENV)} ({RUNTIME_TARGET_ENV})",
    ]


@pytest.fixture(scope="session")
def td_quick():
    """(params, result, twin, metrics) of the quick preset, seed 0, runtime device."""
    from spikingml.circuits import td_conditioning as td

    params = td.Params.quick()
    result = td.simulate(params, seed=0, progress=False)
    twin = td.twin(params)
    return params, result, twin, td.compare(result, twin)


#: Seed of the tiny runs shared by the conformance test and the circuits' own tests.
TINY_SEED = 1

_TINY_RUNS: dict = {}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``tiny_run(name)``: the pipeline's run of circuit ``name``'s tiny preset, seed 1.

    One run per circuit and test process, shared by ``tests/test_contract.py`` and the
    circuit's own test file (both are scheduled on the same worker, see
    :func:`pytest_xdist_make_scheduler`): a :class:`spikingml.pipeline.RunRecord` with the
    ``Result``, the twin's output, the metrics and every output file. Tests must not
    modify it.
    """
    from spikingml import pipeline

    def get(name: str):
        if name not in _TINY_RUNS:
            circuit = pipeline.load(name)
            out = tmp_path_factory.mktemp(f"tiny-{name}")
            _TINY_RUNS[name] = pipeline.run(
                circuit, circuit.tiny(), seed=TINY_SEED, out=out, progress=False
            )
        return _TINY_RUNS[name]

    return get


def _circuit_of_file(path: str) -> str | None:
    """The registered circuit whose own test file ``path`` is (``test_<module>.py``)."""
    from spikingml.circuits import REGISTRY

    stem = path.rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")
    modules = {module.rsplit(".", 1)[-1]: name for name, module in REGISTRY.items()}
    return modules.get(stem)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, but each circuit's tests together: its own file and its part
    of the conformance test.

    A test file stays whole on one xdist worker, so its module fixtures (its shared
    simulations) run once. ``tests/test_contract.py`` is split by circuit (the parameter
    in brackets) and each part joins the circuit's own test file (``tests/test_<module>.py``),
    so that both share one tiny run (the ``tiny_run`` fixture) and the circuits are
    spread over the workers. Other ``--dist`` modes are left as they are.
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileOrCircuit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path, _, name = nodeid.partition("::")
            if path.endswith("test_contract.py") and name.endswith("]"):
                return f"circuit:{name[name.index('[') + 1 : -1]}"
            circuit = _circuit_of_file(path)
            return f"circuit:{circuit}" if circuit else path

    return FileOrCircuit(config, log)
