"""Tests of the run pipeline (spikingml.pipeline), the output-location check, the metric
contract (order_metrics) and logging, with the Brian2-free fake circuit of test_cli.py."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
from pathlib import Path

import pytest

import spikingml.circuits as circuits  # noqa: E402
from spikingml import pipeline
from spikingml._files import jsonable
from spikingml.circuits.contract import Circuit, ContractError, check_module, order_metrics
from spikingml.errors import OutputExistsError, ValidationError

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import (  # noqa: E402
    FAKE,
    FAKE_MODULE,
    FakeParams,
    assert_one_line_error,
    leftovers,
    make_fake_module,
    run_cli,
)


@pytest.fixture
def fake(monkeypatch):
    """The fake circuit of test_cli.py, registered as the only circuit."""
    mod = make_fake_module()
    monkeypatch.setitem(sys.modules, FAKE_MODULE, mod)
    monkeypatch.setattr(circuits, "REGISTRY", {FAKE: FAKE_MODULE})
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return mod


#: A place no one can create directories in, even root (the kernel refuses).
UNWRITABLE = "/proc/forbidden/place"


# -- order_metrics ----------------------------------------------------------------------


def test_order_metrics_follows_metrics_and_expands_families():
    documented = {"b": "doc", "nmi_<set>": "doc", "a": "doc"}
    keys = ["a", "nmi_digits", "b", "nmi_mixture"]
    assert order_metrics(documented, keys) == ["b", "nmi_digits", "nmi_mixture", "a"]
    # a key documented on its own is not one of a family, whatever the order given
    documented = {"nmi_<set>": "doc", "nmi_max": "doc"}
    for keys in (["nmi_max", "nmi_a"], ["nmi_a", "nmi_max"]):
        assert order_metrics(documented, keys) == ["nmi_a", "nmi_max"]


def test_order_metrics_refuses_undocumented_and_missing_metrics():
    with pytest.raises(ContractError, match="does not document: c"):
        order_metrics({"a": "doc"}, ["a", "c"])
    with pytest.raises(ContractError, match="did not return the metrics b"):
        order_metrics({"a": "doc", "b": "doc"}, ["a"])
    assert order_metrics({"a": "doc", "x_<k>": "doc"}, ["a"]) == ["a"]  # a family may be empty


# -- the contract ------------------------------------------------------------------------


def test_check_module_lists_every_problem(fake):
    del fake.compare
    fake.DEFAULT_DEVICE = "gpu"
    fake.METRICS = {"seed": "a reserved name"}
    problems = check_module(fake, "fake-circuit")
    assert problems == ["compare is missing (the metrics of METRICS)"]
    fake.compare = lambda result, twin_output: {}
    problems = check_module(fake, "another-name")
    assert any("registered as 'another-name'" in p for p in problems)
    assert any("reserved names: seed" in p for p in problems)
    assert any("DEFAULT_DEVICE must be one of" in p for p in problems)
    with pytest.raises(ContractError, match="does not follow the circuit contract"):
        Circuit(fake, "another-name")


def test_check_module_checks_function_signatures(fake):
    fake.twin = lambda params: None  # no seed
    assert check_module(fake) == ["twin() must accept params, seed (missing: seed)"]


def test_circuit_fills_in_the_optional_members(fake):
    circuit = Circuit(fake)
    assert circuit.default_device == "runtime"
    assert circuit.supports_resume is False
    assert circuit.DEVICES_IDENTICAL is True
    assert circuit.tiny() == FakeParams.quick()  # no tiny(): the quick preset
    fake.DEFAULT_DEVICE = "cpp_standalone"
    assert circuit.default_device == "cpp_standalone"  # looked up when used
    with pytest.raises(AttributeError, match="no member 'nonsense'"):
        circuit.nonsense  # noqa: B018


# -- pipeline.run ----------------------------------------------------------------------


def test_run_without_out_computes_the_metrics_and_writes_nothing(fake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record = pipeline.run(FAKE, FakeParams.quick(), seed=3, progress=False)
    assert record.out is None and record.files == []
    assert list(record.metrics) == list(fake.METRICS)
    assert record.seed == 3 and record.device == "runtime"
    assert record.result.seed == 3 and record.twin_output is not None
    assert record.timings["simulated_seconds"] == 0.5
    assert list(tmp_path.iterdir()) == []


def test_run_writes_what_the_cli_writes(fake, tmp_path, capsys):
    record = pipeline.run(FAKE, FakeParams.quick(), seed=2, out=tmp_path / "py", progress=False)
    rc, _, err = run_cli(
        capsys, "run", FAKE, "--quick", "--seed", "2", "--out", str(tmp_path / "cli")
    )
    assert rc == 0, err
    assert sorted(record.files) == sorted(os.listdir(tmp_path / "cli"))
    timing = {"wall_seconds", "simulate_wall_seconds"}
    ours = json.loads((tmp_path / "py" / "metrics.json").read_text())
    theirs = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert {k: v for k, v in ours.items() if k not in timing} == {
        k: v for k, v in theirs.items() if k not in timing
    }
    assert ours == jsonable(record.to_json())


def test_run_of_several_seeds_returns_one_record_per_seed(fake, tmp_path):
    records = pipeline.run(FAKE, seeds="1,3", out=tmp_path, keep=False, progress=False)
    assert [r.seed for r in records] == [1, 3]
    assert [r.out for r in records] == [
        tmp_path.resolve() / "seed-1",
        tmp_path.resolve() / "seed-3",
    ]
    assert all(r.result is None and r.twin_output is None for r in records)  # keep=False
    assert leftovers(tmp_path) == []


def test_iter_runs_yields_each_seed_before_the_next_runs(fake):
    runs = pipeline.iter_runs(FAKE, seeds=[0, 1, 2], progress=False)
    first = next(runs)
    assert first.seed == 0 and [c[1] for c in fake.calls] == [0]
    assert [r.seed for r in runs] == [1, 2]


def test_a_failed_seed_keeps_the_records_before_it(fake):
    original = fake.simulate

    def simulate(params, seed=0, device="runtime", progress=True, **kw):
        if seed == 1:
            raise RuntimeError("seed 1 failed on purpose")
        return original(params, seed=seed, device=device, progress=progress, **kw)

    fake.simulate = simulate
    done = []
    with pytest.raises(RuntimeError, match="seed 1"):
        for record in pipeline.iter_runs(FAKE, seeds=[0, 1, 2], progress=False):
            done.append(record.seed)
    assert done == [0]


def test_run_checks_its_arguments_before_simulating(fake, tmp_path):
    with pytest.raises(ValidationError, match="^seed: "):
        pipeline.run(FAKE, seed=-1)
    with pytest.raises(ValidationError, match="^device: "):
        pipeline.run(FAKE, device="gpu")
    with pytest.raises(ValidationError, match="^data_format: "):
        pipeline.run(FAKE, data_format="hdf5")
    with pytest.raises(ValidationError, match="^params: "):
        pipeline.run(FAKE, params={"n_neurons": 3})
    with pytest.raises(ValidationError, match="^seeds: "):
        pipeline.run(FAKE, seeds=[])
    with pytest.raises(ValidationError, match="^resume: "):
        pipeline.run(FAKE, resume=True)  # no output directory to resume in
    with pytest.raises(ValidationError, match="^circuit: .*did you mean"):
        pipeline.run("fake-circuits")
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(OutputExistsError, match="force=True"):
        pipeline.run(FAKE, out=tmp_path)
    assert fake.calls == []


def test_compare_may_return_only_documented_metrics(fake):
    fake.compare = lambda result, twin_output: {"error": 0.1, "typo": 1.0}
    with pytest.raises(ContractError, match="does not document: typo"):
        pipeline.run(FAKE, progress=False)
    # a part of them is fine: parameters may select some (a paradigm of rescorla-wagner)
    fake.compare = lambda result, twin_output: {"error": 0.1}
    assert pipeline.run(FAKE, progress=False).metrics == {"error": 0.1}


# -- the output location, checked first ---------------------------------------------------


def test_check_output_location_creates_and_probes(tmp_path):
    made = pipeline.check_output_location(tmp_path / "a" / "b")
    assert made == [tmp_path / "a", tmp_path / "a" / "b"]
    assert list((tmp_path / "a" / "b").iterdir()) == []  # the probe is gone
    assert pipeline.check_output_location(tmp_path / "c" / "d", keep=False) == []
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    "place",
    [UNWRITABLE, "/proc/self/status/x"],
    ids=["under-proc", "below-a-file"],
)
def test_check_output_location_refuses_places_that_cannot_be_written(place):
    with pytest.raises(ValidationError, match="^--out: expected a directory that can be"):
        pipeline.check_output_location(place, "--out")


def _read_only(monkeypatch):
    """Make every file creation fail as on a read-only file system (root, who runs CI,
    may write into any directory whatever its permissions)."""

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(pipeline.tempfile, "mkstemp", refuse)


def test_a_read_only_file_system_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    _read_only(monkeypatch)
    with pytest.raises(ValidationError, match="Read-only file system"):
        pipeline.check_output_location(tmp_path / "new" / "run", "--out")
    assert list(tmp_path.iterdir()) == []  # the directories made for the probe are gone


@pytest.mark.parametrize(
    "argv",
    [
        ["run", FAKE, "--quick"],
        ["run", FAKE, "--quick", "--seeds", "0-2"],
        ["sweep", FAKE, "--quick", "--workers", "1"],
    ],
    ids=["run", "run-seeds", "sweep"],
)
def test_an_unwritable_out_stops_with_exit_2_before_simulating(fake, capsys, argv):
    rc, out, err = run_cli(capsys, *argv, "--out", UNWRITABLE)
    assert_one_line_error(rc, err, "--out", UNWRITABLE)
    assert "running" not in err and out == ""
    assert fake.calls == []


def test_export_to_an_unwritable_run_directory_stops_with_exit_2(
    fake, tmp_path, capsys, monkeypatch
):
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(tmp_path / "run"))
    assert rc == 0, err
    _read_only(monkeypatch)
    rc, _, err = run_cli(capsys, "export", str(tmp_path / "run"), "--to", "nwb")
    assert_one_line_error(rc, err, "RUN_DIR", "Read-only file system")
    assert not (tmp_path / "run" / "data.nwb").exists()


# -- logging -----------------------------------------------------------------------------


def test_stages_are_logged_and_quiet_silences_them(fake, tmp_path, capsys):
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(tmp_path / "a"))
    assert rc == 0
    assert f"[spikingml] running {FAKE} (seed 0, device runtime)" in err
    assert "[spikingml] comparing" in err
    rc, out, err = run_cli(capsys, "run", FAKE, "--quick", "-q", "--out", str(tmp_path / "b"))
    assert rc == 0 and err == "" and "metrics:" in out
    assert fake.calls[-1][3] is False  # -q: no progress bar either
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "-v", "--out", str(tmp_path / "c"))
    assert rc == 0 and "files in place" in err  # a DEBUG line
    # the command removes its handler when it returns (main() called many times here)
    names = [type(h).__name__ for h in logging.getLogger("spikingml").handlers]
    assert "_StderrHandler" not in names


def test_a_first_run_says_that_brian2_compiles(fake, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path / "cache"))
    argv = ["run", FAKE, "--quick", "--force", "--out", str(tmp_path / "o")]
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 0 and "first run of fake-circuit on runtime here" in err
    assert "minutes" in err  # roughly how long
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 0 and "first run" not in err


def test_library_use_prints_nothing_unless_logging_is_configured(fake, tmp_path, capsys):
    pipeline.run(FAKE, out=tmp_path / "x", progress=False)
    assert capsys.readouterr().err == ""
    assert Path(tmp_path / "x" / "metrics.json").is_file()


def test_variants_refuse_parameters_of_another_circuit():
    from spikingml.circuits import rescorla_wagner

    runs = [(rescorla_wagner.Params.quick(), 0)]
    with pytest.raises(ValidationError, match="params: expected td-conditioning's Params"):
        next(pipeline.variants("td-conditioning", runs, device="runtime"))


def test_twin_cache_computes_a_twin_again_only_for_a_seed_or_a_field_it_reads():
    import types

    import sweep_fake_circuit as fake
    from brian2 import ms

    calls = []

    def twin(params, seed=0):  # reads tau only where gain > 1
        calls.append((float(params.gain), seed))
        return (float(params.gain), float(params.tau / ms) if params.gain > 1 else 0.0, seed)

    cache = pipeline.TwinCache(types.SimpleNamespace(twin=twin), size=8)
    base = fake.Params()
    # gain 1: tau is not read, so another tau reuses the output
    assert cache(base, 0) == (1.0, 0.0, 0)
    assert cache(base.replace(tau=20 * ms), 0) == (1.0, 0.0, 0)
    assert cache(base.replace(sleep=1 * ms), 0) == (1.0, 0.0, 0)
    assert (cache.computed, cache.reused) == (1, 2)
    # gain 2 reads tau: each tau its own output, each the twin's own
    assert cache(base.replace(gain=2.0), 0) == (2.0, 10.0, 0)
    assert cache(base.replace(gain=2.0, tau=20 * ms), 0) == (2.0, 20.0, 0)
    assert cache(base.replace(gain=2.0, tau=20 * ms, sleep=2 * ms), 0) == (2.0, 20.0, 0)
    assert cache(base, 1) == (1.0, 0.0, 1)  # another seed
    assert calls == [(1.0, 0), (2.0, 0), (2.0, 0), (1.0, 1)]
    assert (cache.computed, cache.reused) == (4, 3)


def test_twin_cache_keeps_only_its_size():
    import types

    import sweep_fake_circuit as fake

    calls = []
    cache = pipeline.TwinCache(
        types.SimpleNamespace(twin=lambda params, seed=0: calls.append(seed) or seed), size=2
    )
    params = fake.Params()
    for seed in (0, 1, 0, 2, 1):  # 0 reused; 2 drops 1 (least recently used), 1 again
        cache(params, seed)
    assert calls == [0, 1, 2, 1]


def test_variant_records_compute_the_twin_once_for_fields_it_does_not_read(monkeypatch):
    import sweep_fake_circuit as fake

    calls = []
    twin = fake.twin
    monkeypatch.setattr(fake, "twin", lambda params, seed=0: calls.append(seed) or twin(params))
    runs = [(fake.Params(gain=g), 0) for g in (1.0, 2.0, 3.0)] + [(fake.Params(), 1)]
    records = list(pipeline.variant_records(fake, runs, device="runtime"))
    assert calls == [0, 1]  # the twin reads tau only
    assert [r.metrics["score"] for r in records] == [11.0, 12.0, 13.0, 12.0]
