r"""A linear actor-critic with TD(lambda), the twin of the spiking water-maze agent, and metrics.

The agent sees the same place-cell features :math:`\phi(s)` (:class:`Maze.place_rates
<spikingml.stimuli.water_maze.Maze>`) as the spiking circuit and learns in discrete
steps of ``dt`` (Sutton & Barto 2018, ch. 13.5; Barto, Sutton & Anderson 1983)::

    V(s)      = w . phi(s)                               critic (value)
    pi(a | s) = softmax_a(beta * Theta_a . phi(s))       actor: one of n_actions headings
    s'        = clip(s + speed * dt * (cos a, sin a))    walls stop the agent
    delta     = r + gamma * V(s') - V(s)                 (V(s') = 0 when s' is in the goal)
    e_w      <- gamma * lambda * e_w + phi(s)
    e_Theta  <- gamma * lambda * e_Theta + (onehot(a) - pi(. | s)) phi(s)^T
    w        += alpha_critic * delta * e_w
    Theta    += alpha_actor * delta * e_Theta

with ``r = 1`` on reaching the goal (the episode ends), ``r = -wall_penalty * dt`` for a
step into a wall, 0 otherwise, and an episode also ending, unrewarded, at ``timeout``.
The discount and trace decay are those of the spiking circuit's continuous-time TD
(Doya 2000): :math:`\gamma = e^{-dt/\tau_r}` and :math:`\gamma\lambda = e^{-dt/\tau_e}`
(``tau_r`` the reward discount time constant, ``tau_e`` the eligibility time constant).

Contents
--------
:func:`linear_actor_critic`
    The twin: trains the linear actor-critic trial by trial (:class:`ActorCriticResult`).
:func:`water_maze_metrics`
    The metrics that compare a spiking run (:class:`~spikingml.result.Result`) with it.
:func:`value_map`, :func:`policy_map`, :func:`twin_value_map`, :func:`twin_policy_map`
    What the spiking and the twin's critic and actor learned, on a grid over the arena.
:func:`trajectories`
    The spiking agent's path in each learning trial.

References
----------
Barto, A. G., Sutton, R. S. & Anderson, C. W. (1983). Neuronlike adaptive elements that
can solve difficult learning control problems. IEEE Trans. Syst. Man Cybern. 13, 834-846.

Doya, K. (2000). Reinforcement learning in continuous time and space. Neural Comput. 12,
219-245.

Sutton, R. S. & Barto, A. G. (2018). Reinforcement Learning: An Introduction, 2nd ed.
MIT Press.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from spikingml.analysis.stats import pearson
from spikingml.errors import ValidationError
from spikingml.result import Result
from spikingml.stimuli.water_maze import Maze

__all__ = [
    "ActorCriticResult",
    "grid_points",
    "linear_actor_critic",
    "policy_map",
    "trajectories",
    "twin_policy_map",
    "twin_value_map",
    "value_map",
    "water_maze_metrics",
]


@dataclasses.dataclass
class ActorCriticResult:
    """What the linear actor-critic did, trial by trial.

    Attributes
    ----------
    latencies : ndarray, shape (n_trials,)
        Seconds from the start to the goal (``timeout`` for unrewarded trials).
    reached : ndarray of bool, shape (n_trials,)
        Whether the goal was reached.
    trajectories : list of ndarray, each (n_steps, 2)
        Positions at every step of every trial.
    w : ndarray, shape (n_place,)
        Critic weights after training (value = w . phi).
    theta : ndarray, shape (n_actions, n_place)
        Actor preferences after training.
    headings : ndarray, shape (n_actions,)
        Heading of each action (radians).
    """

    latencies: np.ndarray
    reached: np.ndarray
    trajectories: list[np.ndarray]
    w: np.ndarray
    theta: np.ndarray
    headings: np.ndarray


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(name, "a finite number > 0", value)
    if not (math.isfinite(value) and value > 0):
        raise ValidationError(name, "a finite number > 0", value)
    return float(value)


def linear_actor_critic(
    maze: Maze,
    n_trials: int,
    *,
    seed: int = 0,
    dt: float = 0.1,
    speed: float = 0.6,
    n_actions: int = 36,
    tau_r: float = 4.0,
    tau_e: float = 0.5,
    alpha_critic: float = 0.1,
    alpha_actor: float = 2.0,
    beta: float = 1.0,
    timeout: float = 20.0,
    wall_penalty: float = 0.0,
    learning: bool = True,
) -> ActorCriticResult:
    """Train the linear actor-critic on the water maze for ``n_trials`` episodes.

    Parameters
    ----------
    maze : Maze
        Arena, goal, start positions and place fields (shared with the spiking circuit).
    n_trials : int
        Episodes.
    seed : int
        Seeds the start positions and the action draws.
    dt : float
        Step (seconds).
    speed : float
        Distance per second (metres per second).
    n_actions : int
        Headings, evenly spaced on the circle.
    tau_r, tau_e : float
        Discount and eligibility time constants (seconds): ``gamma = exp(-dt/tau_r)``,
        ``gamma*lambda = exp(-dt/tau_e)`` (``tau_e < tau_r``).
    alpha_critic, alpha_actor : float
        Learning rates.
    beta : float
        Inverse temperature of the softmax policy.
    timeout : float
        Seconds after which an unrewarded episode ends.
    wall_penalty : float
        Negative reward rate (per second) while the agent pushes against a wall: a step
        that would leave the arena is rewarded ``-wall_penalty * dt``.
    learning : bool
        If False, nothing is learned (the control: a random walk).

    Returns
    -------
    ActorCriticResult
    """
    if not isinstance(maze, Maze):
        raise ValidationError("maze", "a spikingml.stimuli.water_maze.Maze", type(maze).__name__)
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValidationError("n_trials", "an integer >= 1", n_trials)
    if (
        isinstance(n_actions, bool)
        or not isinstance(n_actions, (int, np.integer))
        or n_actions < 2
    ):
        raise ValidationError("n_actions", "an integer >= 2", n_actions)
    for name in ("dt", "speed", "tau_r", "tau_e", "alpha_critic", "alpha_actor", "beta"):
        _positive(name, locals()[name])
    _positive("timeout", timeout)
    if not (isinstance(wall_penalty, (int, float)) and math.isfinite(wall_penalty)) or (
        wall_penalty < 0
    ):
        raise ValidationError("wall_penalty", "a finite number >= 0", wall_penalty)
    if tau_e >= tau_r:
        raise ValidationError("tau_e", f"< tau_r ({tau_r})", tau_e)
    rng = np.random.default_rng(seed)
    gamma = math.exp(-dt / tau_r)
    gamma_lambda = math.exp(-dt / tau_e)
    headings = 2 * np.pi * np.arange(n_actions) / n_actions
    steps = speed * dt * np.column_stack([np.cos(headings), np.sin(headings)])
    n_place = maze.n_place
    w = np.zeros(n_place)
    theta = np.zeros((n_actions, n_place))
    max_steps = int(round(timeout / dt))
    starts = np.asarray(maze.starts, dtype=float)
    latencies = np.empty(n_trials)
    reached = np.zeros(n_trials, dtype=bool)
    trajectories = []
    for trial in range(n_trials):
        s = starts[rng.integers(len(starts))].copy()
        phi = maze.place_rates(s)
        e_w = np.zeros(n_place)
        e_theta = np.zeros((n_actions, n_place))
        path = [s.copy()]
        for _ in range(max_steps):
            h = beta * theta @ phi
            p = np.exp(h - h.max())
            p /= p.sum()
            a = rng.choice(n_actions, p=p)
            target = s + steps[a]
            bump = bool(((target < 0.0) | (target > maze.size)).any())
            s = np.clip(target, 0.0, maze.size)
            path.append(s.copy())
            done = bool(maze.in_goal(s))
            phi_next = maze.place_rates(s)
            if learning:
                r = (1.0 if done else 0.0) - (wall_penalty * dt if bump else 0.0)
                v_next = 0.0 if done else w @ phi_next
                delta = r + gamma * v_next - w @ phi
                e_w = gamma_lambda * e_w + phi
                grad = -p[:, None] * phi[None, :]
                grad[a] += phi
                e_theta = gamma_lambda * e_theta + grad
                w += alpha_critic * delta * e_w
                theta += alpha_actor * delta * e_theta
            phi = phi_next
            if done:
                reached[trial] = True
                break
        latencies[trial] = (len(path) - 1) * dt if reached[trial] else timeout
        trajectories.append(np.asarray(path))
    return ActorCriticResult(latencies, reached, trajectories, w, theta, headings)


# ------------------------------------------------------------------ maps and metrics
def grid_points(maze: Maze, n: int) -> np.ndarray:
    """``n`` x ``n`` points spanning the arena, shape (n*n, 2), x varying fastest."""
    c = np.linspace(0.0, maze.size, n)
    yy, xx = np.meshgrid(c, c, indexing="ij")
    return np.column_stack([xx.ravel(), yy.ravel()])


def value_map(maze: Maze, critic_w: np.ndarray, n: int = 21) -> np.ndarray:
    """The spiking critic's learned value on an ``n`` x ``n`` grid (rows: y, columns: x).

    Each critic neuron fires at ``critic_rate0 + critic_gain * sum_i w_ij rho_i /
    place_rate``, so the population decodes ``V = sum_i mean_j(w_ij) rho_i / place_rate``.

    Parameters
    ----------
    maze : Maze
    critic_w : ndarray, shape (n_place, n_critic)
        Place-to-critic weights (``Result.weights["critic_w"]``).
    n : int
        Grid points per side.
    """
    return (maze.place_rates(grid_points(maze, n)) @ critic_w.mean(axis=1)).reshape(n, n)


def policy_map(maze: Maze, actor_theta: np.ndarray, n: int = 11) -> np.ndarray:
    """Preferred heading vectors of the spiking actor on an ``n`` x ``n`` grid.

    The learned feedforward drive of actor neuron k at position s is
    ``sum_i theta_ik rho_i(s)``; the returned vector (shape (n*n, 2)) is the
    population vector of that drive, the direction the ring's bump is pushed to.

    Parameters
    ----------
    maze : Maze
    actor_theta : ndarray, shape (n_place, n_actor)
        Place-to-actor weights (``Result.weights["actor_theta"]``); actor neuron k
        prefers the heading ``2 pi k / n_actor``.
    n : int
        Grid points per side.
    """
    n_actor = actor_theta.shape[1]
    drive = maze.place_rates(grid_points(maze, n)) @ actor_theta
    headings = 2 * np.pi * np.arange(n_actor) / n_actor
    drive = drive - drive.mean(axis=1, keepdims=True)
    return np.column_stack([drive @ np.cos(headings), drive @ np.sin(headings)])


def twin_value_map(maze: Maze, twin: ActorCriticResult, n: int = 21) -> np.ndarray:
    """The twin's learned value ``w . phi`` on an ``n`` x ``n`` grid (rows: y, columns: x)."""
    return (maze.place_rates(grid_points(maze, n)) @ twin.w).reshape(n, n)


