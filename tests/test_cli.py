"""Tests of the ``spikingml`` command line (spikingml.cli), with a fake, Brian2-free circuit.

A tiny circuit module is built in memory (NAME, DESCRIPTION, METRICS, Params with a unit
field, simulate returning a synthetic Result, twin, compare, figures, raster_window) and
registered by monkeypatching :data:`spikingml.circuits.REGISTRY`, so the tests take
milliseconds rather than simulate anything.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any, ClassVar

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _optional import require  # noqa: E402
from brian2 import ms, second  # noqa: E402
from brian2.units.fundamentalunits import Quantity  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import spikingml.circuits as circuits  # noqa: E402
from spikingml.cli import OUTPUT_FILES, main  # noqa: E402
from spikingml.export import read_nix  # noqa: E402
from spikingml.params import CircuitParams, param  # noqa: E402
from spikingml.plotting import save_figure  # noqa: E402
from spikingml.result import Phase, Result, SpikeData  # noqa: E402
from spikingml.simulation import progress_reporter  # noqa: E402

FAKE = "fake-circuit"
FAKE_MODULE = "spikingml_tests_fake_circuit"
OTHER = "other-fake-with-long-name"
OTHER_MODULE = "spikingml_tests_other_fake"
ALL_FILES = (*OUTPUT_FILES, "weights.png")


@dataclasses.dataclass(frozen=True)
class FakeParams(CircuitParams):
    """Parameters of the fake circuit."""

    circuit_name: ClassVar[str] = "FakeCircuit"

    n_neurons: int = param(5, "number of neurons", integer=True, low=1)
    tau: Quantity = param(
        20 * ms, "membrane time constant", unit=ms, low=0 * ms, low_inclusive=False
    )
    duration: Quantity = param(
        1 * second, "simulated time", unit=second, low=0 * second, low_inclusive=False
    )
    gain: float = param(0.5, "synaptic gain", low=0.0)

    @classmethod
    def quick(cls) -> FakeParams:
        return cls(n_neurons=3, duration=0.5 * second)


def make_fake_module(name: str = FAKE, module_name: str = FAKE_MODULE) -> types.ModuleType:
    """A module following the circuit contract; behaviour is steered by its attributes."""
    mod = types.ModuleType(module_name)
    mod.NAME = name
    mod.DESCRIPTION = f"A fake circuit called {name} for testing the CLI"
    mod.METRICS = {
        "error": "mean absolute error vs the twin (lower is better; target < 0.1)",
        "undefined": "a metric that is NaN (tests null in JSON)",
    }
    mod.Params = FakeParams
    mod.calls = []  # (params, seed, device, progress) of each simulate call
    mod.fail_in = None  # name of the stage that raises
    mod.fail_with = RuntimeError
    mod.window_calls = 0

    def _maybe_fail(stage: str) -> None:
        if mod.fail_in == stage:
            raise mod.fail_with(f"{stage} failed on purpose")

    def simulate(params, seed: int = 0, device: str = "runtime", progress: bool = True, **kw):
        mod.calls.append((params, seed, device, progress))
        mod.training_kwargs = kw
        report = progress_reporter(progress, name)
        duration = float(params.duration / second)
        if report is not None:
            for frac in (0.0, 0.5, 1.0):
                report(0.01 * frac, frac, 0.0, duration)
        _maybe_fail("simulate")
        rng = np.random.default_rng(seed)
        n_spikes = 40
        return Result(
            circuit=name,
            params=params.to_dict(),
            seed=seed,
            device=device,
            populations={
                "E": SpikeData(
                    rng.integers(0, params.n_neurons, n_spikes),
                    np.sort(rng.uniform(0, duration, n_spikes)),
                    params.n_neurons,
                ),
                "I": SpikeData([0, 1], [0.1, 0.2], 2),
            },
            events={"CS": np.array([0.2, 0.6]) * duration},
            phases=[Phase("run", 0.0, duration)],
            simulated_seconds=duration,
            wall_seconds=0.01,
            synaptic_events=1234,
        )

    def twin(params, seed: int = 0):
        _maybe_fail("twin")
        return np.linspace(0.0, 1.0, 5)

    def compare(result, twin_output) -> dict[str, float]:
        _maybe_fail("compare")
        return {"error": 0.125 + result.seed, "undefined": float("nan")}

    def figures(result, twin_output, outdir: Path) -> list[Path]:
        _maybe_fail("figures")
        paths = []
        for fname in ("comparison.png", "weights.png"):
            fig = Figure(figsize=(2, 2))
            fig.subplots().plot(twin_output)
            paths.append(save_figure(fig, Path(outdir) / fname))
        return paths

    def raster_window(result) -> tuple[float, float]:
        mod.window_calls += 1
        return 0.0, result.t_stop / 2

    mod.simulate = simulate
    mod.twin = twin
    mod.compare = compare
    mod.figures = figures
    mod.raster_window = raster_window
    return mod


@pytest.fixture
def fake(monkeypatch) -> types.ModuleType:
    """Register the fake circuit (and a second one) as the only circuits."""
    mod = make_fake_module()
    other = make_fake_module(OTHER, OTHER_MODULE)
    monkeypatch.setitem(sys.modules, FAKE_MODULE, mod)
    monkeypatch.setitem(sys.modules, OTHER_MODULE, other)
    monkeypatch.setattr(circuits, "REGISTRY", {FAKE: FAKE_MODULE, OTHER: OTHER_MODULE})
    monkeypatch.setenv("MPLBACKEND", "Agg")  # restored afterwards; the CLI may set it
    return mod


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    """Temporary directories of the CLI left in ``parent``."""
    return [p.name for p in parent.iterdir() if ".tmp-" in p.name]


def assert_one_line_error(rc: int, err: str, *fragments: str) -> None:
    assert rc == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("spikingml: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# -- list and params ---------------------------------------------------------------------


def test_list_prints_aligned_names_and_descriptions(fake, capsys):
    rc, out, err = run_cli(capsys, "list")
    assert rc == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(FAKE)
    assert lines[1].startswith(OTHER)
    descriptions = [f"A fake circuit called {n} for testing the CLI" for n in (FAKE, OTHER)]
    columns = {line.index(desc) for line, desc in zip(lines, descriptions, strict=True)}
    assert columns == {len(OTHER) + 2}


def test_list_survives_a_broken_module(fake, monkeypatch, capsys):
    monkeypatch.setitem(circuits.REGISTRY, "broken", "spikingml_tests_no_such_module")
    rc, out, _ = run_cli(capsys, "list")
    assert rc == 0
    assert any(
        line.startswith("broken") and "cannot be imported" in line for line in out.splitlines()
    )
    assert FAKE in out


@pytest.mark.parametrize(
    ("flag", "n_neurons", "duration"), [((), "5", "1.0 s"), (("--quick",), "3", "0.5 s")]
)
def test_params_table(fake, capsys, flag, n_neurons, duration):
    rc, out, err = run_cli(capsys, "params", FAKE, *flag)
    assert rc == 0
    assert err == ""
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) >= {"name", "n_neurons", "tau", "duration", "gain"}
    assert rows["n_neurons"].split()[1] == n_neurons
    assert duration in rows["duration"]
    assert "20.0 ms" in rows["tau"] and "membrane time constant" in rows["tau"]
    assert "--set" in out.splitlines()[0]


def test_params_unknown_circuit(fake, capsys):
    rc, out, err = run_cli(capsys, "params", "fake-circut")
    assert_one_line_error(rc, err, "fake-circut", "did you mean fake-circuit")


# -- run -----------------------------------------------------------------------------------


def test_run_writes_every_file(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    rc, out, err = run_cli(capsys, "run", FAKE, "--quick", "--seed", "3", "--out", str(out_dir))
    assert rc == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(ALL_FILES)
    assert leftovers(tmp_path) == []
    assert all((out_dir / name).stat().st_size > 0 for name in ALL_FILES)

    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert set(metrics) == {
        "error",
        "undefined",
        "circuit",
        "seed",
        "device",
        "params",
        "wall_seconds",
        "simulated_seconds",
        "simulate_wall_seconds",
        "synaptic_events",
    }
    assert metrics["synaptic_events"] == 1234  # the Result's count, not recomputed
    assert metrics["error"] == pytest.approx(3.125)
    assert metrics["undefined"] is None  # NaN -> null
    assert metrics["circuit"] == FAKE
    assert metrics["seed"] == 3
    assert metrics["device"] == "runtime"
    assert metrics["simulated_seconds"] == pytest.approx(0.5)
    assert 0 <= metrics["simulate_wall_seconds"] <= metrics["wall_seconds"]
    assert metrics["params"] == FakeParams.quick().to_dict()
    assert json.loads((out_dir / "params.json").read_text()) == FakeParams.quick().to_dict()
    text = (out_dir / "metrics.json").read_text()
    assert "NaN" not in text
    assert list(json.loads(text)) == sorted(metrics)  # sorted keys
    assert text.startswith("{\n  ")  # indented

    block = read_nix(out_dir / "data.nix")
    assert block.annotations["circuit"] == FAKE
    assert fake.window_calls == 1

    params, seed, device, progress = fake.calls[-1]
    assert (params, seed, device) == (FakeParams.quick(), 3, "runtime")
    assert "error" in out and "3.125" in out and "nan" in out
    for name in ALL_FILES:
        assert str(out_dir / name) in out


def test_raster_options_choose_what_the_raster_shows(fake, tmp_path, capsys, monkeypatch):
    # raster_options(result) wins over raster_window and reaches plotting.raster
    seen = {}

    def fake_raster(result, **kwargs):
        seen.update(kwargs)
        fig = Figure(figsize=(2, 2))
        return fig.subplots(), None

    monkeypatch.setattr("spikingml.plotting.raster", fake_raster)
    fake.raster_options = lambda result: {"populations": ["I"], "t_start": 0.1, "t_stop": 0.2}
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(tmp_path / "out"))
    assert rc == 0, err
    assert seen == {"populations": ["I"], "t_start": 0.1, "t_stop": 0.2}
    assert fake.window_calls == 0
    assert (tmp_path / "out" / "raster.png").stat().st_size > 0


def test_run_default_preset_and_output_directory(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli(capsys, "run", FAKE, "--no-progress")
    assert rc == 0, err
    out_dir = tmp_path / "spikingml-output" / FAKE
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(ALL_FILES)
    assert leftovers(out_dir.parent) == []
    assert fake.calls[-1][0] == FakeParams()


def test_run_set_with_units_reaches_params(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    rc, _, err = run_cli(
        capsys,
        "run",
        FAKE,
        "--quick",
        "--out",
        str(out_dir),
        "--set",
        "tau=5 ms",
        "n_neurons=7",
        "--set",
        "duration=250*ms",
        "gain=2",
    )
    assert rc == 0, err
    params = fake.calls[-1][0]
    assert isinstance(params, FakeParams)
    assert params.tau == 5 * ms
    assert params.n_neurons == 7
    assert params.duration == 0.25 * second
    assert params.gain == 2.0
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["params"]["tau"] == "5.0 ms"
    assert metrics["params"]["n_neurons"] == 7
    assert metrics["simulated_seconds"] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--set", "taux=5 ms"], ["FakeCircuit.Params", "taux"]),
        (["--set", "tau=5"], ["FakeCircuit.Params.tau", "unit"]),
        (["--set", "tau=5 mV"], ["FakeCircuit.Params.tau"]),
        (["--set", "tau=fast"], ["FakeCircuit.Params.tau"]),
        (["--set", "tau=-1 ms"], ["FakeCircuit.Params.tau"]),
        (["--set", "n_neurons=2.5"], ["FakeCircuit.Params.n_neurons", "integer"]),
        (["--set", "foo"], ["--set", "field=value", "foo"]),
        (["--set", "=3"], ["--set", "field=value"]),
        (["--device", "gpu"], ["device", "runtime", "cpp_standalone", "gpu"]),
        (["--seed", "-1"], ["--seed"]),
    ],
)
def test_run_bad_input_is_one_line_error(fake, tmp_path, capsys, argv, fragments):
    out_dir = tmp_path / "out"
    rc, out, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir), *argv)
    assert_one_line_error(rc, err, *fragments)
    assert fake.calls == []  # refused before simulating
    assert not out_dir.exists()
    assert leftovers(tmp_path) == []


def test_run_unknown_circuit_suggests(fake, tmp_path, capsys):
    rc, _, err = run_cli(capsys, "run", "fake-circiut", "--out", str(tmp_path / "o"))
    assert_one_line_error(rc, err, "fake-circiut", "did you mean fake-circuit")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["run", FAKE, "--seed", "abc"],
        ["run", FAKE, "--bogus"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(fake, capsys, argv):
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 2
    assert "Traceback" not in err
    assert "usage:" in err
    assert fake.calls == []


def test_help_exits_0(fake, capsys):
    rc, out, _ = run_cli(capsys, "run", "--help")
    assert rc == 0
    assert "--set" in out and "--force" in out


def test_existing_output_is_not_overwritten_without_force(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))[0] == 0
    before = snapshot(out_dir)
    fake.calls.clear()

    rc, out, err = run_cli(capsys, "run", FAKE, "--quick", "--seed", "1", "--out", str(out_dir))
    assert_one_line_error(rc, err, "--force", "metrics.json")
    assert fake.calls == []  # refused before simulating
    assert snapshot(out_dir) == before
    assert leftovers(tmp_path) == []


def test_one_existing_output_file_is_enough_to_refuse(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "raster.png").write_text("mine")
    (out_dir / "notes.txt").write_text("unrelated")
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))
    assert_one_line_error(rc, err, "raster.png")
    assert (out_dir / "raster.png").read_text() == "mine"
    assert sorted(p.name for p in out_dir.iterdir()) == ["notes.txt", "raster.png"]


def test_unrelated_files_do_not_block_and_are_kept(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("unrelated")
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))
    assert rc == 0, err
    assert (out_dir / "notes.txt").read_text() == "unrelated"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([*ALL_FILES, "notes.txt"])


def test_output_path_that_is_a_file_is_refused(fake, tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--force", "--out", str(target))
    assert_one_line_error(rc, err, "not a directory")
    assert target.read_text() == "x"


def test_force_overwrites(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--seed", "1", "--out", str(out_dir))[0] == 0
    before = snapshot(out_dir)
    rc, _, err = run_cli(
        capsys, "run", FAKE, "--quick", "--seed", "2", "--force", "--out", str(out_dir)
    )
    assert rc == 0, err
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["seed"] == 2
    assert metrics["error"] == pytest.approx(2.125)
    after = snapshot(out_dir)
    assert sorted(after) == sorted(ALL_FILES)
    assert after["metrics.json"] != before["metrics.json"]
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("stage", ["simulate", "twin", "compare", "figures"])
def test_failure_leaves_no_partial_output(fake, tmp_path, capsys, stage):
    fake.fail_in = stage
    out_dir = tmp_path / "out"
    with pytest.raises(RuntimeError, match="failed on purpose"):
        main(["run", FAKE, "--quick", "--out", str(out_dir)])
    assert not out_dir.exists()
    assert leftovers(tmp_path) == []


def test_failure_keeps_previous_outputs(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))[0] == 0
    before = snapshot(out_dir)
    fake.fail_in = "figures"  # after data.nix and raster.png were written to the temp dir
    with pytest.raises(RuntimeError):
        main(["run", FAKE, "--quick", "--force", "--out", str(out_dir)])
    assert snapshot(out_dir) == before
    assert leftovers(tmp_path) == []


def test_validation_error_inside_simulate_is_one_line(fake, tmp_path, capsys):
    from spikingml.errors import ValidationError

    fake.fail_in = "simulate"
    fake.fail_with = lambda msg: ValidationError("FakeCircuit.Params", "consistent values", msg)
    rc, _, err = run_cli(
        capsys, "run", FAKE, "--quick", "--no-progress", "--out", str(tmp_path / "out")
    )
    assert_one_line_error(rc, err, "FakeCircuit.Params")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_keyboard_interrupt_exits_130_and_keeps_outputs(fake, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))[0] == 0
    before = snapshot(out_dir)
    fake.fail_in = "twin"
    fake.fail_with = lambda msg: KeyboardInterrupt()
    rc, out, err = run_cli(
        capsys, "run", FAKE, "--quick", "--force", "--no-progress", "--out", str(out_dir)
    )
    assert rc == 130
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "interrupted" in err
    assert snapshot(out_dir) == before
    assert leftovers(tmp_path) == []


def test_sigterm_stops_like_ctrl_c_and_keeps_outputs(fake, tmp_path, capsys):
    # SIGTERM (kill, a batch system's limit) arrives while the circuit simulates: the
    # same clean stop as Ctrl-C, earlier outputs untouched, no temporary directory left
    import signal

    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))[0] == 0
    before = snapshot(out_dir)

    def terminate(msg):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises here
        return AssertionError("SIGTERM did not stop the run")

    fake.fail_in = "simulate"
    fake.fail_with = terminate
    previous = signal.getsignal(signal.SIGTERM)
    rc, out, err = run_cli(
        capsys, "run", FAKE, "--quick", "--force", "--no-progress", "--out", str(out_dir)
    )
    assert rc == 130
    assert "Traceback" not in err and "interrupted" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(out_dir) == before
    assert leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is previous  # the handler is put back


def test_progress_on_stderr(fake, tmp_path, capsys):
    rc, out, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(tmp_path / "a"))
    assert rc == 0
    assert f"{FAKE}: 100%" in err
    assert f"{FAKE}:  50%" in err
    assert f"{FAKE}: 100%" not in out  # progress never pollutes stdout
    assert fake.calls[-1][3] is True


def test_no_progress_is_quiet(fake, tmp_path, capsys):
    rc, out, err = run_cli(
        capsys, "run", FAKE, "--quick", "--no-progress", "--out", str(tmp_path / "b")
    )
    assert rc == 0
    assert err == ""
    assert fake.calls[-1][3] is False
    assert "metrics.json" in out


def test_device_reaches_simulate(fake, tmp_path, capsys):
    rc, _, err = run_cli(
        capsys,
        "run",
        FAKE,
        "--quick",
        "--no-progress",
        "--device",
        "cpp_standalone",
        "--out",
        str(tmp_path / "c"),
    )
    assert rc == 0, err
    assert fake.calls[-1][2] == "cpp_standalone"
    assert json.loads((tmp_path / "c" / "metrics.json").read_text())["device"] == (
        "cpp_standalone"
    )


def test_wall_seconds_are_finite(fake, tmp_path, capsys):
    run_cli(capsys, "run", FAKE, "--quick", "--no-progress", "--out", str(tmp_path / "d"))
    metrics: dict[str, Any] = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert all(math.isfinite(metrics[k]) for k in ("wall_seconds", "simulate_wall_seconds"))


# -- entry point ---------------------------------------------------------------------------


def test_python_m_spikingml_list():
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "spikingml", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert names == sorted(circuits.REGISTRY)


def _failure_argv(fake, mode):
    """Command-line arguments of a run of the fake circuit: one run, or a series of seeds
    (one worker process writes every seed's data files)."""
    return ["--quick", "--no-progress"] if mode == "single" else _series_hook(fake)


@pytest.mark.parametrize("mode", ["single", "series"])
def test_nix_written_by_a_child_failing_is_one_line_and_leaves_nothing(
    fake, tmp_path, capsys, monkeypatch, mode
):
    # data.nix is written in a forked child (in a series, the worker) while the figures
    # are drawn; an OSError there (disk full) reaches the parent with its type: exit 1,
    # one line, no output.
    import spikingml.export

    def full_disk(result, path, force=False):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spikingml.export, "write_nix", full_disk)
    out_dir = tmp_path / "out"
    rc, _, err = run_cli(capsys, "run", FAKE, *_failure_argv(fake, mode), "--out", str(out_dir))
    assert rc == 1
    assert err.count("\n") == 1 and "No space left on device" in err
    assert not out_dir.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", ["single", "series"])
