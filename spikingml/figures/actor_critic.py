"""The figures of the actor-critic circuit: escape latencies, value maps and swim paths.

:func:`figures` draws them from a run, its twin and its metrics;
:func:`spikingml.circuits.actor_critic.figures` is the entry point of the circuit contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spikingml.analysis.actor_critic import (
    grid_points,
    policy_map,
    trajectories,
    twin_policy_map,
    twin_value_map,
    value_map,
)
from spikingml.result import Result
from spikingml.stimuli.water_maze import Maze

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["comparison_figure", "figures", "trajectories_figure"]


def figures(
    result: Result, twin_output: Any, params: Any, metrics: dict[str, float], outdir: Path
) -> list[Path]:
    """Write ``comparison.png`` and ``trajectories.png`` into ``outdir``.

    ``comparison.png``: escape latency trial by trial (spiking, twin, the controls and the
    straight-swim floor) and the learned value maps with policy arrows of the spiking
    circuit and of the twin, on one colour scale each, side by side.
    ``trajectories.png``: the paths of the first and last three learning trials, spiking
    above and twin below.

    Parameters
    ----------
    result : Result
        An actor-critic run.
    twin_output
        Its twin (:class:`spikingml.circuits.actor_critic.Twin`).
    params
        The run's :class:`spikingml.circuits.actor_critic.Params`.
    metrics : dict of str to float
        Its metrics (:func:`spikingml.circuits.actor_critic.compare`).
    outdir : path
        Existing directory the figures are written into.

    Returns
    -------
    list of Path
        The two files, in the order above.
    """
    from spikingml.plotting import save_figure

    outdir = Path(outdir)
    maze = params.maze()
    return [
        save_figure(
            comparison_figure(result, twin_output, maze, metrics), outdir / "comparison.png"
        ),
        save_figure(trajectories_figure(result, twin_output, maze), outdir / "trajectories.png"),
    ]


def _draw_arena(ax: Axes, maze: Maze) -> None:
    from matplotlib.patches import Circle

    ax.add_patch(Circle(maze.goal, maze.goal_radius, fc="none", ec="k", lw=1.2))
    for sx, sy in maze.starts:
        ax.plot(sx, sy, marker="s", ms=4, color="k")
    ax.set_xlim(0, maze.size)
    ax.set_ylim(0, maze.size)
    ax.set_aspect("equal")


def comparison_figure(
    result: Result, twin_output: Any, maze: Maze, metrics: dict[str, float]
) -> Figure:
    """Latencies trial by trial beside the value maps and policies, spiking and twin."""
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    lat = np.asarray(result.extra["latencies"], dtype=float)
    twin_lat = twin_output.learning.latencies

    fig = Figure(figsize=(12.0, 4.0), layout="constrained")
    ax_lat, ax_v, ax_tv = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1, 1]})
    trials = np.arange(1, len(lat) + 1)
    ax_lat.plot(trials, lat, "o-", color=POPULATION_COLORS[0], ms=3, lw=1.2, label="spiking")
    ax_lat.plot(
        np.arange(1, len(twin_lat) + 1),
        twin_lat,
        "s--",
        color=POPULATION_COLORS[1],
        ms=3,
        lw=1.2,
        label="twin (linear actor-critic)",
    )
    if np.isfinite(metrics["latency_control_s"]):
        ax_lat.axhline(
            metrics["latency_control_s"],
            color=POPULATION_COLORS[0],
            ls=":",
            lw=1.2,
            label="spiking, learning off (median)",
        )
    if np.isfinite(metrics["twin_latency_control_s"]):
        ax_lat.axhline(
            metrics["twin_latency_control_s"],
            color=POPULATION_COLORS[1],
            ls="-.",
            lw=1.0,
            label="twin, learning off (median)",
        )
    ax_lat.axhline(metrics["shortest_latency_s"], color="0.4", lw=0.8, label="straight swim")
    ax_lat.set_yscale("log")
    ax_lat.set_xlabel("trial", fontsize=FONT_SIZE + 1)
    ax_lat.set_ylabel("escape latency (s)", fontsize=FONT_SIZE + 1)
    ax_lat.set_title(
        f"Latency: first 5 {metrics['latency_first5_s']:.1f} s -> last 5 "
        f"{metrics['latency_last5_s']:.1f} s",
        fontsize=FONT_SIZE + 1,
    )
    ax_lat.legend(fontsize=FONT_SIZE - 1, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax_lat.tick_params(labelsize=FONT_SIZE)

    n = 21
    arrows_xy = grid_points(maze, 11)
    for ax, vmap, arrows, title in (
        (
            ax_v,
            value_map(maze, result.weights["critic_w"], n),
            policy_map(maze, result.weights["actor_theta"], 11),
            "spiking: critic value, actor drive",
        ),
        (
            ax_tv,
            twin_value_map(maze, twin_output.learning, n),
            twin_policy_map(maze, twin_output.learning, 11),
            "twin: w . phi, mean softmax heading",
        ),
    ):
        image = ax.imshow(
            vmap, origin="lower", extent=(0, maze.size, 0, maze.size), cmap="viridis"
        )
        colorbar = fig.colorbar(image, ax=ax, shrink=0.85)
        colorbar.set_label("value (reward units)", fontsize=FONT_SIZE)
        colorbar.ax.tick_params(labelsize=FONT_SIZE - 1)
        length = np.hypot(arrows[:, 0], arrows[:, 1])
        unit = arrows / np.maximum(length, 1e-12)[:, None]
        ax.quiver(
            arrows_xy[:, 0],
            arrows_xy[:, 1],
            unit[:, 0],
            unit[:, 1],
            color="w",
            scale=25,
            width=0.006,
        )
        _draw_arena(ax, maze)
        ax.set_title(title, fontsize=FONT_SIZE + 1)
        ax.set_xlabel("x (m)", fontsize=FONT_SIZE + 1)
        ax.set_ylabel("y (m)", fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
    fig.suptitle(
        f"Water maze: spiking actor-critic vs linear actor-critic (value maps r = "
        f"{metrics['value_map_correlation']:.2f})",
        fontsize=FONT_SIZE + 2,
    )
    return fig


def trajectories_figure(result: Result, twin_output: Any, maze: Maze) -> Figure:
    """Swim paths of the first and last three learning trials, spiking above, twin below."""
    from matplotlib.figure import Figure

    from spikingml.plotting import FONT_SIZE, POPULATION_COLORS

    lat = np.asarray(result.extra["latencies"], dtype=float)
    twin_lat = twin_output.learning.latencies
    fig = Figure(figsize=(8.0, 8.0), layout="constrained")
    axes = fig.subplots(2, 2)
    for row, (label, paths, lats) in enumerate(
        (
            ("spiking", trajectories(result), lat),
            ("twin", twin_output.learning.trajectories, twin_lat),
        )
    ):
        for col, (stage, ks) in enumerate(
            (
                ("first 3 trials", range(min(3, len(paths)))),
                ("last 3 trials", range(max(0, len(paths) - 3), len(paths))),
            )
        ):
            ax = axes[row, col]
            for j, k in enumerate(ks):
                path = paths[k]
                if len(path):
                    ax.plot(
                        path[:, 0],
                        path[:, 1],
                        lw=1.0,
                        color=POPULATION_COLORS[j],
                        label=f"trial {k + 1} ({lats[k]:.1f} s)",
                    )
            _draw_arena(ax, maze)
            ax.set_title(f"{label}: {stage}", fontsize=FONT_SIZE + 1)
            ax.set_xlabel("x (m)", fontsize=FONT_SIZE + 1)
            ax.set_ylabel("y (m)", fontsize=FONT_SIZE + 1)
            ax.tick_params(labelsize=FONT_SIZE)
            ax.legend(fontsize=FONT_SIZE - 1, loc="upper left")
    fig.suptitle(
        "Paths from the start positions (squares) to the platform (circle)", fontsize=FONT_SIZE + 2
    )
    return fig
