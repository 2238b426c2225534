r"""A navigation task after the Morris water maze: arena, goal, start positions, place fields.

The spiking actor-critic (:mod:`spikingml.circuits.actor_critic`) writes this task as
Brian2 equations; its twin (:mod:`spikingml.analysis.actor_critic`) runs the same task in
NumPy. Both read the geometry from one :class:`Maze`, so they navigate the very same
arena.

Geometry (positions in metres, origin at a corner)::

    arena          [0, size] x [0, size], walls stop the agent (positions clipped)
    goal           a disc of radius goal_radius around (goal_x, goal_y)
    starts         a trial starts at one of the start positions, drawn at random
    place cells    centres on an n x n grid covering the arena; cell i fires at
                   rate_i(x, y) = peak_rate * exp(-|(x, y) - c_i|^2 / (2 sigma^2))

A trial ends ``reward_duration`` after the agent reaches the goal (it rests on the
platform and is rewarded meanwhile) or, without reward, after ``timeout``.

Reference
---------
Morris, R. G. M. (1984). Developments of a water-maze procedure for studying spatial
learning in the rat. J. Neurosci. Methods 11, 47-60.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["Maze"]


@dataclasses.dataclass(frozen=True)
class Maze:
    """Geometry of the square arena (lengths in metres, times in seconds).

    Parameters
    ----------
    size : float
        Side of the square arena.
    goal : tuple of float
        Centre of the goal (hidden platform).
    goal_radius : float
        Radius of the goal.
    starts : tuple of (float, float)
        Start positions; each trial starts at one of them, drawn uniformly.
    grid : int
        Place-cell centres form a ``grid`` x ``grid`` lattice from wall to wall.
    sigma : float
        Width (standard deviation) of a place field.
    """

    size: float = 1.0
    goal: tuple[float, float] = (0.8, 0.8)
    goal_radius: float = 0.1
    starts: tuple[tuple[float, float], ...] = ((0.1, 0.1), (0.1, 0.5), (0.5, 0.1))
    grid: int = 11
    sigma: float = 0.1

    def __post_init__(self) -> None:
        for name in ("size", "goal_radius", "sigma"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValidationError(f"Maze.{name}", "a finite number > 0", value)
        if not isinstance(self.grid, int) or self.grid < 2:
            raise ValidationError("Maze.grid", "an integer >= 2", self.grid)
        if len(self.starts) == 0:
            raise ValidationError("Maze.starts", "at least one start position", self.starts)
        for name, point in [("goal", self.goal)] + [("starts", s) for s in self.starts]:
            if len(point) != 2 or not all(0 <= c <= self.size for c in point):
                raise ValidationError(
                    f"Maze.{name}", f"(x, y) inside the arena [0, {self.size}]^2", point
                )
        for s in self.starts:
            if np.hypot(s[0] - self.goal[0], s[1] - self.goal[1]) <= self.goal_radius:
                raise ValidationError("Maze.starts", "positions outside the goal", s)

    @property
    def n_place(self) -> int:
        """Number of place cells."""
        return self.grid**2

    def place_centres(self) -> np.ndarray:
        """Centres of the place fields, shape (n_place, 2), row-major over (y, x)."""
        c = np.linspace(0.0, self.size, self.grid)
        yy, xx = np.meshgrid(c, c, indexing="ij")
        return np.column_stack([xx.ravel(), yy.ravel()])

    def place_rates(self, xy: np.ndarray) -> np.ndarray:
        """Place-field activations in [0, 1] (rate / peak rate) at positions ``xy``.

        Parameters
        ----------
        xy : ndarray, shape (..., 2)

        Returns
        -------
        ndarray, shape (..., n_place)
        """
        xy = np.asarray(xy, dtype=float)
        d2 = ((xy[..., None, :] - self.place_centres()) ** 2).sum(axis=-1)
        return np.exp(-d2 / (2 * self.sigma**2))

    def shortest_distance(self, start: tuple[float, float]) -> float:
        """Straight-line distance from ``start`` to the edge of the goal."""
        return float(np.hypot(start[0] - self.goal[0], start[1] - self.goal[1]) - self.goal_radius)

    def in_goal(self, xy: np.ndarray) -> np.ndarray:
        """Whether positions ``xy`` (shape (..., 2)) lie in the goal."""
        xy = np.asarray(xy, dtype=float)
        return np.hypot(xy[..., 0] - self.goal[0], xy[..., 1] - self.goal[1]) < self.goal_radius
