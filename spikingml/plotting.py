"""Figures of a :class:`~spikingml.result.Result`: spike rasters, PSTHs, saving.

Every function takes and returns matplotlib :class:`~matplotlib.axes.Axes` and follows
the plot conventions of the design notes: time in seconds on x from ``t_start`` to
``t_stop``, neuron index on y, one colour per population from the colour-blind-safe
:data:`POPULATION_COLORS` palette, a rate (PSTH) panel sharing x with the raster, and the
protocol events (CS, US, reward) as vertical lines in both panels.

Figures are built as plain :class:`matplotlib.figure.Figure` objects, so nothing is
registered with :mod:`matplotlib.pyplot` and no global style (``rcParams``) is changed;
all sizes are set on the artists themselves. Use :func:`save_figure` to write one to disk
atomically.

Examples
--------
>>> from spikingml.plotting import raster, save_figure
>>> ax_raster, ax_rate = raster(result, t_start=0.0, t_stop=2.0)  # doctest: +SKIP
>>> save_figure(ax_raster.figure, "raster.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spikingml._files import atomic_path
from spikingml.errors import ValidationError
from spikingml.result import Result

__all__ = [
    "filter_mosaic",
    "EVENT_COLORS",
    "FONT_SIZE",
    "MIN_BLOCK_FRACTION",
    "POPULATION_COLORS",
    "psth",
    "raster",
    "save_figure",
    "side_by_side",
]

#: Colours of the populations, in display order: the Okabe-Ito colour-blind-safe palette
#: without its green and reddish purple, which are kept for the events.
POPULATION_COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#999999",  # grey
    "#B8A100",  # dark yellow (Okabe-Ito yellow is unreadable on white)
)

#: Colour and line style of each known event kind.
EVENT_COLORS: dict[str, str] = {
    "CS": "#009E73",  # bluish green
    "US": "#CC79A7",  # reddish purple
    "reward": "#6A3D9A",  # dark purple
}
_EVENT_LINESTYLES: dict[str, str] = {"CS": "-", "US": "-", "reward": "--"}
_OTHER_EVENT_COLORS: tuple[str, ...] = ("#882255", "#117733", "#332288", "#AA4499")

#: Base font size in points: tick labels and legends use it, axis labels one point more.
FONT_SIZE: float = 9.0

#: Smallest share of the raster height given to one population's block.
MIN_BLOCK_FRACTION: float = 0.06

#: Above this many raster points in one panel the markers are rasterized in vector output.
RASTERIZE_ABOVE: int = 5_000

_FIGSIZE = (8.0, 5.0)
_SUBSAMPLE_SEED = 0


def psth(
    times: np.ndarray | Sequence[float],
    size: int,
    t_start: float,
    t_stop: float,
    bin_width: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Peri-stimulus time histogram: mean firing rate per neuron in time bins.

    Bins of ``bin_width`` seconds start at ``t_start``; the last one ends at ``t_stop``
    and is shorter when ``t_stop - t_start`` is not a whole number of bins (its rate is
    divided by its own width). Spikes outside ``[t_start, t_stop]`` are ignored; a spike
    at exactly ``t_stop`` counts in the last bin.

    Parameters
    ----------
    times : array_like of float
        Spike times in seconds, of all neurons of the population together.
    size : int
        Number of neurons in the population, silent ones included (>= 1).
    t_start, t_stop : float
        Window in seconds, ``t_stop > t_start``.
    bin_width : float
        Bin width in seconds, > 0.

    Returns
    -------
    bin_centres : ndarray of float
        Centre of each bin, in seconds.
    rate_hz : ndarray of float
        Mean rate per neuron in each bin, in Hz (spikes / (size * bin width)).

    Raises
    ------
    ValidationError
        If the window is empty, ``bin_width <= 0`` or ``size < 1``.

    Examples
    --------
    Ten neurons each firing every 10 ms fire at 100 Hz:

    >>> times = np.tile(0.005 + 0.01 * np.arange(100), 10)
    >>> centres, rate = psth(times, 10, 0.0, 1.0, 0.05)
    >>> np.allclose(rate, 100.0)
    True
    """
    _check_window(t_start, t_stop)
    _check_bin_width(bin_width)
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValidationError("size", "an integer >= 1", size)
    edges, rate = _psth_edges(
        np.asarray(times, dtype=float), int(size), t_start, t_stop, bin_width
    )
    return 0.5 * (edges[:-1] + edges[1:]), rate