def twin_policy_map(maze: Maze, twin: ActorCriticResult, n: int = 11) -> np.ndarray:
    """The twin's mean heading under its softmax policy on an ``n`` x ``n`` grid, (n*n, 2)."""
    prefs = maze.place_rates(grid_points(maze, n)) @ twin.theta.T
    prefs = np.exp(prefs - prefs.max(axis=1, keepdims=True))
    prefs /= prefs.sum(axis=1, keepdims=True)
    h = twin.headings
    return np.column_stack([prefs @ np.cos(h), prefs @ np.sin(h)])


def trajectories(result: Result) -> list[np.ndarray]:
    """The spiking agent's path in every learning trial (positions every 20 ms, metres)."""
    x = result.signals["x"]
    y = result.signals["y"]
    t = x.t_start + x.dt * np.arange(len(x.values))
    starts = np.asarray(result.extra["trial_start"], dtype=float)
    ends = np.asarray(result.extra["trial_end"], dtype=float)
    paths = []
    for k in range(len(result.extra["latencies"])):
        # the first sample after the reset to the one before it (the agent rests at the
        # platform until the trial ends; the reset itself happens at the end)
        mask = (t > starts[k]) & (t < ends[k])
        paths.append(np.column_stack([x.values[mask, 0], y.values[mask, 0]]))
    return paths


