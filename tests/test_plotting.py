"""Tests of spikingml.plotting: raster + PSTH figure, psth helper, atomic save."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from spikingml.errors import ValidationError  # noqa: E402
from spikingml.plotting import (  # noqa: E402
    EVENT_COLORS,
    POPULATION_COLORS,
    psth,
    raster,
    save_figure,
)
from spikingml.result import Phase, Result, SpikeData  # noqa: E402


def regular_train(n_neurons: int, period: float, t_stop: float, phase: float = 0.005):
    """Every neuron fires every ``period`` seconds, off the bin edges by ``phase``."""
    times = phase + period * np.arange(int(round(t_stop / period)))
    return SpikeData(
        indices=np.repeat(np.arange(n_neurons), times.size),
        times=np.tile(times, n_neurons),
        size=n_neurons,
    )


@pytest.fixture
def result() -> Result:
    rng = np.random.default_rng(1)
    n_inh = 500
    inh_times = rng.uniform(0.0, 2.0, n_inh)
    return Result(
        circuit="synthetic",
        params={},
        seed=1,
        device="runtime",
        populations={
            "E": regular_train(10, 0.01, 2.0),  # 100 Hz each
            "I": SpikeData(rng.integers(0, 5, n_inh), inh_times, 5),
            "silent": SpikeData([], [], 3),
        },
        events={
            "CS": np.array([0.2, 1.2]),
            "US": np.array([0.7, 1.7]),
            "reward": np.array([0.7, 5.0]),  # 5.0 is outside every window used here
        },
        phases=[Phase("acquisition", 0.0, 2.0)],
    )


def raster_lines(ax):
    return {line.get_gid(): line for line in ax.lines if str(line.get_gid()).startswith("raster:")}


def event_collections(ax):
    return {
        c.get_gid(): c
        for c in ax.collections
        if isinstance(c, LineCollection) and str(c.get_gid()).startswith("event:")
    }


def test_two_axes_sharing_x_with_window_limits(result):
    ax_raster, ax_rate = raster(result, t_start=0.25, t_stop=1.5)
    assert ax_raster.figure is ax_rate.figure
    assert ax_rate in ax_raster.get_shared_x_axes().get_siblings(ax_raster)
    assert ax_raster.get_xlim() == pytest.approx((0.25, 1.5))
    assert ax_rate.get_xlim() == pytest.approx((0.25, 1.5))
    assert ax_rate.get_xlabel() == "time (s)"
    assert ax_rate.get_ylabel() == "rate (Hz)"


def test_default_window_is_the_whole_run(result):
    ax_raster, _ = raster(result)
    assert ax_raster.get_xlim() == pytest.approx((0.0, 2.0))


def test_raster_points_are_the_spikes_in_the_window(result):
    t0, t1 = 0.25, 1.5
    ax_raster, _ = raster(result, t_start=t0, t_stop=t1)
    lines = raster_lines(ax_raster)
    assert set(lines) == {"raster:E", "raster:I", "raster:silent"}
    for name, spikes in result.populations.items():
        expected = np.count_nonzero((spikes.times >= t0) & (spikes.times <= t1))
        x = np.asarray(lines[f"raster:{name}"].get_xdata())
        assert x.size == expected
        assert np.all((x >= t0) & (x <= t1))


def test_populations_are_stacked_first_on_top_with_labels_and_colours(result):
    ax_raster, _ = raster(result)
    lines = raster_lines(ax_raster)
    y_e = np.asarray(lines["raster:E"].get_ydata())
    y_i = np.asarray(lines["raster:I"].get_ydata())
    assert y_e.min() > y_i.max()  # E (first) above I
    assert y_i.min() >= 3  # the 3 silent neurons at the bottom
    labels = [t.get_text() for t in ax_raster.get_yticklabels()]
    assert labels == ["E (10)", "I (5)", "silent (3)"]
    assert ax_raster.get_ylim() == pytest.approx((0.0, 18.0))
    assert matplotlib.colors.same_color(lines["raster:E"].get_color(), POPULATION_COLORS[0])
    assert matplotlib.colors.same_color(lines["raster:I"].get_color(), POPULATION_COLORS[1])
    separators = [line for line in ax_raster.lines if line.get_gid() == "separator"]
    assert len(separators) == 2


def test_small_populations_keep_a_visible_block():
    big = regular_train(1000, 0.1, 1.0)
    small = regular_train(2, 0.1, 1.0)
    res = Result("x", {}, 0, "runtime", {"big": big, "small": small}, simulated_seconds=1.0)
    ax_raster, _ = raster(res)
    y_small = np.asarray(raster_lines(ax_raster)["raster:small"].get_ydata())
    low, high = ax_raster.get_ylim()
    assert y_small.max() - y_small.min() > 0.02 * (high - low)
    assert y_small.max() < ax_raster.get_yticks()[0]  # below the big block's centre


def test_population_subset_keeps_colours(result):
    ax_raster, ax_rate = raster(result, populations=["I"], colors={"I": "red"})
    assert set(raster_lines(ax_raster)) == {"raster:I"}
    assert matplotlib.colors.same_color(raster_lines(ax_raster)["raster:I"].get_color(), "red")
    ax_raster, _ = raster(result, populations="I")
    color = raster_lines(ax_raster)["raster:I"].get_color()
    assert matplotlib.colors.same_color(color, POPULATION_COLORS[1])


def test_psth_panel_matches_hand_computed_rate(result):
    _, ax_rate = raster(result, t_start=0.0, t_stop=1.0, bin_width=0.02)
    steps = {p.get_gid(): p for p in ax_rate.patches}
    values, edges, _ = steps["psth:E"].get_data()
    assert edges == pytest.approx(np.linspace(0.0, 1.0, 51))
    # 10 neurons, one spike each per 10 ms: 2 spikes per neuron per 20 ms bin = 100 Hz.
    assert values == pytest.approx(np.full(50, 100.0))
    silent_values, _, _ = steps["psth:silent"].get_data()
    assert np.all(silent_values == 0)
    labels = ax_rate.get_legend_handles_labels()[1]
    assert labels == ["E", "I", "silent"]


def test_psth_helper():
    train = regular_train(10, 0.01, 1.0)
    centres, rate = psth(train.times, 10, 0.0, 1.0, 0.05)
    assert centres == pytest.approx(0.025 + 0.05 * np.arange(20))
    assert rate == pytest.approx(np.full(20, 100.0))
    # A partial last bin is divided by its own width; spikes outside are ignored.
    centres, rate = psth([0.1, 0.2, 0.95, 2.0], 2, 0.0, 1.0, 0.4)
    assert centres == pytest.approx([0.2, 0.6, 0.9])
    assert rate == pytest.approx([2 / (2 * 0.4), 0.0, 1 / (2 * 0.2)])


def test_event_lines_in_both_panels_with_legend(result):
    ax_raster, ax_rate = raster(result, t_start=0.0, t_stop=2.0)
    for ax in (ax_raster, ax_rate):
        found = event_collections(ax)
        assert set(found) == {"event:CS", "event:US", "event:reward"}
        cs_x = sorted(seg[0, 0] for seg in found["event:CS"].get_segments())
        assert cs_x == pytest.approx([0.2, 1.2])
        assert len(found["event:reward"].get_segments()) == 1  # 5.0 s is outside
        assert matplotlib.colors.same_color(
            found["event:CS"].get_color()[0][:3], EVENT_COLORS["CS"]
        )
    legend = ax_raster.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["CS (2)", "US (2)", "reward (1)"]


def test_events_can_be_left_out(result):
    ax_raster, ax_rate = raster(result, events=None)
    assert not event_collections(ax_raster) and not event_collections(ax_rate)
    ax_raster, _ = raster(result, events=("CS",), t_start=0.5, t_stop=1.0)
    assert not event_collections(ax_raster)  # no CS in the window


def test_subsampling_only_for_the_raster(result):
    ax_raster, ax_rate = raster(result, t_start=0.0, t_stop=1.0, max_points=100)
    lines = raster_lines(ax_raster)
    assert len(lines["raster:E"].get_xdata()) == 100
    assert "subsampled" in ax_raster.get_title(loc="left")
    values, _, _ = {p.get_gid(): p for p in ax_rate.patches}["psth:E"].get_data()
    assert values == pytest.approx(np.full(100, 100.0))


def test_draws_into_given_axes(result):
    fig = Figure()
    ax_top, ax_bottom = fig.subplots(2, 1)
    out = raster(result, axes=(ax_top, ax_bottom))
    assert out == (ax_top, ax_bottom)
    assert ax_bottom in ax_top.get_shared_x_axes().get_siblings(ax_top)


def test_many_spikes_are_rasterized():
    rng = np.random.default_rng(0)
    n = 20_000
    res = Result(
        circuit="dense",
        params={},
        seed=0,
        device="runtime",
        populations={"E": SpikeData(rng.integers(0, 400, n), rng.uniform(0, 1, n), 400)},
        simulated_seconds=1.0,
    )
    ax_raster, _ = raster(res)
    line = raster_lines(ax_raster)["raster:E"]
    assert line.get_rasterized()
    assert line.get_marker() in {".", "|", ","}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"t_start": 1.0, "t_stop": 1.0}, "t_stop"),
        ({"t_start": 1.0, "t_stop": 0.5}, "t_stop"),
        ({"bin_width": 0.0}, "bin_width"),
        ({"bin_width": -0.01}, "bin_width"),
        ({"populations": ["E", "nope"]}, "populations"),
        ({"max_points": 0}, "max_points"),
        ({"axes": ("a", "b")}, "axes"),
    ],
)
def test_bad_inputs_raise_validation_error(result, kwargs, name):
    with pytest.raises(ValidationError) as info:
        raster(result, **kwargs)
    assert info.value.name == name


def test_psth_bad_inputs():
    with pytest.raises(ValidationError):
        psth([0.1], 1, 1.0, 0.0, 0.1)
    with pytest.raises(ValidationError):
        psth([0.1], 1, 0.0, 1.0, 0.0)
    with pytest.raises(ValidationError):
        psth([0.1], 0, 0.0, 1.0, 0.1)


def test_save_figure_writes_png_atomically(result, tmp_path):
    ax_raster, _ = raster(result)
    out = tmp_path / "raster.png"
    out.write_bytes(b"old")
    assert save_figure(ax_raster.figure, out, dpi=50) == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["raster.png"]


def test_save_figure_failure_leaves_no_temp_file(result, tmp_path):
    ax_raster, _ = raster(result)
    with pytest.raises(ValueError):
        save_figure(ax_raster.figure, tmp_path / "raster.notaformat")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_closes_pyplot_figures(tmp_path):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, sharex=True)
    number = fig.number
    save_figure(fig, tmp_path / "f.png", dpi=30)
    assert not plt.fignum_exists(number)


# -- side_by_side ----------------------------------------------------------------------


def _heat_maps():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 4)), 0.1 * rng.normal(size=(6, 4)), np.linspace(-0.1, 0.3, 5)


def _side_by_side(**kwargs):
    from spikingml.plotting import side_by_side

    left, right, edges = _heat_maps()
    return side_by_side(
        left,
        right,
        x_edges=edges,
        titles=("spiking", "twin"),
        colorbar_labels=("rate (Hz)", "delta"),
        xlabel="time (s)",
        ylabel="trial",
        **kwargs,
    )


def test_side_by_side_scales_each_panel_symmetrically_and_adds_colour_bars():
    ax_left, ax_right = _side_by_side(markers={"CS": 0.0}, row_marks={"omission": [2, 4]})
    fig = ax_left.figure
    assert ax_left.get_title() == "spiking" and ax_right.get_title() == "twin"
    # a colour bar per panel, each centred on zero with its own scale
    bars = [ax for ax in fig.axes if ax not in (ax_left, ax_right)]
    assert [bar.get_ylabel() for bar in bars] == ["rate (Hz)", "delta"]
    (mesh_left,), (mesh_right,) = ax_left.collections, ax_right.collections
    for mesh in (mesh_left, mesh_right):
        assert mesh.norm.vmin == pytest.approx(-mesh.norm.vmax)
    assert mesh_right.norm.vmax < mesh_left.norm.vmax  # the twin's values are 10x smaller
    assert ax_left.get_ylim() == (5.5, -0.5)  # first trial on top


def test_side_by_side_draws_colour_bars_into_given_axes():
    fig = Figure(figsize=(6, 3))
    panels = [fig.add_axes((0.1, 0.1, 0.3, 0.8)), fig.add_axes((0.55, 0.1, 0.3, 0.8))]
    bars = [fig.add_axes((0.42, 0.1, 0.02, 0.8)), fig.add_axes((0.87, 0.1, 0.02, 0.8))]
    _side_by_side(axes=panels, colorbar_axes=bars)
    assert len(fig.axes) == 4  # no axes added: the bars are the given ones
    assert [bar.get_ylabel() for bar in bars] == ["rate (Hz)", "delta"]
    assert panels[0].get_position().width == pytest.approx(0.3)  # nothing taken from it


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"colorbar_axes": ["not", "axes"]}, "colorbar_axes"),
        ({"colorbar_axes": []}, "colorbar_axes"),
    ],
)
def test_side_by_side_rejects_bad_colour_bar_axes(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _side_by_side(**kwargs)


def test_side_by_side_rejects_mismatched_arrays():
    from spikingml.plotting import side_by_side

    left, right, edges = _heat_maps()
    common = dict(titles=("a", "b"), colorbar_labels=("c", "d"), xlabel="x (s)", ylabel="trial")
    with pytest.raises(ValidationError, match="left, right"):
        side_by_side(left, right[:, :3], x_edges=edges, **common)
    with pytest.raises(ValidationError, match="x_edges"):
        side_by_side(left, right, x_edges=edges[:-1], **common)