def test_figure_failure_stops_the_nix_child(fake, tmp_path, capsys, monkeypatch, mode):
    import spikingml.export

    def slow_write(result, path, force=False):
        time.sleep(60)

    monkeypatch.setattr(spikingml.export, "write_nix", slow_write)
    fake.fail_in = "figures"
    out_dir = tmp_path / "out"
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="failed on purpose"):
        main(["run", FAKE, *_failure_argv(fake, mode), "--out", str(out_dir)])
    assert time.monotonic() - t0 < 30  # the sleeping child (or worker) was terminated
    assert not out_dir.exists()
    assert leftovers(tmp_path) == []


def test_default_device_comes_from_the_circuit(fake, tmp_path, capsys):
    fake.DEFAULT_DEVICE = "cpp_standalone"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(tmp_path / "a"))[0] == 0
    assert fake.calls[-1][2] == "cpp_standalone"
    assert (
        run_cli(
            capsys, "run", FAKE, "--quick", "--device", "runtime", "--out", str(tmp_path / "b")
        )[0]
        == 0
    )
    assert fake.calls[-1][2] == "runtime"
    rc, out, _ = run_cli(capsys, "list")
    assert "[default device: cpp_standalone]" in out


def test_resume_refused_for_a_circuit_without_checkpoints(fake, tmp_path, capsys):
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--resume", "--out", str(tmp_path / "o"))
    assert_one_line_error(rc, err, "--resume", "writes checkpoints")
    assert fake.calls == []


