"""Conformance test: every registered circuit against the circuit contract.

As scikit-learn's ``check_estimator`` runs one suite over every estimator, this file runs
every circuit of :data:`spikingml.circuits.REGISTRY` through the contract declared in
:mod:`spikingml.circuits.contract`: its members and their signatures, ``Params`` (presets,
validation, round trip through text), the module docstring's references, a run of its
tiny preset through :func:`spikingml.pipeline.run` (metrics exactly those of ``METRICS``,
every output file written and readable), and the same run on the other Brian2 device
(identical spikes, or equivalent ones where the circuit says Brian2 draws its random
numbers on the device). A new circuit inherits all of it by being registered.

Each circuit's tests are scheduled together with the circuit's own test file, on one
xdist worker (``tests/conftest.py``), so the circuits are spread over the test workers
and the tiny run is made once for both.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import math
import re
import textwrap
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from conftest import TINY_SEED

from spikingml import pipeline
from spikingml.circuits import REGISTRY, get_circuit
from spikingml.circuits.contract import (
    MEMBERS,
    RESERVED_KEYS,
    Circuit,
    check_module,
    order_metrics,
)
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams

NAMES = sorted(REGISTRY)

#: Each circuit's tests run on one xdist worker (tests/conftest.py): its runs are shared by
#: its tests (module fixture below).
CIRCUITS = NAMES

#: The other device of each default device.
OTHER_DEVICE = {"runtime": "cpp_standalone", "cpp_standalone": "runtime"}

#: Smallest figure a run may write, in pixels (a legible figure at 150 dpi is far larger).
MIN_FIGURE_PIXELS = 300


def test_contract_declares_each_member_once():
    names = [m.name for m in MEMBERS]
    assert len(names) == len(set(names))
    assert {m.name for m in MEMBERS if m.required} == {
        "NAME",
        "DESCRIPTION",
        "METRICS",
        "Params",
        "simulate",
        "twin",
        "compare",
        "figures",
    }


@pytest.mark.parametrize("name", CIRCUITS)
def test_module_follows_the_contract(name):
    module = get_circuit(name)
    assert check_module(module, name) == []
    circuit = Circuit(module, name)
    assert circuit.default_device in ("runtime", "cpp_standalone")


#: Most lines (comments included, docstring excluded) of a circuit's ``build_network``:
#: the circuit itself reads on one screen.
NETWORK_LINES = 90


@pytest.mark.parametrize("name", CIRCUITS)
def test_the_network_is_built_on_one_screen(name):
    """Every circuit creates its Brian2 objects in one ``build_network(params, ...)`` that
    fits a screen; the rest of a run (inputs, protocol, collection) lives in helpers."""
    module = get_circuit(name)
    build = getattr(module, "build_network", None)
    assert inspect.isfunction(build), "no build_network function (docs/guide/adding_a_circuit)"
    assert next(iter(inspect.signature(build).parameters)) == "params"
    (node,) = ast.parse(textwrap.dedent(inspect.getsource(build))).body
    body = node.body[1:] if ast.get_docstring(node) else node.body
    lines = node.end_lineno - body[0].lineno + 1
    assert lines <= NETWORK_LINES, f"build_network is {lines} lines"
    # it creates the network: Brian2 objects, or a plasticity rule's builder of them
    assert re.search(
        r"\b(?:b2|brian2)\.(?:NeuronGroup|Synapses|SpikeGeneratorGroup)\b|"
        r"build_\w+\(",
        inspect.getsource(build),
    )


@pytest.mark.parametrize("name", CIRCUITS)
def test_module_docstring_cites_its_papers(name):
    doc = get_circuit(name).__doc__ or ""
    assert "References" in doc, "the module docstring has no References section"
    references = doc.split("References", 1)[1]
    years = re.findall(r"\b(?:19|20)\d\d\b", references)
    assert years, "the References section names no paper (author, year)"


@pytest.mark.parametrize("name", CIRCUITS)
def test_metrics_are_documented_and_not_reserved(name):
    metrics = get_circuit(name).METRICS
    assert metrics
    for key, doc in metrics.items():
        # snake_case, with at most one <placeholder> for a family of metrics
        assert re.fullmatch(r"[a-z][a-z0-9_]*(<[a-z_]+>[a-z0-9_]*)?", key), key
        assert len(doc.split()) >= 3, f"{key}: say what it measures and its target"
    assert not set(metrics) & set(RESERVED_KEYS)


@pytest.mark.parametrize("name", CIRCUITS)
def test_params_presets_validate_and_round_trip_through_text(name):
    module = get_circuit(name)
    circuit = Circuit(module, name)
    for preset in (module.Params(), module.Params.quick(), circuit.tiny()):
        assert isinstance(preset, CircuitParams)
        # the text of params.json gives back the same parameters (what --params reads)
        text = json.loads(json.dumps(preset.to_dict()))
        assert type(preset).from_dict(text) == preset
    params = module.Params()
    field = dataclasses.fields(params)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(params, field.name, getattr(params, field.name))


@pytest.mark.parametrize("name", CIRCUITS)
def test_params_errors_name_the_field(name):
    module = get_circuit(name)
    params = module.Params()
    numeric = [
        f
        for f in dataclasses.fields(params)
        if f.metadata and f.metadata.get("choices") is None and not f.metadata.get("boolean")
    ]
    assert numeric, "a circuit without a numeric parameter"
    field = numeric[0]
    with pytest.raises(ValidationError) as info:
        params.replace_from_strings({field.name: "not a number"})
    assert str(info.value).startswith(params.qualname(field.name))
    with pytest.raises(ValidationError, match=r"\.Params"):
        params.replace(no_such_field=1)


# -- the tiny preset through the pipeline, on both devices ---------------------------------

_OTHER: dict[str, object] = {}


@pytest.fixture(scope="module")
def tiny_runs(tiny_run):
    """circuit -> (record of the tiny preset's pipeline run, the simulation on the other
    device), computed once per circuit (the record is shared with the circuit's own tests:
    ``tiny_run`` in tests/conftest.py)."""

    def get(name: str):
        record = tiny_run(name)
        if name not in _OTHER:
            circuit = pipeline.load(name)
            _OTHER[name] = circuit.simulate(
                circuit.tiny(), seed=TINY_SEED, device=OTHER_DEVICE[record.device], progress=False
            )
        return record, _OTHER[name]

    return get


@pytest.mark.standalone
@pytest.mark.parametrize("name", CIRCUITS)
def test_tiny_run_gives_exactly_the_documented_metrics(name, tiny_runs):
    record, _ = tiny_runs(name)
    metrics = get_circuit(name).METRICS
    # every documented metric (a <placeholder> key: at least one of its family), and
    # nothing else (pipeline.run checks the second half)
    assert list(record.metrics) == order_metrics(metrics, record.metrics, require_all=True)
    for key in metrics:
        family = re.sub(r"<[a-z_]+>", "[a-z0-9_.]+", key)
        assert any(re.fullmatch(family, k) for k in record.metrics), key
    assert all(isinstance(v, float) for v in record.metrics.values())
    finite = [k for k, v in record.metrics.items() if math.isfinite(v)]
    assert finite, "every metric of the tiny run is NaN"
    written = json.loads((record.out / "metrics.json").read_text())
    metrics = record.metrics
    compile_keys = {"compile_seconds", "binary_seconds"}
    expected = set(metrics) | set(RESERVED_KEYS) - compile_keys
    if record.device == "cpp_standalone":
        expected |= compile_keys
    assert set(written) == expected
    for key, value in record.metrics.items():
        assert written[key] == (value if math.isfinite(value) else None)
    assert written["circuit"] == name and written["seed"] == TINY_SEED


@pytest.mark.standalone
@pytest.mark.parametrize("name", CIRCUITS)
def test_tiny_run_writes_every_output_and_they_open(name, tiny_runs):
    import nixio

    record, _ = tiny_runs(name)
    files = set(record.files)
    assert set(pipeline.OUTPUT_FILES) <= files
    assert sorted(p.name for p in record.out.iterdir() if p.name.startswith(".")) == []
    for rel in files:
        if rel.endswith(".png"):
            image = matplotlib.image.imread(record.out / rel)
            assert min(image.shape[:2]) >= MIN_FIGURE_PIXELS, rel
            assert image.std() > 0, f"{rel} is blank"
    # the file's structure read with nixio (neo's NixIO loads every train: a minute for
    # the larger circuits; spikingml.export's round trip is tested on its own)
    nix = nixio.File.open(str(record.out / "data.nix"), nixio.FileMode.ReadOnly)
    try:
        (block,) = nix.blocks
        assert block.metadata["circuit"] == name and block.metadata["seed"] == TINY_SEED
        segments = [g for g in block.groups if g.type == "neo.segment"]
        phases = [p.name for p in record.result.phases]
        assert [g.metadata["neo_name"] for g in segments] == phases  # one per phase
        result_sizes = sum(p.size for p in record.result.populations.values())
        for segment in segments:  # every neuron has a train, silent ones included
            trains = [t for t in segment.multi_tags if t.type == "neo.spiketrain"]
            assert len(trains) == result_sizes
    finally:
        nix.close()


@pytest.mark.standalone
@pytest.mark.parametrize("name", CIRCUITS)
def test_runtime_and_cpp_standalone_agree(name, tiny_runs):
    record, other = tiny_runs(name)
    circuit = pipeline.load(name)
    ours = record.result
    assert ours.populations.keys() == other.populations.keys()
    if circuit.DEVICES_IDENTICAL:
        for pop in ours.populations:
            a, b = ours.populations[pop], other.populations[pop]
            np.testing.assert_array_equal(a.indices, b.indices, err_msg=pop)
            np.testing.assert_allclose(a.times, b.times, rtol=0, atol=1e-9, err_msg=pop)
        assert ours.weights.keys() == other.weights.keys()
        for key, value in ours.weights.items():
            if np.asarray(value).dtype.kind in "biuf":  # numbers: the same learning
                np.testing.assert_allclose(
                    other.weights[key], value, rtol=1e-9, atol=1e-12, err_msg=key
                )
    else:
        # Brian2 draws the random numbers of rand()/PoissonGroup differently on each
        # device: the runs are equivalent, not identical (a closed loop may even last
        # another time). Each population's mean rate over its run agrees within 15%
        # (actor-critic's tiny run, seed 1: 4%, 0.1% and 2% for place, critic and actor
        # cells; thousands of spikes each, so the Poisson error is 1-2%).
        for pop, a in ours.populations.items():
            b = other.populations[pop]
            rate_ours = len(a.times) / (a.size * ours.t_stop)
            rate_other = len(b.times) / (b.size * other.t_stop)
            assert rate_other == pytest.approx(rate_ours, rel=0.15), pop


# -- run-time fields: one compiled program, many values (issue 23) ----------------------


def _moved(params):
    """``params`` with every run-time field moved: x 0.8, else x 1.25, else + 1 unit."""
    changes = {}
    for field in dataclasses.fields(params):
        if not field.metadata.get("runtime"):
            continue
        value, unit = getattr(params, field.name), field.metadata.get("unit")
        for candidate in (value * 0.8, value * 1.25, value + (1 if unit is None else unit)):
            if candidate == value:
                continue
            try:
                params.replace(**{field.name: candidate})
            except ValidationError:
                continue
            changes[field.name] = candidate
            break
        else:
            pytest.fail(f"no valid new value of the run-time field {field.name}")
    return params.replace(**changes)


def _assert_same_run(a, b) -> None:
    """The same spikes, weights and signals (runs of one program, or one seed's twins)."""
    assert a.populations.keys() == b.populations.keys()
    for pop in a.populations:
        np.testing.assert_array_equal(a.populations[pop].indices, b.populations[pop].indices)
        np.testing.assert_array_equal(a.populations[pop].times, b.populations[pop].times)
    assert a.weights.keys() == b.weights.keys()
    for key, value in a.weights.items():
        if np.asarray(value).dtype.kind in "biuf":
            np.testing.assert_allclose(b.weights[key], value, rtol=1e-9, atol=1e-12, err_msg=key)
    for key, signal in a.signals.items():
        np.testing.assert_allclose(
            b.signals[key].values, signal.values, rtol=1e-9, atol=1e-12, err_msg=key
        )


@pytest.mark.parametrize("name", CIRCUITS)
def test_run_time_fields_are_declared_and_leave_the_structure(name):
    module = get_circuit(name)
    circuit = Circuit(module, name)
    fields = module.Params.runtime_fields()
    # every circuit's compiled program takes new values of some fields (issue 23)
    assert fields, f"{name} declares no run-time fields"
    assert hasattr(module, "simulate_many"), "run-time fields need simulate_many"
    assert circuit.reruns_structure("cpp_standalone")
    assert not circuit.reruns_structure("runtime")
    tiny = circuit.tiny()
    moved = _moved(tiny)
    assert [f for f in fields if getattr(moved, f) == getattr(tiny, f)] == []
    # one structure: the same program (build directory) for both
    assert tiny.same_structure(moved)
    assert tiny.structure().to_dict() == moved.structure().to_dict()
    structural = [f.name for f in dataclasses.fields(tiny) if f.name not in fields]
    numeric = [f for f in structural if isinstance(getattr(tiny, f), (int, float))]
    numeric = [f for f in numeric if not isinstance(getattr(tiny, f), bool)]
    if numeric:  # a structural field changes the structure
        field = numeric[0]
        for candidate in (getattr(tiny, field) + 1, getattr(tiny, field) * 2):
            try:
                other = tiny.replace(**{field: candidate})
            except ValidationError:
                continue
            assert not tiny.same_structure(other), field
            break


@pytest.mark.parametrize("name", CIRCUITS)
def test_the_twin_runs_unchanged_on_a_copy_that_notes_what_it_reads(name, tiny_runs):
    # a sweep computes a twin once for the runs that agree on the fields it reads
    # (pipeline.TwinCache), which a recording copy of the parameters notes: the twin
    # must give the same output on that copy as on the parameters themselves
    from spikingml.params import recording

    record, _ = tiny_runs(name)
    circuit = pipeline.load(name)
    copy, _read = recording(circuit.tiny())
    # with the BLAS threads of the pipeline's twin (their number changes the rounding)
    twin_output = pipeline._twin_of(circuit, copy, TINY_SEED)
    metrics = pipeline._compare(circuit, record.result, twin_output)
    docs = get_circuit(name).METRICS
    clocked = {k for k in metrics if "wall time" in docs.get(k, "")}  # not reproducible
    assert set(metrics) == set(record.metrics)
    # rtol 1e-9: BLAS may round the last bit differently in another process (memory
    # alignment, threads; measured 3e-16 for wta-em); a twin that ran differently on
    # the copy would move a metric by far more
    for key in sorted(set(metrics) - clocked):
        np.testing.assert_allclose(metrics[key], record.metrics[key], rtol=1e-9, err_msg=key)


@pytest.mark.standalone
@pytest.mark.parametrize("name", CIRCUITS)
def test_a_rerun_with_new_run_time_fields_equals_a_program_compiled_for_them(name, tiny_runs):
    # the contract's promise for run-time fields: the program compiled for the tiny
    # preset, run again with every run-time field moved, gives exactly the run of a
    # program compiled for the moved values (and, where the devices agree, of the
    # runtime device with them); and the move changes the run
    module = get_circuit(name)
    circuit = Circuit(module, name)
    tiny_runs(name)  # its program is compiled already (same structure)
    tiny = circuit.tiny()
    moved = _moved(tiny)
    runs = [(tiny, TINY_SEED), (moved, TINY_SEED)]
    before, rerun = module.simulate_many(runs, device="cpp_standalone", progress=False)
    (fresh,) = module.simulate_many(
        [(moved, TINY_SEED)], device="cpp_standalone", progress=False, fresh=True
    )
    _assert_same_run(rerun, fresh)
    assert rerun.params == moved.to_dict()
    changed = [
        pop
        for pop in before.populations
        if not np.array_equal(before.populations[pop].times, rerun.populations[pop].times)
    ]
    # replayed inputs (three-factor-synapse) keep every spike: the weights then move
    changed += [
        key
        for key, value in before.weights.items()
        if np.asarray(value).dtype.kind in "biuf" and not np.array_equal(value, rerun.weights[key])
    ]
    assert changed, "moving every run-time field changed no spike and no weight"
    if circuit.DEVICES_IDENTICAL:
        runtime = module.simulate(moved, seed=TINY_SEED, device="runtime", progress=False)
        for pop in runtime.populations:
            np.testing.assert_array_equal(
                runtime.populations[pop].indices, rerun.populations[pop].indices
            )
            np.testing.assert_allclose(
                runtime.populations[pop].times, rerun.populations[pop].times, rtol=0, atol=1e-9
            )


@pytest.mark.slow
@pytest.mark.parametrize("name", CIRCUITS)
def test_run_time_fields_compile_no_new_cython_code(name, monkeypatch):
    # runtime-device parity: under Cython, constants and shared variables are read when
    # the code runs, so a run with every run-time field moved compiles no new module
    from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir

    module = get_circuit(name)
    monkeypatch.setenv("SPIKINGML_RUNTIME_TARGET", "cython")
    tiny = Circuit(module, name).tiny()
    module.simulate(tiny, seed=TINY_SEED, device="runtime", progress=False)  # warm
    cache = Path(get_cython_cache_dir())
    before = sorted(p.name for p in cache.glob("*.so"))
    module.simulate(_moved(tiny), seed=TINY_SEED, device="runtime", progress=False)
    assert sorted(p.name for p in cache.glob("*.so")) == before