def raster(
    result: Result,
    *,
    t_start: float | None = None,
    t_stop: float | None = None,
    populations: Sequence[str] | str | None = None,
    axes: Sequence[Axes] | None = None,
    bin_width: float = 0.01,
    events: Sequence[str] | None = ("CS", "US", "reward"),
    colors: Mapping[str, Any] | None = None,
    max_points: int = 200_000,
) -> tuple[Axes, Axes]:
    """Spike raster of a run, with a population-rate (PSTH) panel below it.

    Populations are stacked vertically, the first at the top, each in its own colour and
    separated by thin grey lines; each block is labelled with the population name and size
    at its centre. Each neuron has a row of its own, in index order from the bottom of its
    block; a population smaller than :data:`MIN_BLOCK_FRACTION` of all neurons shown gets
    that share of the height anyway, its rows spread out, so it stays visible.

    The lower panel shows the mean rate per neuron of each population in bins of
    ``bin_width`` (see :func:`psth`). Events of the kinds in ``events`` found in
    ``result.events`` are drawn as vertical lines in both panels, with one legend entry
    per kind.

    Parameters
    ----------
    result : Result
        The run to plot.
    t_start, t_stop : float, optional
        Window in seconds. Defaults: ``0`` and ``result.t_stop`` (the last spike or event
        when the result records no duration). Spikes outside the window are ignored.
    populations : sequence of str or str, optional
        Names of the populations to show, top to bottom. Default: all, in the display
        order of ``result.populations``.
    axes : pair of Axes, optional
        ``(raster_axes, rate_axes)`` to draw into; the rate axes are made to share x with
        the raster axes if they do not already. Default: a new 8 x 5 inch figure.
    bin_width : float, default 0.01
        PSTH bin width in seconds.
    events : sequence of str, optional
        Event kinds to mark; ``None`` or ``()`` for none. Kinds absent from
        ``result.events`` (or without events in the window) are skipped.
    colors : mapping of str to colour, optional
        Colour per population name, overriding :data:`POPULATION_COLORS` (which is
        indexed by the population's position in ``result.populations``, so a population
        keeps its colour when others are left out).
    max_points : int, default 200000
        Most raster points drawn per population; beyond it a random subset (fixed seed)
        is drawn and the raster title says so. The PSTH always uses every spike.

    Returns
    -------
    raster_axes, rate_axes : Axes
        The two panels, sharing x.

    Raises
    ------
    ValidationError
        If ``t_stop <= t_start``, ``bin_width <= 0``, ``max_points < 1``, a population
        name is unknown or ``axes`` is not a pair of Axes.
    """
    names = _select_populations(result, populations)
    t0 = 0.0 if t_start is None else float(t_start)
    t1 = _default_t_stop(result, t0) if t_stop is None else float(t_stop)
    _check_window(t0, t1)
    _check_bin_width(bin_width)
    if isinstance(max_points, bool) or not isinstance(max_points, int | np.integer):
        raise ValidationError("max_points", "an integer >= 1", max_points)
    if max_points < 1:
        raise ValidationError("max_points", "an integer >= 1", max_points)
    ax_raster, ax_rate = _get_axes(axes)

    order = list(result.populations)
    pop_colors = {
        name: (colors or {}).get(
            name, POPULATION_COLORS[order.index(name) % len(POPULATION_COLORS)]
        )
        for name in names
    }

    # Spikes in the window, and the vertical layout (first population on top).
    windowed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in names:
        spikes = result.populations[name]
        keep = (spikes.times >= t0) & (spikes.times <= t1)
        windowed[name] = (spikes.times[keep], spikes.indices[keep])
    sizes = np.array([result.populations[name].size for name in names])
    # Block heights in rows: one row per neuron, but at least MIN_BLOCK_FRACTION of all
    # neurons so that small populations stay visible (their rows are then spread out).
    heights = np.maximum(sizes, MIN_BLOCK_FRACTION * sizes.sum()).astype(float)
    heights[heights == 0] = 1.0
    height = float(heights.sum())
    bottoms = height - np.cumsum(heights)  # first population on top

    rng = np.random.default_rng(_SUBSAMPLE_SEED)
    shown: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    notes: list[str] = []
    for name in names:
        t, i = windowed[name]
        if t.size > max_points:
            pick = np.sort(rng.choice(t.size, size=max_points, replace=False))
            notes.append(f"{name}: {max_points:,} of {t.size:,} spikes shown")
            t, i = t[pick], i[pick]
        shown[name] = (t, i)
    n_shown = sum(t.size for t, _ in shown.values())
    marker, markersize, markeredgewidth = _marker_style(ax_raster, n_shown, height)

    for name, bottom, rows, size in zip(names, bottoms, heights, sizes, strict=True):
        t, i = shown[name]
        ax_raster.plot(
            t,
            bottom + (i + 0.5) * (rows / max(size, 1)),
            linestyle="none",
            marker=marker,
            markersize=markersize,
            markeredgewidth=markeredgewidth,
            color=pop_colors[name],
            rasterized=n_shown > RASTERIZE_ABOVE,
            gid=f"raster:{name}",
            label=f"_raster {name}",
        )
    for boundary in bottoms[:-1]:
        ax_raster.axhline(boundary, color="0.6", linewidth=0.6, zorder=0.8, gid="separator")
    ax_raster.set_yticks(
        bottoms + heights / 2.0, [f"{n} ({s})" for n, s in zip(names, sizes, strict=True)]
    )
    ax_raster.set_ylim(0.0, height)
    ax_raster.tick_params(axis="y", length=0)
    for label, name in zip(ax_raster.get_yticklabels(), names, strict=True):
        label.set_color(pop_colors[name])
    ax_raster.set_ylabel("neuron (by population)", fontsize=FONT_SIZE + 1)
    ax_raster.tick_params(axis="x", labelbottom=False)
    if notes:
        ax_raster.set_title(
            "raster subsampled -- " + "; ".join(notes), fontsize=FONT_SIZE, loc="left"
        )

    # Rate panel.
    for name in names:
        size = result.populations[name].size
        if size < 1:
            continue
        edges, rate = _psth_edges(windowed[name][0], size, t0, t1, bin_width)
        ax_rate.stairs(
            rate, edges, color=pop_colors[name], linewidth=1.2, label=name, gid=f"psth:{name}"
        )
    ax_rate.set_ylabel("rate (Hz)", fontsize=FONT_SIZE + 1)
    ax_rate.set_xlabel("time (s)", fontsize=FONT_SIZE + 1)
    ax_rate.set_ylim(bottom=0.0)

    # Events, in both panels; legend entries in the raster panel only.
    event_handles = []
    for k, kind in enumerate(events or ()):
        times = np.asarray(result.events.get(kind, ()), dtype=float).ravel()
        times = times[(times >= t0) & (times <= t1)]
        if times.size == 0:
            continue
        color = EVENT_COLORS.get(kind, _OTHER_EVENT_COLORS[k % len(_OTHER_EVENT_COLORS)])
        style = {
            "colors": color,
            "linestyles": _EVENT_LINESTYLES.get(kind, ":"),
            "linewidths": 1.0,
            "alpha": 0.75,
            "zorder": 0.9,
            "gid": f"event:{kind}",
        }
        event_handles.append(
            ax_raster.vlines(
                times,
                0,
                1,
                transform=ax_raster.get_xaxis_transform(),
                label=f"{kind} ({times.size})",
                **style,
            )
        )
        ax_rate.vlines(
            times, 0, 1, transform=ax_rate.get_xaxis_transform(), label=f"_{kind}", **style
        )

    for ax in (ax_raster, ax_rate):
        ax.set_xlim(t0, t1)
        ax.tick_params(labelsize=FONT_SIZE)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    legend_style = {
        "loc": "upper left",
        "bbox_to_anchor": (1.01, 1.0),
        "fontsize": FONT_SIZE,
        "frameon": False,
        "borderaxespad": 0.0,
    }
    if event_handles:
        ax_raster.legend(
            handles=event_handles, title="events", title_fontsize=FONT_SIZE, **legend_style
        )
    if ax_rate.get_legend_handles_labels()[0]:
        ax_rate.legend(**legend_style)
    return ax_raster, ax_rate


