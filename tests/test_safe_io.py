"""Parameter files, no unpickling of user files, atomic and non-clobbering outputs (issue 7).

Uses the Brian2-free fake circuit of ``test_cli.py`` (registered by monkeypatching the
registry), so nothing here simulates.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from _optional import require
from brian2 import ms

import spikingml
import spikingml.circuits as circuits
from spikingml.cli import main
from spikingml.errors import ValidationError

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import FAKE, FAKE_MODULE, make_fake_module  # noqa: E402

PACKAGE = Path(spikingml.__file__).parent


@pytest.fixture
def fake(monkeypatch):
    mod = make_fake_module()
    monkeypatch.setitem(sys.modules, FAKE_MODULE, mod)
    monkeypatch.setattr(circuits, "REGISTRY", {FAKE: FAKE_MODULE})
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return mod


def run(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["run", FAKE, "--quick", "--no-progress", *argv])
    return rc, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spikingml: error: "), err
    return lines[0]


# -- parameter files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text",
    [
        ("p.json", '{"n_neurons": 7, "tau": "30 ms", "gain": 0.25}'),
        ("p.toml", 'n_neurons = 7\ntau = "30 ms"\ngain = 0.25\n'),
    ],
)
def test_params_file_sets_fields_and_set_overrides_it(fake, tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text)
    rc, err = run(capsys, "--out", str(tmp_path / "o"), "--params", str(path), "--set", "gain=2")
    assert rc == 0, err
    params = fake.calls[0][0]
    assert (params.n_neurons, params.tau, params.gain) == (7, 30 * ms, 2.0)
    assert params.duration == fake.Params.quick().duration  # the rest from the preset


def test_params_json_of_an_earlier_run_reproduces_it(fake, tmp_path, capsys):
    first = tmp_path / "first"
    assert run(capsys, "--out", str(first), "--set", "tau=0.0123456789 s", "n_neurons=4")[0] == 0
    rc, err = run(capsys, "--out", str(tmp_path / "again"), "--params", str(first / "params.json"))
    assert rc == 0, err
    assert fake.calls[1][0] == fake.calls[0][0]


def test_params_file_is_validated_like_set_naming_the_file(fake, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('tau = "5 mV"\n')
    rc, err = run(capsys, "--out", str(tmp_path / "o"), "--params", str(path))
    from_file = one_line(err)
    assert rc == 2 and fake.calls == []
    rc, err = run(capsys, "--out", str(tmp_path / "o"), "--set", "tau=5 mV")
    from_set = one_line(err)
    # the same error, with the file named after the field
    assert from_file == from_set.replace(
        "FakeCircuit.Params.tau:", f"FakeCircuit.Params.tau (in {path}):"
    )
    assert not (tmp_path / "o").exists()
    # --set repairs a bad value of the file
    rc, err = run(capsys, "--out", str(tmp_path / "o"), "--params", str(path), "--set", "tau=5 ms")
    assert rc == 0, err


@pytest.mark.parametrize(
    "content, fragments",
    [
        ('{"n_neurons": [1, 2]}', ["n_neurons (in", "a number, a string"]),
        ('{"nonsense": 1}', ["FakeCircuit.Params (in", "nonsense"]),
        ('{"gain": 1, "gain": 2}', ["--params", "given twice"]),
        ("[1, 2]", ["--params", "one table"]),
        ("{", ["--params", "valid JSON"]),
    ],
)
def test_bad_params_file_is_one_line_error(fake, tmp_path, capsys, content, fragments):
    path = tmp_path / "p.json"
    path.write_text(content)
    rc, err = run(capsys, "--out", str(tmp_path / "o"), "--params", str(path))
    line = one_line(err)
    assert rc == 2 and fake.calls == []
    for fragment in [str(path), *fragments]:
        assert fragment in line


# -- nothing is unpickled from a user-supplied path --------------------------------------


def test_no_unpickling_in_the_package_source():
    """No pickle/joblib/yaml loads, and np.load only with allow_pickle=False."""
    allowed = {"_background.py"}  # results of its own forked child, through a pipe
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name not in allowed:
            assert not re.search(r"\bpickle\.loads?\(|\bjoblib\.load\(|\byaml\.load\(", text), path
            assert not re.search(r"\bmarshal\.loads?\(|\bshelve\.open\(|torch\.load\(", text), path
        assert "allow_pickle=True" not in text, path
        for call in re.finditer(r"np\.load\(([^)]*)\)", text):
            assert "allow_pickle=False" in call.group(1), (path, call.group(0))


class _Payload:
    """Unpickling this creates ``marker``: proof that a file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickles_given_as_files_are_refused_unopened(fake, tmp_path, capsys):
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_Payload(marker))
    # as a parameter file
    for name in ("p.json", "p.toml"):
        (tmp_path / name).write_bytes(payload)
        rc, err = run(capsys, "--out", str(tmp_path / "o"), "--params", str(tmp_path / name))
        assert rc == 2 and "--params" in one_line(err)
    # as a NIX file to read back
    from spikingml.export import read_nix

    (tmp_path / "data.nix").write_bytes(payload)
    with pytest.raises(ValidationError, match="path: expected a readable NIX file"):
        read_nix(tmp_path / "data.nix")
    # as a v1-ica checkpoint: an .npz holding an object array, and a bare pickle
    from spikingml.circuits import v1_ica

    with open(tmp_path / "object.npz", "wb") as fh:
        np.savez(fh, params=np.array([_Payload(marker)], dtype=object), seed=0)
    (tmp_path / "bare.npz").write_bytes(payload)
    for name in ("object.npz", "bare.npz"):
        with pytest.raises(ValidationError, match="resume: expected a checkpoint"):
            v1_ica.load_checkpoint(tmp_path / name, v1_ica.Params.quick(), 0)
    assert not marker.exists()


