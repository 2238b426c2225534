"""Tests of parameter sweeps on Dask (spikingml.sweep and ``spikingml sweep``).

The swept circuit is ``tests/sweep_fake_circuit.py``: Brian2-free, with metrics that are
known functions of the parameters and the seed, so every cell of the table can be
checked. The sweeps run on a real embedded LocalCluster of worker processes, and on a
Dask scheduler and worker started here as separate processes on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _optional import require

require("distributed", "sweep")

import spikingml.circuits as circuits  # noqa: E402
from spikingml.cli import main  # noqa: E402
from spikingml.errors import OutputExistsError, ValidationError  # noqa: E402
from spikingml.sweep import (  # noqa: E402
    SweepInterrupted,
    SweepRun,
    parse_grid,
    parse_seeds,
    plan_runs,
    plot_summary,
    read_table,
    sweep,
)

TESTS = Path(__file__).resolve().parent
FAKE = "sweep-fake"
FAKE_MODULE = "sweep_fake_circuit"

import sweep_fake_circuit  # noqa: E402
from sweep_fake_circuit import RELEASE, SIGNALS_ENV  # noqa: E402


@pytest.fixture
def fake_registered(monkeypatch):
    monkeypatch.setitem(circuits.REGISTRY, FAKE, FAKE_MODULE)
    monkeypatch.syspath_prepend(str(TESTS))
    return sweep_fake_circuit


def _expected_score(gain: float, tau_ms: float, seed: int) -> float:
    return gain * (seed + 1) + tau_ms


# -- parsing ----------------------------------------------------------------------------


def test_parse_grid_keeps_values_as_given():
    grid = parse_grid(["tau=10 ms, 20 ms", "gain=1,2.5"])
    assert grid == {"tau": ["10 ms", "20 ms"], "gain": ["1", "2.5"]}
    assert parse_grid(None) == {}


@pytest.mark.parametrize(
    "item, fragment",
    [
        ("tau", "FIELD=VALUE"),
        ("=1,2", "FIELD=VALUE"),
        ("tau=", "comma-separated"),
        ("tau=1,,2", "comma-separated"),
        ("tau=1,1", "distinct"),
        ("2tau=1", "FIELD=VALUE"),
    ],
)
def test_parse_grid_rejects_malformed_items(item, fragment):
    with pytest.raises(ValidationError, match="--grid") as info:
        parse_grid([item])
    assert fragment in str(info.value)


def test_parse_grid_rejects_a_repeated_field():
    with pytest.raises(ValidationError, match="each field once"):
        parse_grid(["gain=1", "gain=2"])


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("7") == [7]
    assert parse_seeds("5-7, 0,3,3") == [0, 3, 5, 6, 7]
    for bad in ("", "a", "-1", "5-2", "1.5", "0-"):
        with pytest.raises(ValidationError, match="--seeds"):
            parse_seeds(bad)


def test_plan_validates_every_value_before_running(fake_registered):
    runs = plan_runs(fake_registered, {"gain": ["1", "2"]}, [0, 1], quick=False)
    assert [(r.values, r.seed) for r in runs] == [
        ((("gain", "1"),), 0),
        ((("gain", "1"),), 1),
        ((("gain", "2"),), 0),
        ((("gain", "2"),), 1),
    ]
    assert len({r.run_id for r in runs}) == 4
    with pytest.raises(ValidationError, match=r"SweepFake\.Params\.tau"):
        plan_runs(fake_registered, {"tau": ["10 ms", "-3 ms"]}, [0], quick=False)
    with pytest.raises(ValidationError, match="field name"):
        plan_runs(fake_registered, {"nope": ["1"]}, [0], quick=False)


def test_run_id_is_stable_and_distinguishes_runs():
    a = SweepRun((("gain", "1"),), 0)
    assert a.run_id == SweepRun((("gain", "1"),), 0).run_id
    assert a.run_id != SweepRun((("gain", "1"),), 1).run_id
    assert a.run_id != SweepRun((("gain", "2"),), 0).run_id
    assert len(a.run_id) == 12


# -- sweeps on a LocalCluster -----------------------------------------------------------


@pytest.fixture(scope="module")
def signals(tmp_path_factory):
    """The directory of the fake circuit's signal files, for the shared cluster's workers."""
    return tmp_path_factory.mktemp("signals")


@pytest.fixture(scope="module")
def dask_client(signals):
    """One LocalCluster (2 worker processes) shared by the tests that pass ``client=``."""
    import logging

    from dask.distributed import Client, LocalCluster

    if str(TESTS) not in sys.path:  # worker processes inherit sys.path when they start
        sys.path.insert(0, str(TESTS))
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},  # 8787 may be taken (a sweep's own)
        silence_logs=logging.ERROR,
        env={SIGNALS_ENV: str(signals)},
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_cli_sweep_on_embedded_local_cluster(fake_registered, tmp_path, capsys):
    """Every run in the table with its known metrics; failed runs recorded, exit 1."""
    out = tmp_path / "sweep"
    status = main(
        [
            "sweep",
            FAKE,
            "--grid",
            "gain=1,3",
            "tau=10 ms,20 ms",
            "fail_seed=-1,2",
            "--seeds",
            "0-2",
            "--workers",
            "2",
            "--out",
            str(out),
            "--format",
            "parquet",
        ]
    )
    assert status == 1  # the sweep finished; 4 of its runs failed as planned
    captured = capsys.readouterr()
    assert "20 runs ok, 4 failed" in captured.out
    assert "4 of 24 runs failed" in captured.err and "planned failure at seed 2" in captured.err
    rows = read_table(out / "runs.csv")
    assert len(rows) == 24
    assert len({r["run_id"] for r in rows}) == 24
    for row in rows:
        assert row["circuit"] == FAKE and row["preset"] == "default"
        if row["fail_seed"] == row["seed"]:
            assert row["status"] == "error" and row["score"] == ""
            assert "RuntimeError: planned failure" in row["error"]
            trace = (out / "errors" / f"{row['run_id']}.txt").read_text()
            assert "Traceback" in trace and "seed 2" in trace
            continue
        assert row["status"] == "ok" and row["error"] == ""
        tau_ms = float(row["tau"].split()[0])
        expected = _expected_score(float(row["gain"]), tau_ms, int(row["seed"]))
        assert float(row["score"]) == pytest.approx(expected, rel=1e-12)
        assert float(row["seed_echo"]) == int(row["seed"])
        assert float(row["simulated_seconds"]) == 0.5
        assert float(row["wall_seconds"]) >= 0
    # the runs ran in the 2 worker processes, not in this one
    pids = {int(float(r["worker_pid"])) for r in rows if r["status"] == "ok"}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert (out / "summary.png").stat().st_size > 10_000
    assert (out / "sweep.json").exists()
    import pyarrow.parquet as pq

    table = pq.read_table(out / "runs.parquet").to_pylist()
    assert [r["run_id"] for r in table] == [r["run_id"] for r in rows]
    for parquet_row, row in zip(table, rows, strict=True):
        expected = float(row["score"]) if row["score"] else None
        assert parquet_row["score"] == expected
    assert table[0]["seed"] == int(rows[0]["seed"]) and isinstance(table[0]["tau"], str)


def test_resume_runs_failed_runs_again(fake_registered, tmp_path, dask_client):
    out = tmp_path / "sweep"
    grid = {"fail_seed": ["1"]}
    sweep(FAKE, out, grid=grid, seeds=[0, 1, 2], client=dask_client, progress=False)
    rows = read_table(out / "runs.csv")
    failed_id = next(r["run_id"] for r in rows if r["status"] == "error")
    sweep(FAKE, out, grid=grid, seeds=[0, 1, 2], client=dask_client, progress=False, resume=True)
    rows = read_table(out / "runs.csv")
    assert len(rows) == 4  # only the failed run ran again (and failed again)
    assert [r["status"] for r in rows if r["run_id"] == failed_id] == ["error", "error"]


def test_params_file_gives_the_base_values_and_the_grid_wins(
    fake_registered, tmp_path, capsys, dask_client, monkeypatch
):
    import spikingml.sweep as sweep_module

    real_sweep = sweep_module.sweep
    monkeypatch.setattr(  # the CLI on the shared cluster rather than one of its own
        sweep_module, "sweep", lambda *a, **k: real_sweep(*a, **{**k, "client": dask_client})
    )
    base_file = tmp_path / "base.toml"
    base_file.write_text('gain = 3\ntau = "40 ms"\n')
    out = tmp_path / "sweep"
    argv = ["sweep", FAKE, "--out", str(out), "--no-progress", "--params", str(base_file)]
    assert main([*argv, "--grid", "tau=10 ms,20 ms", "--seeds", "0-1"]) == 0
    rows = read_table(out / "runs.csv")
    for row in rows:  # gain from the file, tau from the grid
        tau_ms = float(row["tau"].split()[0])
        assert float(row["score"]) == pytest.approx(_expected_score(3.0, tau_ms, int(row["seed"])))
    assert json.loads((out / "sweep.json").read_text())["base"] == {"gain": "3", "tau": "40 ms"}
    # resuming with other base values would mix two sweeps in one table
    base_file.write_text("gain = 4\n")
    assert main([*argv, "--grid", "tau=10 ms,20 ms", "--seeds", "0-2", "--resume"]) == 2
    assert "--params" in capsys.readouterr().err
    # a bad value in the file names the file and the field, before anything runs
    base_file.write_text('tau = "-1 ms"\n')
    assert main([*argv[:3], str(tmp_path / "other"), *argv[4:]]) == 2
    err = capsys.readouterr().err
    assert f"SweepFake.Params.tau (in {base_file})" in err
    assert not (tmp_path / "other").exists()


def test_existing_sweep_needs_resume_or_force(fake_registered, tmp_path, capsys, dask_client):
    out = tmp_path / "sweep"
    sweep(FAKE, out, seeds=[0, 1], client=dask_client, progress=False)
    before = (out / "runs.csv").read_text()
    base = ["sweep", FAKE, "--workers", "1", "--out", str(out), "--no-progress"]
    assert main([*base, "--seeds", "0-3"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (out / "runs.csv").read_text() == before  # untouched
    # resume keeps the two finished runs (same lines) and adds the two missing ones
    sweep(FAKE, out, seeds=range(4), client=dask_client, progress=False, resume=True)
    assert (out / "runs.csv").read_text().startswith(before)
    assert sorted(int(r["seed"]) for r in read_table(out / "runs.csv")) == [0, 1, 2, 3]
    # a different grid cannot be appended to this table
    assert main([*base, "--grid", "gain=1,2", "--resume"]) == 2
    assert "columns" in capsys.readouterr().err
    assert main([*base, "--resume", "--force"]) == 2
    # --force starts over
    sweep(FAKE, out, seeds=[5], client=dask_client, progress=False, force=True)
    assert [r["seed"] for r in read_table(out / "runs.csv")] == ["5"]


def test_resume_ignores_a_line_cut_short_by_a_crash(fake_registered, tmp_path, dask_client):
    out = tmp_path / "sweep"
    sweep(FAKE, out, seeds=[0, 1], client=dask_client, progress=False)
    path = out / "runs.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:15])  # last row half written
    assert len(read_table(path)) == 1
    sweep(FAKE, out, seeds=[0, 1], client=dask_client, progress=False, resume=True)
    rows = read_table(path)
    assert sorted(r["seed"] for r in rows) == ["0", "1"]
    assert all(r["status"] == "ok" for r in rows)


def test_sweep_rejects_bad_options_before_running(fake_registered, tmp_path, capsys):
    out = tmp_path / "sweep"
    base = ["sweep", FAKE, "--out", str(out), "--no-progress"]
    for extra, fragment in [
        (["--workers", "0"], "--workers"),
        (["--seeds", "3-1"], "--seeds"),
        (["--grid", "tau=5"], "SweepFake.Params.tau"),
        (["--device", "gpu"], "device"),
    ]:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("spikingml: error:") and fragment in err
        assert err.count("\n") == 1
    assert not (out / "runs.csv").exists()
    with pytest.raises(ValidationError, match="--resume"):
        sweep(FAKE, out, resume=True, progress=False)
    out.mkdir()
    (out / "runs.csv").write_text("x\n")
    with pytest.raises(OutputExistsError):
        sweep(FAKE, out, progress=False)


def test_sigterm_keeps_finished_runs_and_resume_completes(
    fake_registered, tmp_path, dask_client, signals
):
    """SIGTERM mid-sweep: whole rows only, SweepInterrupted; resume runs the rest."""
    import threading

    out = tmp_path / "sweep"
    table = out / "runs.csv"
    release = signals / RELEASE
    release.unlink(missing_ok=True)
    # seeds 0 and 1 finish; seeds from 2 on are held (in the workers) until `release`
    # exists, so the table holds exactly two rows when SIGTERM comes, however slow the
    # machine
    kwargs = dict(grid={"hold_from": ["2"]}, seeds=range(8), client=dask_client, progress=False)
    seen = []

    def terminate_after_two_rows():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if table.exists() and len(read_table(table)) >= 2:
                seen.append(len(read_table(table)))
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.02)
        release.touch()  # the two rows never came: let the sweep end (and the test fail)

    killer = threading.Thread(target=terminate_after_two_rows, daemon=True)
    killer.start()
    try:
        with pytest.raises(SweepInterrupted, match="--resume"):
            sweep(FAKE, out, **kwargs)
    finally:
        killer.join()
        release.touch()  # the held runs end; their tasks were cancelled
    assert seen == [2]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    rows = read_table(table)
    assert sorted(int(r["seed"]) for r in rows) == [0, 1]
    assert table.read_text().endswith("\n")
    assert (out / "summary.png").exists()  # written for the finished runs
    sweep(FAKE, out, resume=True, **kwargs)
    final = read_table(table)
    assert sorted(int(r["seed"]) for r in final) == list(range(8))
    assert final[: len(rows)] == rows  # earlier rows kept as they were
    assert json.loads((out / "sweep.json").read_text())["workers_lost"] == 0


def _planned_ids(grid, seeds) -> list[str]:
    return sorted(r.run_id for r in plan_runs(sweep_fake_circuit, grid, seeds, quick=False))


def test_a_sweep_survives_the_loss_of_a_worker(fake_registered, tmp_path, capsys, monkeypatch):
    """A worker process killed mid-task (SIGKILL, on the embedded LocalCluster): Dask runs
    the task again on another worker; every run is in the table exactly once, and the
    sweep says that it lost a worker (on stderr and in sweep.json)."""
    signals = tmp_path / "signals"
    signals.mkdir()
    monkeypatch.setenv(SIGNALS_ENV, str(signals))  # the workers inherit it
    out = tmp_path / "sweep"
    grid = {"kill_seed": ["3"]}
    argv = ["sweep", FAKE, "--grid", "kill_seed=3", "--seeds", "0-5", "--workers", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    killed = int((signals / "killed-seed-3").read_text())  # the worker that ran seed 3 first
    assert killed != os.getpid()
    rows = read_table(out / "runs.csv")
    assert sorted(r["run_id"] for r in rows) == _planned_ids(grid, range(6))  # each once
    assert all(r["status"] == "ok" for r in rows)
    for row in rows:
        assert float(row["score"]) == _expected_score(1.0, 10.0, int(row["seed"]))
    rerun = next(r for r in rows if r["seed"] == "3")
    assert int(float(rerun["worker_pid"])) != killed  # it ran again, in another process
    # (the killed worker may have finished other runs before seed 3: their rows keep its pid)
    assert json.loads((out / "sweep.json").read_text())["workers_lost"] == 1
    assert "1 worker(s) lost while running its tasks" in err
    assert "run again on other workers" in err


def test_a_run_whose_workers_keep_dying_is_an_error_row(
    fake_registered, tmp_path, capsys, monkeypatch
):
    """With no failures allowed (distributed.scheduler.allowed-failures = 0) the task of a
    killed worker is not run again: its run gets an error row (KilledWorker), the sweep
    goes on, and --resume runs it again."""
    import dask

    signals = tmp_path / "signals"
    signals.mkdir()
    monkeypatch.setenv(SIGNALS_ENV, str(signals))
    out = tmp_path / "sweep"
    argv = ["sweep", FAKE, "--grid", "kill_seed=1", "--seeds", "0-3", "--workers", "2"]
    argv += ["--out", str(out), "--no-progress"]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert "1 worker(s) lost" in err and "KilledWorker" in err
    rows = read_table(out / "runs.csv")
    assert sorted(r["run_id"] for r in rows) == _planned_ids({"kill_seed": ["1"]}, range(4))
    # seed 1's run, and any other the killed worker held (Dask may give a worker a second
    # task before the first ends), failed; the other worker's ran
    failed = [r for r in rows if r["status"] != "ok"]
    assert "1" in {r["seed"] for r in failed} and 1 <= len(failed) <= 3
    for row in failed:
        assert row["error"].startswith("KilledWorker")
        assert "KilledWorker" in (out / "errors" / f"{row['run_id']}.txt").read_text()
    assert json.loads((out / "sweep.json").read_text())["workers_lost"] == 1
    # the marker stays, so the runs go through this time (appended after the failed
    # rows, which the table keeps); the count of lost workers is kept
    sweep(
        FAKE,
        out,
        grid={"kill_seed": ["1"]},
        seeds=range(4),
        workers=2,
        resume=True,
        progress=False,
    )
    rows = read_table(out / "runs.csv")
    assert sorted(r["seed"] for r in rows if r["status"] == "ok") == ["0", "1", "2", "3"]
    assert json.loads((out / "sweep.json").read_text())["workers_lost"] == 1


def test_cli_reports_an_interrupted_sweep_with_status_130(
    fake_registered, tmp_path, capsys, monkeypatch
):
    import spikingml.sweep

    def interrupted(*args, **kwargs):
        raise SweepInterrupted("sweep interrupted: 3 runs are in x; ... --resume ...")

    monkeypatch.setattr(spikingml.sweep, "sweep", interrupted)
    assert main(["sweep", FAKE, "--out", str(tmp_path / "s")]) == 130
    assert "3 runs are in x" in capsys.readouterr().err


# -- a scheduler started here ---------------------------------------------------------


def test_sweep_against_a_scheduler_on_localhost(fake_registered, tmp_path):
    """The --scheduler path: a `dask scheduler` and a `dask worker` started as processes."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1"}
    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), "the Dask scheduler did not start"
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [
                str(bin_dir / "dask"),
                "worker",
                address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        out = tmp_path / "sweep"
        status = main(
            [
                "sweep",
                FAKE,
                "--grid",
                "gain=0.5,2",
                "--seeds",
                "0-1",
                "--scheduler",
                address,
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        assert status == 0
        rows = read_table(out / "runs.csv")
        assert len(rows) == 4
        for row in rows:
            expected = _expected_score(float(row["gain"]), 10.0, int(row["seed"]))
            assert float(row["score"]) == pytest.approx(expected, rel=1e-12)
        assert len({int(float(r["worker_pid"])) for r in rows}) == 1
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def test_unreachable_scheduler_is_a_clean_error(fake_registered, tmp_path, capsys, monkeypatch):
    import spikingml.sweep

    monkeypatch.setattr(spikingml.sweep, "CONNECT_TIMEOUT", "2s")
    status = main(
        [
            "sweep",
            FAKE,
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "s"),
            "--no-progress",
        ]
    )
    assert status == 2
    assert "--scheduler" in capsys.readouterr().err


# -- the summary figure -----------------------------------------------------------------


def test_summary_plots_a_categorical_field_and_several_groups(
    fake_registered, tmp_path, monkeypatch
):
    # x: the categorical field "mode" (ticks a, b); one line per value of "gain", in the
    # legend; a panel per metric with values ("missing" has none); failed runs left out
    import spikingml.plotting

    figures = []
    save = spikingml.plotting.save_figure
    monkeypatch.setattr(
        spikingml.plotting, "save_figure", lambda fig, path: (figures.append(fig), save(fig, path))
    )
    rows = []
    for gain in ("1", "2"):
        for mode in ("a", "b"):
            for seed in range(3):
                rows.append(
                    {
                        "gain": gain,
                        "mode": mode,
                        "seed": str(seed),
                        "status": "ok",
                        "score": str(float(gain) + seed),
                    }
                )
    rows.append({"gain": "1", "mode": "a", "seed": "9", "status": "error", "score": ""})
    path = plot_summary(rows, ["mode", "gain"], ["score", "missing"], tmp_path / "s.png")
    assert path.stat().st_size > 5_000
    (fig,) = figures
    (ax,) = [ax for ax in fig.axes if ax.get_visible()]
    assert ax.get_title() == "score" and ax.get_xlabel() == "mode"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["gain=1", "gain=2"]
    means = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [line.get_label() for line in means] == ["gain=1", "gain=2"]
    for line, gain in zip(means, (1.0, 2.0), strict=True):
        # at a and b, the mean over seeds 0-2 of gain + seed
        np.testing.assert_allclose(line.get_xdata(), [0.0, 1.0])
        np.testing.assert_allclose(line.get_ydata(), [gain + 1.0, gain + 1.0])
    assert [len(line.get_xdata()) for line in dots] == [6, 6]  # the failed run is no dot
    assert len(ax.collections) == 2  # a band of +- one standard deviation per line


def test_summary_panels_and_their_labels_neither_overlap_nor_leave_the_figure(monkeypatch):
    # the panels are placed by hand in inches (no layout engine): every panel with its
    # tick labels, axis labels and title must fit in its own cell
    import spikingml.plotting

    figures = []
    monkeypatch.setattr(spikingml.plotting, "save_figure", lambda fig, path: figures.append(fig))
    rows = [
        {"tau": tau, "seed": str(seed), "status": "ok", **{f"m{i}": str(value) for i in range(5)}}
        for tau in ("10 ms", "20 ms")
        for seed, value in enumerate((0.99951, 123456.5, -1.5e-6))
    ]
    metrics = [f"m{i}" for i in range(5)]
    plot_summary(rows, ["tau"], metrics, "unused.png", title="a sweep (default preset, 3 seeds)")
    (fig,) = figures
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # the figure is closed: draw it on a canvas of its own
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    assert len(boxes) == len(metrics)
    for box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    title = fig._suptitle.get_window_extent(renderer)
    assert title.y0 > max(box.y1 for box in boxes) and title.y1 <= height


def test_fork_server_imports_the_circuit_and_passes_the_environment(monkeypatch):
    # workers forked from it start with Brian2 imported, this process's environment (as
    # at the start) plus one BLAS thread; it stops when the block ends and leaves this
    # process's environment as it was
    import multiprocessing
    import multiprocessing.forkserver

    from spikingml.sweep import _fork_server

    monkeypatch.setenv("SPIKINGML_TEST_MARK", "from the parent")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    server = multiprocessing.forkserver._forkserver
    with _fork_server(["brian2", "json"]) as running:
        assert running
        assert "OMP_NUM_THREADS" not in os.environ
        context = multiprocessing.get_context("forkserver")
        queue = context.SimpleQueue()
        child = context.Process(target=_report_child, args=(queue,))
        child.start()
        report = queue.get()
        child.join(timeout=30)
        assert child.exitcode == 0
        pid = server._forkserver_pid
        with _fork_server(["json"]) as again:  # one runs already: left alone
            assert not again
        assert server._forkserver_pid == pid
    assert report == {
        "brian2": True,
        "mark": "from the parent",
        "omp": "1",
        "parent": pid,
    }
    assert server._forkserver_pid is None
    assert "OMP_NUM_THREADS" not in os.environ


def _report_child(queue) -> None:
    queue.put(
        {
            "brian2": "brian2" in sys.modules,
            "mark": os.environ.get("SPIKINGML_TEST_MARK"),
            "omp": os.environ.get("OMP_NUM_THREADS"),
            "parent": os.getppid(),
        }
    )


def test_checking_a_sweep_needs_no_brian2():
    # the command line checks --seeds and --grid, and the workers start, before Brian2 is
    # imported (seconds): keep the modules involved free of it
    code = (
        "import sys\n"
        "from spikingml import cli\n"
        "from spikingml.sweep import parse_grid, parse_seeds\n"
        "from spikingml._checks import check_device, check_seed\n"
        "import spikingml.circuits\n"
        "parse_seeds('0-3,7'); parse_grid(['tau=1 ms,2 ms']); check_seed(3)\n"
        "check_device('runtime')\n"
        "print(sorted(m for m in ('brian2', 'sympy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_seeds_gives_the_rows_of_run_one(fake_registered):
    # the seeds of one combination in one task: the same rows as one task per seed, and a
    # failing seed neither hides the others nor stops them
    from spikingml.sweep import run_one, run_seeds

    values = (("gain", "3"), ("fail_seed", "1"))
    rows = run_seeds(FAKE_MODULE, False, values, [0, 1, 2], "runtime")
    singles = [run_one(FAKE_MODULE, False, values, s, "runtime") for s in (0, 1, 2)]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert "planned failure at seed 1" in rows[1]["error"]
    # seed 0 came from the hook; after the failure, seed 2 ran on its own
    assert [r["metrics"].get("batch_size") for r in rows] == [3.0, None, 1.0]
    ignore = {"worker_pid", "batch_size"}
    for row, single in zip(rows, singles, strict=True):
        assert row["status"] == single["status"]
        assert {k: v for k, v in row["metrics"].items() if k not in ignore} == {
            k: v for k, v in single["metrics"].items() if k not in ignore
        }
        assert row["wall_seconds"] >= 0


def test_standalone_sweep_runs_the_seeds_of_a_combination_together(
    fake_registered, tmp_path, dask_client
):
    # cpp_standalone and a simulate_seeds hook: one task per combination, its seeds
    # simulated together (compiled once); runtime: one task per run
    out = tmp_path / "standalone"
    grid = {"gain": ["1", "3"]}
    sweep(
        FAKE,
        out,
        grid=grid,
        seeds=[0, 1, 2],
        device="cpp_standalone",
        client=dask_client,
        progress=False,
    )
    rows = read_table(out / "runs.csv")
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows)
    assert {float(r["batch_size"]) for r in rows} == {3.0}
    for gain in ("1", "3"):
        assert len({r["worker_pid"] for r in rows if r["gain"] == gain}) == 1
        assert sorted(int(r["seed"]) for r in rows if r["gain"] == gain) == [0, 1, 2]
    sweep(FAKE, tmp_path / "runtime", grid=grid, seeds=[0, 1], client=dask_client, progress=False)
    rows = read_table(tmp_path / "runtime" / "runs.csv")
    assert {float(r["batch_size"]) for r in rows} == {1.0}


def test_standalone_sweep_groups_the_runs_of_one_structure():
    # cpp_standalone and a simulate_many hook (td-conditioning): runs that differ only in
    # run-time fields (A_plus) and seeds share one program, so one group; a structural
    # field (n_critic) makes a program per value; the runtime device groups nothing
    from spikingml.circuits import td_conditioning as td
    from spikingml.sweep import _groups, plan_runs

    grid = {"A_plus": ["1.0", "2.0"], "n_critic": ["40", "50"]}
    todo = plan_runs(td, grid, [0, 1], quick=True)
    module = "spikingml.circuits.td_conditioning"
    groups = _groups(module, "cpp_standalone", todo, quick=True)
    assert len(groups) == 2
    for group in groups:
        assert len({dict(run.values)["n_critic"] for run in group}) == 1
        assert {dict(run.values)["A_plus"] for run in group} == {"1.0", "2.0"}
        assert sorted({run.seed for run in group}) == [0, 1]
    # base values (--params) count: a structural base value is every run's
    based = _groups(module, "cpp_standalone", todo, quick=True, base={"n_bins": "12"})
    assert len(based) == 2
    assert len(_groups(module, "runtime", todo, quick=True)) == len(todo)


def test_run_group_gives_the_rows_of_run_one():
    # the runs of one structure in one task (runtime device here: the grouping is the
    # same code path): the same metrics as one task per run
    from spikingml.sweep import run_group, run_one

    module = "spikingml.circuits.td_conditioning"
    small = (("n_acquisition", "4"), ("n_extinction", "5"), ("omission_every", "2"))
    runs = [((*small, ("A_plus", a)), 0) for a in ("1.0", "3.0")]
    rows = run_group(module, True, runs, "runtime")
    singles = [run_one(module, True, values, seed, "runtime") for values, seed in runs]
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert rows[0]["metrics"] != rows[1]["metrics"]  # the learning rate mattered
    for row, single in zip(rows, singles, strict=True):
        assert row["metrics"].keys() == single["metrics"].keys()
        np.testing.assert_array_equal(
            list(row["metrics"].values()), list(single["metrics"].values())
        )