def side_by_side(
    left: np.ndarray,
    right: np.ndarray,
    *,
    x_edges: np.ndarray,
    titles: tuple[str, str],
    colorbar_labels: tuple[str, str],
    xlabel: str,
    ylabel: str,
    markers: Mapping[str, float] | None = None,
    row_marks: Mapping[str, np.ndarray] | None = None,
    axes: Sequence[Axes] | None = None,
    symmetric: bool = True,
    colorbar_axes: Sequence[Axes] | None = None,
) -> tuple[Axes, Axes]:
    """Two trial x time heat maps side by side: a spiking response and its twin.

    Each panel has its own colour scale (the two quantities have different units) but
    the same x and y extent; with ``symmetric`` each scale is centred on zero, with a
    diverging map, so a positive error is red and a negative one blue in both.

    Parameters
    ----------
    left, right : ndarray, shape (n_rows, n_cols)
        Spiking (left) and twin (right) values, one row per trial.
    x_edges : ndarray, shape (n_cols + 1,)
        Column edges (for example time relative to the CS, in seconds).
    titles, colorbar_labels : tuple of str
        Panel titles and colour-bar labels (with units).
    xlabel, ylabel : str
        Axis labels (with units).
    markers : mapping of str to float, optional
        Vertical lines at these x positions, labelled (``{"CS": 0.0, "US": 0.5}``).
    row_marks : mapping of str to ndarray, optional
        Row indices to tick on the right edge of both panels (``{"omission": [...]}``).
    axes : pair of Axes, optional
        Draw into these instead of a new figure.
    symmetric : bool
        Centre each colour scale on zero.
    colorbar_axes : pair of Axes, optional
        Draw the colour bars into these (a figure laid out by hand); by default each
        takes room from its panel.

    Returns
    -------
    tuple of Axes
    """
    left = np.asarray(left, dtype=float)
    right = np.asarray(right, dtype=float)
    if left.ndim != 2 or left.shape != right.shape:
        raise ValidationError(
            "left, right", "two 2-D arrays of the same shape", (left.shape, right.shape)
        )
    x_edges = np.asarray(x_edges, dtype=float)
    if x_edges.shape != (left.shape[1] + 1,):
        raise ValidationError("x_edges", f"{left.shape[1] + 1} column edges", x_edges.shape)
    if colorbar_axes is not None and (
        len(colorbar_axes) != 2 or not all(isinstance(a, Axes) for a in colorbar_axes)
    ):
        raise ValidationError("colorbar_axes", "a pair of matplotlib Axes", colorbar_axes)
    if axes is None:
        fig = Figure(figsize=(10.0, 4.8), layout="constrained")
        axes = fig.subplots(1, 2, sharex=True, sharey=True)
    y_edges = np.arange(left.shape[0] + 1) - 0.5
    caxes = colorbar_axes if colorbar_axes is not None else (None, None)
    for ax, cax, data, title, label in zip(
        axes, caxes, (left, right), titles, colorbar_labels, strict=True
    ):
        finite = np.abs(data[np.isfinite(data)])
        vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
        vmax = vmax or 1.0
        kwargs = {"cmap": "RdBu_r", "vmin": -vmax, "vmax": vmax} if symmetric else {}
        mesh = ax.pcolormesh(x_edges, y_edges, data, rasterized=True, **kwargs)
        if cax is None:
            cbar = ax.figure.colorbar(mesh, ax=ax, pad=0.01)
        else:
            cbar = ax.figure.colorbar(mesh, cax=cax)
        cbar.set_label(label, fontsize=FONT_SIZE + 1)
        cbar.ax.tick_params(labelsize=FONT_SIZE)
        # y given: matplotlib then does not search for decorations above the axes
        ax.set_title(title, fontsize=FONT_SIZE + 2, pad=16, y=1.0)
        ax.set_xlabel(xlabel, fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
        for name, x in (markers or {}).items():
            color = EVENT_COLORS.get(name, "k")
            ax.axvline(x, color=color, lw=1.2, ls="--")
            ax.text(
                x,
                1.0,
                f" {name}",
                color=color,
                fontsize=FONT_SIZE,
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
        for k, (name, rows) in enumerate((row_marks or {}).items()):
            rows = np.asarray(rows)
            ax.plot(
                np.full(len(rows), x_edges[-1]),
                rows,
                marker="<",
                ls="none",
                color=_OTHER_EVENT_COLORS[k % len(_OTHER_EVENT_COLORS)],
                ms=4,
                clip_on=False,
                label=name,
            )
        if row_marks:
            ax.legend(fontsize=FONT_SIZE, loc="lower right")
    axes[0].set_ylabel(ylabel, fontsize=FONT_SIZE + 1)
    axes[0].set_ylim(left.shape[0] - 0.5, -0.5)
    return axes[0], axes[1]


def filter_mosaic(
    ax: Axes,
    filters: np.ndarray,
    *,
    n_cols: int | None = None,
    title: str | None = None,
    gap: int = 1,
) -> Axes:
    """Draw square filters (receptive fields) as a grid of grey-scale tiles.

    Each tile is scaled to its own largest absolute value (mid-grey is 0, white
    positive, black negative), as receptive fields are usually shown; tiles are
    separated by ``gap`` pixels of white.

    Parameters
    ----------
    ax : Axes
        Where to draw.
    filters : ndarray, shape (k, p, p) or (k, p*p)
        The filters, in display order.
    n_cols : int, optional
        Tiles per row (default: the smallest square grid that holds them).
    title : str, optional
        Axes title.
    gap : int
        Pixels between tiles.

    Returns
    -------
    Axes
        ``ax``.
    """
    filters = np.asarray(filters, dtype=float)
    if filters.ndim == 2:
        side = math.isqrt(filters.shape[1])
        if side * side != filters.shape[1]:
            raise ValidationError(
                "filters", "(k, p, p) or (k, p*p) with a square p*p", filters.shape
            )
        filters = filters.reshape(len(filters), side, side)
    if filters.ndim != 3 or filters.shape[1] != filters.shape[2] or len(filters) == 0:
        raise ValidationError("filters", "a non-empty array (k, p, p)", filters.shape)
    k, p, _ = filters.shape
    n_cols = n_cols or math.ceil(math.sqrt(k))
    n_rows = math.ceil(k / n_cols)
    canvas = np.full((n_rows * (p + gap) + gap, n_cols * (p + gap) + gap), np.nan)
    for index, tile in enumerate(filters):
        r, c = divmod(index, n_cols)
        scale = np.abs(tile).max()
        y, x = gap + r * (p + gap), gap + c * (p + gap)
        canvas[y : y + p, x : x + p] = tile / scale if scale > 0 else 0.0
    cmap = _colormap("gray").with_extremes(bad="white")
    ax.imshow(canvas, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1)
    return ax


def _colormap(name: str) -> Any:
    """A copy of a named matplotlib colormap (safe to modify)."""
    import matplotlib

    return matplotlib.colormaps[name].copy()


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float = 150) -> Path:
    """Write a figure to ``path`` atomically, then close it.

    The figure is first saved to a temporary file with the same suffix in the same
    directory (so the format is still inferred from the suffix), which then replaces
    ``path`` in one step: readers never see a half-written file and a failed save leaves
    any previous file intact.

    Parameters
    ----------
    fig : Figure
        The figure, for example ``ax.figure`` of an axes returned by :func:`raster`.
    path : str or path-like
        Destination; its suffix (``.png``, ``.pdf``, ``.svg``, ...) picks the format. Its
        directory must exist.
    dpi : float, default 150
        Resolution of raster output (and of rasterized artists in vector output).

    Returns
    -------
    Path
        ``path``, as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    try:
        with atomic_path(path) as tmp:  # the same suffix: savefig picks the format by it
            fig.savefig(tmp, dpi=dpi)
    finally:
        _close(fig)
    return path


# -- helpers ---------------------------------------------------------------------------


def _check_window(t_start: float, t_stop: float) -> None:
    if not (math.isfinite(t_start) and math.isfinite(t_stop)) or t_stop <= t_start:
        raise ValidationError("t_stop", f"a finite time > t_start = {t_start!r} s", t_stop)


def _check_bin_width(bin_width: float) -> None:
    if not (math.isfinite(bin_width) and bin_width > 0):
        raise ValidationError("bin_width", "a finite time > 0 s", bin_width)


def _psth_edges(
    times: np.ndarray, size: int, t_start: float, t_stop: float, bin_width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and rate per neuron (Hz); the last bin is cut at ``t_stop``."""
    span = t_stop - t_start
    n_bins = max(1, math.ceil(span / bin_width - 1e-9))
    edges = t_start + bin_width * np.arange(n_bins + 1)
    edges[-1] = t_stop
    counts, _ = np.histogram(times, bins=edges)
    return edges, counts / (size * np.diff(edges))


def _select_populations(result: Result, populations: Sequence[str] | str | None) -> list[str]:
    if populations is None:
        names = list(result.populations)
    else:
        names = [populations] if isinstance(populations, str) else list(populations)
    known = list(result.populations)
    for name in names:
        if name not in result.populations:
            raise ValidationError("populations", f"names among {known}", name)
    if not names:
        raise ValidationError("populations", f"at least one name among {known}", names)
    return names


def _default_t_stop(result: Result, t_start: float) -> float:
    t_stop = float(result.t_stop)
    if t_stop > t_start:
        return t_stop
    latest = [float(np.max(s.times)) for s in result.populations.values() if s.times.size]
    latest += [float(np.max(e)) for e in result.events.values() if np.size(e)]
    return max(latest, default=t_stop)


def _get_axes(axes: Sequence[Axes] | None) -> tuple[Axes, Axes]:
    if axes is None:
        fig = Figure(figsize=_FIGSIZE, layout="constrained")
        ax_raster, ax_rate = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
        return ax_raster, ax_rate
    try:
        ax_raster, ax_rate = axes
    except (TypeError, ValueError):
        raise ValidationError("axes", "a pair (raster_axes, rate_axes)", axes) from None
    if not (isinstance(ax_raster, Axes) and isinstance(ax_rate, Axes)):
        raise ValidationError("axes", "a pair of matplotlib Axes", axes)
    if ax_raster is ax_rate:
        raise ValidationError("axes", "two different Axes", axes)
    if ax_rate not in ax_raster.get_shared_x_axes().get_siblings(ax_raster):
        ax_rate.sharex(ax_raster)
    return ax_raster, ax_rate


def _marker_style(ax: Axes, n_spikes: int, n_rows: float) -> tuple[str, float, float]:
    """Marker, size and edge width: ticks while sparse, ever smaller dots when dense."""
    if n_spikes <= RASTERIZE_ABOVE:
        # A '|' tick about one neuron row tall, kept between 2 and 6 points.
        height_pt = ax.get_position().height * ax.figure.get_figheight() * 72.0
        row_pt = height_pt / max(n_rows, 1)
        return "|", float(np.clip(row_pt, 2.0, 6.0)), 0.8
    size = 2.0 if n_spikes <= 50_000 else 1.2
    return ".", size, 0.0


def _close(fig: Figure) -> None:
    """Close ``fig`` if pyplot manages it; plain Figures hold no global state."""
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)