# -- atomic writes, no clobbering --------------------------------------------------------


def test_outputs_arrive_by_rename_and_need_force_to_be_replaced(fake, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, "--out", str(out))[0] == 0
    files = sorted(p.name for p in out.iterdir())
    before = {name: ((out / name).read_bytes(), (out / name).stat().st_ino) for name in files}
    # without --force: refused before simulating, nothing touched
    rc, err = run(capsys, "--out", str(out), "--seed", "1")
    assert rc == 2 and "--force" in one_line(err) and len(fake.calls) == 1
    assert {n: ((out / n).read_bytes(), (out / n).stat().st_ino) for n in files} == before
    # with --force: every file is new, put in place by a rename (a new inode), none
    # rewritten in place, and no temporary file or directory is left anywhere
    assert run(capsys, "--out", str(out), "--seed", "1", "--force")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == files
    for name in files:
        assert (out / name).stat().st_ino != before[name][1], name
    assert json.loads((out / "metrics.json").read_text())["seed"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("stage", ["simulate", "compare", "figures"])
def test_failure_inside_the_circuit_keeps_previous_output_and_leaves_nothing(
    fake, tmp_path, capsys, stage
):
    out = tmp_path / "out"
    assert run(capsys, "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fake.fail_in = stage
    with pytest.raises(RuntimeError, match="failed on purpose"):
        run(capsys, "--out", str(out), "--force")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # a new output directory, deep down: neither it nor its parents are left behind
    with pytest.raises(RuntimeError, match="failed on purpose"):
        run(capsys, "--out", str(tmp_path / "new" / "deep" / "out"))
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_sweep_that_cannot_reach_its_scheduler_writes_nothing(tmp_path, capsys, monkeypatch):
    require("distributed", "sweep")
    import spikingml.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "CONNECT_TIMEOUT", "1s")
    out = tmp_path / "sweep"
    rc = main(
        ["sweep", "td-conditioning", "--quick", "--out", str(out), "--no-progress"]
        + ["--scheduler", "tcp://127.0.0.1:9"]
    )
    assert rc == 2 and "--scheduler" in one_line(capsys.readouterr().err)
    assert not out.exists()


def test_json_outputs_are_written_through_a_temporary_file(tmp_path, monkeypatch):
    from spikingml._files import write_json

    moves = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (moves.append((a, b)), real_replace(a, b)))
    write_json(tmp_path / "x.json", {"a": 1})
    assert [Path(b).name for _, b in moves] == ["x.json"]
    assert Path(moves[0][0]).name.startswith(".x.json.")  # a hidden, unique name
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path):
    from spikingml._files import atomic_path

    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half a ta")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_atomic_writes_keep_the_umask_permissions(tmp_path):
    from spikingml._files import write_text

    previous = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    # a plain open() would give 0o644 under umask 022; mkstemp would give 0o600
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_a_foreign_checkpoint_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    from spikingml.circuits import v1_ica

    def refuse(*args, **kwargs):
        raise AssertionError("simulated despite a bad checkpoint")

    monkeypatch.setattr(v1_ica, "simulate", refuse)
    monkeypatch.setattr(v1_ica, "twin", refuse)
    bad = tmp_path / "checkpoint.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out"
    argv = ["run", "v1-ica", "--quick", "--out", str(out), "--resume", str(bad)]
    assert main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert "resume: expected a checkpoint written by v1-ica" in line and str(bad) in line
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]