def _median(values: Any, which: slice) -> float:
    values = np.asarray(values, dtype=float)[which]
    return float(np.median(values)) if len(values) else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def water_maze_metrics(
    result: Result,
    learning: ActorCriticResult,
    control: ActorCriticResult | None,
    maze: Maze,
    speed: float,
) -> dict[str, float]:
    """The metrics of :data:`spikingml.circuits.actor_critic.METRICS` (documented there).

    Parameters
    ----------
    result : Result
        A spiking run (``extra``: ``latencies``, ``reached``, ``control_latencies``,
        ``learning_wall_seconds``; ``weights["critic_w"]``).
    learning, control : ActorCriticResult
        The twin trained on the task, and without learning (``None``: no control).
    maze : Maze
        The run's arena.
    speed : float
        Swimming speed (m/s), for the straight-swim floor of the latencies.

    Returns
    -------
    dict of str to float
    """
    lat = np.asarray(result.extra["latencies"], dtype=float)
    reached = np.asarray(result.extra["reached"], dtype=bool)
    control_lat = np.asarray(result.extra["control_latencies"], dtype=float)
    first5 = _median(lat, slice(0, 5))
    last5 = _median(lat, slice(-5, None))
    latency_control = _median(control_lat, slice(None))
    twin_first5 = _median(learning.latencies, slice(0, 5))
    twin_last5 = _median(learning.latencies, slice(-5, None))
    twin_control = _median(control.latencies, slice(None)) if control is not None else float("nan")
    n = 21
    spiking_v = value_map(maze, result.weights["critic_w"], n).ravel()
    twin_v = maze.place_rates(grid_points(maze, n)) @ learning.w
    shortest = np.median([maze.shortest_distance(s) for s in maze.starts]) / speed
    return {
        "latency_first5_s": first5,
        "latency_last5_s": last5,
        "latency_control_s": latency_control,
        "last5_over_first5": _ratio(last5, first5),
        "last5_over_control": _ratio(last5, latency_control),
        "success_last5": float(reached[-5:].mean()) if len(reached) else float("nan"),
        "shortest_latency_s": float(shortest),
        "value_map_correlation": pearson(spiking_v, twin_v),
        "twin_latency_first5_s": twin_first5,
        "twin_latency_last5_s": twin_last5,
        "twin_latency_control_s": twin_control,
        "twin_last5_over_first5": _ratio(twin_last5, twin_first5),
        "learning_wall_seconds": float(result.extra.get("learning_wall_seconds", float("nan"))),
    }