def test_checkpoint_path_and_resume_reach_simulate(fake, tmp_path, capsys):
    fake.SUPPORTS_RESUME = True
    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))[0] == 0
    assert fake.training_kwargs == {"checkpoint": out_dir / "checkpoint.npz"}
    # a checkpoint left behind (interrupted run) is never silently overwritten
    (out_dir / "checkpoint.npz").write_bytes(b"state")
    for name in OUTPUT_FILES:
        (out_dir / name).unlink(missing_ok=True)
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))
    assert_one_line_error(rc, err, "checkpoint.npz", "--resume", "--force")
    # --resume continues from it (and may replace the outputs)
    assert run_cli(capsys, "run", FAKE, "--quick", "--resume", "--out", str(out_dir))[0] == 0
    assert fake.training_kwargs == {
        "checkpoint": out_dir / "checkpoint.npz",
        "resume": out_dir / "checkpoint.npz",
    }
    assert run_cli(capsys, "run", FAKE, "--quick", "--resume", "--out", str(out_dir))[0] == 0


def test_resume_from_a_missing_file_is_one_line(fake, tmp_path, capsys):
    fake.SUPPORTS_RESUME = True
    rc, _, err = run_cli(
        capsys,
        "run",
        FAKE,
        "--quick",
        "--resume",
        str(tmp_path / "nope.npz"),
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line_error(rc, err, "--resume", "nope.npz")


# -- several seeds -----------------------------------------------------------------------


def test_run_seeds_writes_one_directory_per_seed_like_single_runs(fake, tmp_path, capsys):
    many, one = tmp_path / "many", tmp_path / "one"
    rc, out, err = run_cli(capsys, "run", FAKE, "--quick", "--seeds", "1,4", "--out", str(many))
    assert rc == 0, err
    assert sorted(p.name for p in many.iterdir()) == ["seed-1", "seed-4"]
    assert [c[1] for c in fake.calls] == [1, 4]
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--seed", "4", "--out", str(one))
    assert rc == 0, err
    seed4 = many / "seed-4"
    assert sorted(p.name for p in seed4.iterdir()) == sorted(p.name for p in one.iterdir())
    timing = {"wall_seconds", "simulate_wall_seconds"}
    m_many, m_one = (json.loads((d / "metrics.json").read_text()) for d in (seed4, one))
    assert m_many["seed"] == 4
    assert {k: v for k, v in m_many.items() if k not in timing} == {
        k: v for k, v in m_one.items() if k not in timing
    }
    for name in ("params.json", "raster.png", "comparison.png", "weights.png"):
        assert (seed4 / name).read_bytes() == (one / name).read_bytes(), name
    assert leftovers(many) == [] and leftovers(tmp_path) == []


def test_run_seeds_uses_the_circuits_compile_once_hook(fake, tmp_path, capsys):
    # under cpp_standalone, a circuit's simulate_seeds hook makes every seed's simulation
    hook_calls = []

    def simulate_seeds(params, seeds, device, progress):
        hook_calls.append((list(seeds), device))
        for seed in seeds:
            result = fake.simulate(params, seed=seed, device=device, progress=False)
            result.wall_seconds = 0.25
            yield result

    fake.simulate_seeds = simulate_seeds
    out_dir = tmp_path / "out"
    argv = ["run", FAKE, "--device", "cpp_standalone", "--seeds", "2,3", "--out", str(out_dir)]
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 0, err
    assert hook_calls == [([2, 3], "cpp_standalone")]
    assert fake.calls == [(FakeParams(), s, "cpp_standalone", False) for s in (2, 3)]
    for seed in (2, 3):
        metrics = json.loads((out_dir / f"seed-{seed}" / "metrics.json").read_text())
        assert metrics["seed"] == seed and metrics["device"] == "cpp_standalone"
        assert metrics["simulate_wall_seconds"] == 0.25  # the simulation's own time
    assert "compiled once" in err
    # the runtime device simulates seed by seed
    assert circuits.reuses_compiled(fake, "cpp_standalone")
    assert not circuits.reuses_compiled(fake, "runtime")


def _series_hook(fake):
    """Give the fake circuit a compile-once hook: ``--seeds`` under cpp_standalone then
    runs as a series (one worker process writes every seed's data files)."""

    def simulate_seeds(params, seeds, device, progress):
        for seed in seeds:
            yield fake.simulate(params, seed=seed, device=device, progress=False)

    fake.simulate_seeds = simulate_seeds
    return ["--device", "cpp_standalone", "--no-progress", "--seeds", "1,2"]


def test_run_series_writes_the_same_data_files_as_single_runs(fake, tmp_path, capsys):
    import neo

    rc, _, err = run_cli(capsys, "run", FAKE, *_series_hook(fake), "--out", str(tmp_path / "s"))
    assert rc == 0, err
    for seed in (1, 2):
        single = tmp_path / f"one-{seed}"
        argv = ["run", FAKE, "--device", "cpp_standalone", "--seed", str(seed)]
        assert run_cli(capsys, *argv, "--out", str(single))[0] == 0
        blocks = []
        for path in (tmp_path / "s" / f"seed-{seed}" / "data.nix", single / "data.nix"):
            io = neo.io.NixIO(str(path), mode="ro")
            blocks.append(io.read_block())
            io.close()
        series, one = blocks
        assert series.annotations["seed"] == one.annotations["seed"] == seed
        trains = [[st.times.magnitude for st in b.segments[0].spiketrains] for b in blocks]
        assert len(trains[0]) == len(trains[1]) > 0
        for a, b in zip(*trains, strict=True):
            np.testing.assert_array_equal(a, b)
    assert leftovers(tmp_path / "s") == []


def test_run_seeds_refuses_existing_output_of_any_seed_before_simulating(fake, tmp_path, capsys):
    (tmp_path / "out" / "seed-1").mkdir(parents=True)
    (tmp_path / "out" / "seed-1" / "metrics.json").write_text("{}")
    rc, _, err = run_cli(capsys, "run", FAKE, "--seeds", "0-2", "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "seed-1", "--force")
    assert fake.calls == []


@pytest.mark.parametrize(
    "argv",
    [["--seed", "1", "--seeds", "0-2"], ["--seeds", "2-1"], ["--seeds", "x"]],
)
def test_run_seeds_bad_usage(fake, tmp_path, capsys, argv):
    rc, _, err = run_cli(capsys, "run", FAKE, *argv, "--out", str(tmp_path / "o"))
    assert rc == 2
    assert fake.calls == []


# -- NWB output and export ---------------------------------------------------------------


def test_run_format_nwb_writes_data_nwb_instead(fake, tmp_path, capsys):
    require("pynwb", "nwb")
    from spikingml.export import read_nwb

    out_dir = tmp_path / "out"
    rc, out, err = run_cli(
        capsys, "run", FAKE, "--quick", "--format", "nwb", "--out", str(out_dir)
    )
    assert rc == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert "data.nwb" in names and "data.nix" not in names
    back = read_nwb(out_dir / "data.nwb")
    assert back.circuit == FAKE and back.synaptic_events == 1234
    assert str(out_dir / "data.nwb") in out


def test_run_format_both_and_refusal(fake, tmp_path, capsys):
    require("pynwb", "nwb")
    out_dir = tmp_path / "out"
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--format", "both", "--out", str(out_dir))
    assert rc == 0, err
    assert (out_dir / "data.nix").is_file() and (out_dir / "data.nwb").is_file()
    rc, _, err = run_cli(capsys, "run", FAKE, "--quick", "--format", "nwb", "--out", str(out_dir))
    assert_one_line_error(rc, err, "data.nwb", "--force")


def test_run_bad_format_is_a_usage_error(fake, tmp_path, capsys):
    rc, _, err = run_cli(capsys, "run", FAKE, "--format", "hdf5", "--out", str(tmp_path))
    assert rc == 2 and "invalid choice" in err


def test_export_converts_nix_to_nwb_and_back(fake, tmp_path, capsys):
    require("pynwb", "nwb")
    from spikingml.export import read_nwb

    out_dir = tmp_path / "out"
    assert run_cli(capsys, "run", FAKE, "--quick", "--out", str(out_dir))[0] == 0
    rc, out, err = run_cli(capsys, "export", str(out_dir), "--to", "nwb")
    assert rc == 0, err
    assert "without weights and extra" in out
    nix = read_nix(out_dir / "data.nix")
    back = read_nwb(out_dir / "data.nwb")
    n_nix = sum(len(st) for seg in nix.segments for st in seg.spiketrains)
    assert sum(len(sd.times) for sd in back.populations.values()) == n_nix
    assert back.circuit == FAKE

    rc, _, err = run_cli(capsys, "export", str(out_dir), "--to", "nwb")
    assert_one_line_error(rc, err, "data.nwb", "force=True")
    (out_dir / "data.nix").unlink()
    rc, _, err = run_cli(capsys, "export", str(out_dir), "--to", "nix")
    assert rc == 0, err
    assert read_nix(out_dir / "data.nix").annotations["circuit"] == FAKE


def test_export_without_data_file_is_one_line(fake, tmp_path, capsys):
    rc, _, err = run_cli(capsys, "export", str(tmp_path), "--to", "nwb")
    assert_one_line_error(rc, err, "RUN_DIR", "data.nix")
