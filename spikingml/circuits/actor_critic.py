r"""A closed-loop spiking actor-critic learns to swim to a hidden platform (water maze).

The ML idea
-----------
Actor-critic reinforcement learning (Barto, Sutton & Anderson 1983): a *critic* learns
the value :math:`V` of the current state from the temporal-difference error
:math:`\delta`, and an *actor* learns its policy from the same :math:`\delta`, taking an
action more often when it was followed by a positive surprise. In continuous time
(Doya 2000) with reward rate :math:`r(t)` and discount time constant :math:`\tau_r`,

.. math:: \delta(t) = r(t) - V(t)/\tau_r + \dot V(t).

Fremaux, Sprekeler & Gerstner (2013) built this from spiking neurons: place cells feed
a critic population and an actor ring; a neuromodulatory signal carrying
:math:`\delta` gates the plasticity of both (a three-factor rule); the actor's
population vector steers the animal.

The circuit (everything, the environment included, is Brian2 equations, custom events,
``run_regularly`` and synapses: it runs unchanged under ``cpp_standalone``)
------------------------------------------------------------------------------------
Agent (``agent``, one "neuron" holding the body and the TD machinery). Position
``(x, y)`` in a square arena of side ``size`` (walls: the position is clipped every
step); heading from the actor's population vector :math:`(p_x, p_y)`::

    dx/dt = speed * p_x / sqrt(p_x**2 + p_y**2 + p0**2)    (same for y; 0 while resting)

A ``goal`` event (distance to the platform < ``goal_radius``) stops the agent and
starts a reward of rate ``reward_rate`` for ``reward_duration``; an ``endtrial`` event
(``reward_duration`` after the goal, or ``timeout`` without it) puts it back at one of
the start positions, drawn with ``rand()``. The reward rate is::

    r = reward_rate * [resting on the platform, for reward_duration] - wall_penalty * bump

with ``bump = 1`` while a step would leave the arena (``wall_penalty`` is 0 by default).
Touching a wall is felt: a touch signal ``(touch_x, touch_y)`` (set to the wall's
outward direction, ``dtouch/dt = -touch / tau_touch``) inhibits the actor neurons that
head into that wall (``I_touch`` below), so the rat turns away, as a reflex, with
nothing learned. Without it an actor pushed towards a wall could stay pressed against
it for whole trials and never find the platform (measured: 30 timeouts in 30 trials for
one seed in five); punishing the touch instead (``wall_penalty`` > 0) taught the actor to
avoid walls but, for one seed in ten, to circle in a corner of the pool forever.

Place cells (``place``, a ``grid`` x ``grid`` lattice, Poisson)::

    rho_i = place_rate * exp(-|(x, y) - c_i|^2 / (2 sigma^2))     spike if rand() < rho_i dt
    dE_i/dt = (rho_i / place_rate - E_i) / tau_e                  eligibility (rate based)

Critic (``critic``, ``n_critic`` phase integrators: the rate equals the drive)::

    dphi/dt = critic_rate0 + critic_gain * I_c       spike and phi -= 1 when phi > 1
    dI_c/dt = -I_c / tau_s        place spike i:  I_c += w_i / (place_rate * tau_s)

so the critic fires at ``critic_rate0 + critic_gain * sum_i w_i rho_i / place_rate``:
its rate codes :math:`V = \sum_i w_i \rho_i/\rho_{max}` (``w`` in units of value).
The agent decodes :math:`V` and :math:`\dot V` from the critic's spikes through two
traces (each critic spike adds ``1 / n_critic`` to both)::

    dA/dt = -A / tau_decay,  dB/dt = -B / tau_rise
    nu = (A - B) / (tau_decay - tau_rise)            population rate, filtered (Hz)
    V  = (nu - critic_rate0) / critic_gain
    dV_dt = (nu - nu_prev) / dt / critic_gain        nu_prev: nu one step earlier
    delta = r - V / tau_r + dV_dt

``nu`` is continuous (a spike raises ``A`` and ``B`` alike) but its derivative jumps at
every spike. The analytic derivative ``(B / tau_rise - A / tau_decay) / (tau_decay -
tau_rise)``, sampled once per step just after the spikes, over-counts each jump by half
a step: a bias of ``nu * dt / (2 tau_rise tau_decay)`` (about +2 value units per second
at 70 Hz), which made the critic's value run away. The one-step difference sums exactly
to the change of ``V`` over any interval, so it carries no bias.

Actor (``actor``, ``n_actor`` LIF neurons on a ring, preferred heading
:math:`\vartheta_k = 2\pi k / n_{actor}`)::

    tau_m du_k/dt = actor_bias + I_k + I_touch,k - u_k + actor_noise * sqrt(2 tau_m) * xi
    I_touch,k = -wall_touch * clip(touch_x cos(vartheta_k) + touch_y sin(vartheta_k), 0, 1)
    dI_k/dt = -I_k / tau_s        place spike i:  I_k += theta_ik / (place_rate * tau_s)
    spike of l:  u_k += J_exc * exp(kappa * (cos(vartheta_k - vartheta_l) - 1)) - J_inh
    da_k/dt = -a_k / tau_a,       a_k += 1 at each spike of k
    (p_x, p_y) = sum_k a_k (cos vartheta_k, sin vartheta_k)

The ring's local excitation and broad inhibition make the actor's activity a bump, so
the agent swims in one direction for a while instead of jittering.

Plasticity (three-factor: presynaptic eligibility x postsynaptic term x delta; the
agent broadcasts :math:`\delta` through summed-variable synapses, a neuromodulator).
Both are one rule, :class:`~spikingml.plasticity.td_error.TDErrorRule`, with two sets
of parameters::

    dw_i/dt      = eta_critic * g * delta * E_i                       critic
    dtheta_ik/dt = eta_actor  * g * delta * E_i * (a_k - mean_l a_l)  actor

applied every ``learn_interval`` and clipped to ``[-w_max, w_max]`` and ``[-theta_max,
theta_max]``. ``g`` is 1 except during the first
``blackout`` of every trial (the jump back to the start makes :math:`V` fall fast; its
:math:`\dot V` is not a prediction error), after the last trial and in the control run
without learning.

The run-time fields (``Params.runtime_fields()``: learning rates and bounds, time
constants, rates, gains, the platform, the place fields' width, the ring's weights and
the twin's fields) are shared constants of the groups rather than constants of the code,
so the compiled program runs with new values of them without being compiled again
(:func:`simulate_many`); sizes, durations (``timeout``, ``reward_duration``), the arena's
side and the learning interval are structural.

Twin (:mod:`spikingml.analysis.actor_critic`): a linear actor-critic with TD(lambda) on
the same place-cell features, arena, goal and start positions, with
:math:`\gamma = e^{-dt/\tau_r}` and :math:`\gamma\lambda = e^{-dt/\tau_e}`.

References
----------
Barto, A. G., Sutton, R. S. & Anderson, C. W. (1983). Neuronlike adaptive elements that
can solve difficult learning control problems. IEEE Trans. Syst. Man Cybern. 13, 834-846.

Doya, K. (2000). Reinforcement learning in continuous time and space. Neural Comput. 12,
219-245.

Fremaux, N., Sprekeler, H. & Gerstner, W. (2013). Reinforcement learning using a
continuous time actor-critic framework with spiking neurons. PLoS Comput. Biol. 9,
e1003024.

Foster, D. J., Morris, R. G. M. & Dayan, P. (2000). A model of hippocampally dependent
navigation, using the temporal difference learning rule. Hippocampus 10, 1-16.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, meter, ms, second

from spikingml._memo import last_comparison
from spikingml.analysis.actor_critic import (
    ActorCriticResult,
    linear_actor_critic,
    water_maze_metrics,
)
from spikingml.analysis.actor_critic import trajectories as trajectories  # public name
from spikingml.circuits._actor_critic_runs import simulate_many as simulate_many  # the hook
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, param
from spikingml.plasticity.td_error import TDErrorRule
from spikingml.result import Phase, Result, Signal, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    set_constants,
    versions,
)
from spikingml.stimuli.water_maze import Maze

logger = logging.getLogger(__name__)

NAME = "actor-critic"
DESCRIPTION = "a closed-loop spiking actor-critic learns to find a hidden platform"

#: The place cells' Poisson spikes are drawn by Brian2 on the device, differently under
#: runtime and cpp_standalone: the two give equivalent runs, not identical spikes.
DEVICES_IDENTICAL = False

#: Every metric :func:`compare` returns: what it measures, direction, target.
METRICS: dict[str, str] = {
    "latency_first5_s": "median escape latency of the first 5 learning trials (s; a "
    "timeout counts as the timeout)",
    "latency_last5_s": "median escape latency of the last 5 learning trials (s; lower is better)",
    "latency_control_s": "median latency of the control trials: same task and network, "
    "naive weights, learning off (s)",
    "last5_over_first5": "latency_last5_s / latency_first5_s (lower is better; target <= 0.5)",
    "last5_over_control": "latency_last5_s / latency_control_s (lower is better; target <= 0.3)",
    "success_last5": "fraction of the last 5 learning trials that reached the platform",
    "shortest_latency_s": "median over the start positions of the straight swim to the "
    "platform's edge at full speed (s; the floor of any latency)",
    "value_map_correlation": "Pearson r of the learned value maps of the spiking critic and "
    "the twin's critic on a 21 x 21 grid (higher is better)",
    "twin_latency_first5_s": "latency_first5_s of the twin (s)",
    "twin_latency_last5_s": "latency_last5_s of the twin (s)",
    "twin_latency_control_s": "median latency of the twin without learning (s)",
    "twin_last5_over_first5": "last5_over_first5 of the twin",
    "learning_wall_seconds": "wall time of the learning trials (s; target <= 120 for 30 trials)",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the water-maze actor-critic (default preset: 30 trials)."""

    circuit_name = "ActorCritic"

    # task
    n_trials: int = param(30, "learning trials", integer=True, low=1)
    n_control_trials: int = param(
        10, "trials of the control run (same task, learning off)", integer=True, low=0
    )
    timeout: Any = param(
        20 * second,
        "a trial ends unrewarded after this",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    reward_duration: Any = param(
        0.3 * second,
        "time rewarded on the platform before the next trial",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    reward_rate: Any = param(
        1 / (0.3 * second),
        "reward rate r on the platform (value per second)",
        unit=Hz,
        low=0 * Hz,
        runtime=True,
    )
    wall_penalty: Any = param(
        0 * Hz,
        "negative reward rate while the agent pushes against a wall (0: walls are felt, "
        "not punished)",
        unit=Hz,
        low=0 * Hz,
        runtime=True,
    )
    blackout: Any = param(
        0.3 * second,
        "no learning for this long after each trial start",
        unit=second,
        low=0 * ms,
        runtime=True,
    )
    size: Any = param(
        1 * meter, "side of the square arena", unit=meter, low=0 * meter, low_inclusive=False
    )
    goal_x: float = param(
        0.8, "platform centre x (fraction of the side)", low=0, high=1, runtime=True
    )
    goal_y: float = param(
        0.8, "platform centre y (fraction of the side)", low=0, high=1, runtime=True
    )
    goal_radius: float = param(
        0.1,
        "platform radius (fraction of the side)",
        low=0,
        low_inclusive=False,
        high=0.5,
        runtime=True,
    )
    speed: Any = param(
        0.6 * meter / second,
        "swimming speed",
        unit=meter / second,
        low=0 * meter / second,
        low_inclusive=False,
        runtime=True,
    )
    # place cells
    place_grid: int = param(11, "place cells per side (grid x grid)", integer=True, low=2)
    place_sigma: float = param(
        0.1,
        "place-field width (fraction of the side)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    place_rate: Any = param(
        200 * Hz,
        "peak place-cell rate",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    tau_s: Any = param(
        10 * ms,
        "synaptic time constant of place-cell input",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    tau_e: Any = param(
        200 * ms,
        "eligibility time constant",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    # critic
    n_critic: int = param(50, "critic neurons", integer=True, low=1)
    critic_rate0: Any = param(20 * Hz, "critic rate at V = 0", unit=Hz, low=0 * Hz, runtime=True)
    critic_gain: Any = param(
        20 * Hz,
        "critic rate per unit of value",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    tau_rise: Any = param(
        20 * ms,
        "rise time of the value read-out",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    tau_decay: Any = param(
        50 * ms,
        "decay time of the value read-out",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    tau_r: Any = param(
        4 * second,
        "reward discount time constant",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    eta_critic: float = param(0.1, "critic learning rate", low=0, runtime=True)
    w_max: float = param(
        1.0,
        "bound of the critic weights (+-, value units)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    # actor
    n_actor: int = param(36, "actor neurons (headings on a ring)", integer=True, low=4)
    tau_m: Any = param(
        20 * ms,
        "actor membrane time constant",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    actor_bias: float = param(0.8, "constant actor drive (threshold 1)", runtime=True)
    actor_noise: float = param(0.3, "actor membrane noise (std of u)", low=0, runtime=True)
    J_exc: float = param(0.25, "ring excitation between neighbours", low=0, runtime=True)
    J_inh: float = param(0.08, "ring inhibition between any two", low=0, runtime=True)
    kappa: float = param(3.0, "width parameter of the ring excitation", low=0, runtime=True)
    wall_touch: float = param(
        1.0,
        "inhibition of the actor neurons heading into a wall just touched (threshold 1)",
        low=0,
        runtime=True,
    )
    tau_touch: Any = param(
        300 * ms,
        "decay of the touch signal",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    tau_a: Any = param(
        100 * ms,
        "actor activity trace",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    p0: float = param(
        0.1,
        "population-vector length below which the agent slows (small: it swims at full "
        "speed whenever the actor's activity has a direction, so it never stalls)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    eta_actor: float = param(0.05, "actor learning rate", low=0, runtime=True)
    theta_max: float = param(
        1.0, "bound of the actor weights (+-)", low=0, low_inclusive=False, runtime=True
    )
    learn_interval: Any = param(
        10 * ms,
        "weights change every this (by the accumulated delta * E)",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    # twin
    twin_dt: Any = param(
        100 * ms,
        "step of the linear actor-critic twin",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    twin_alpha_critic: float = param(
        0.1, "twin critic learning rate", low=0, low_inclusive=False, runtime=True
    )
    twin_alpha_actor: float = param(
        2.0, "twin actor learning rate", low=0, low_inclusive=False, runtime=True
    )
    # simulation
    dt: Any = param(
        1 * ms, "simulation time step", unit=second, low=0 * ms, low_inclusive=False, high=5 * ms
    )
    chunk: Any = param(
        5 * second,
        "runtime: simulated time between trial-count checks",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )

    def check(self) -> None:
        """Cross-field checks: the read-out time constants differ; the maze is valid."""
        if float(self.tau_decay) <= float(self.tau_rise):
            raise ValidationError(
                self.qualname("tau_decay"), f"> tau_rise ({self.tau_rise})", self.tau_decay
            )
        try:
            self.maze()
        except ValidationError as err:  # named after the field behind the maze's attribute
            field = {"Maze.grid": "place_grid", "Maze.size": "size"}.get(err.name, "goal_x")
            raise ValidationError(self.qualname(field), err.expected, err.given) from None

    @classmethod
    def quick(cls) -> Params:
        """A short run (15 trials, 4 control trials, 10 s timeout) for tests and docs."""
        return cls(n_trials=15, n_control_trials=4, timeout=10 * second)

    @classmethod
    def tiny(cls) -> Params:
        """Three trials of at most 2 s and one control trial: the conformance test's run."""
        return cls(n_trials=3, n_control_trials=1, timeout=2 * second)

    def rules(self) -> tuple[TDErrorRule, TDErrorRule]:
        """The learning rules of the critic and of the actor: one rule, two parameter sets."""
        critic = TDErrorRule(
            eta=self.eta_critic,
            w_max=self.w_max,
            tau_e=self.tau_e,
            update_interval=self.learn_interval,
        )
        return critic, dataclasses.replace(critic, eta=self.eta_actor, w_max=self.theta_max)

    def maze(self) -> Maze:
        """The arena, goal, starts and place fields in metres."""
        L = float(self.size)
        return Maze(
            size=L,
            goal=(self.goal_x * L, self.goal_y * L),
            goal_radius=self.goal_radius * L,
            starts=((0.1 * L, 0.1 * L), (0.1 * L, 0.5 * L), (0.5 * L, 0.1 * L)),
            grid=self.place_grid,
            sigma=self.place_sigma * L,
        )


# ------------------------------------------------------------------------ the network
# The circuit's equations and code (the module docstring derives them); build_network
# turns them into Brian2 objects.

#: The agent, one "neuron": body, reward and the TD error read out of the critic.
_AGENT = {
    "model": """
x : meter
y : meter
px : 1
py : 1
a_sum : 1
a_mean = a_sum / n_actor : 1
norm = sqrt(px**2 + py**2 + p0**2) : 1
moving = int(resting == 0 and trial < trial_limit) : 1
vx = moving * speed * px / norm : meter/second
vy = moving * speed * py / norm : meter/second
dA/dt = -A / tau_decay : 1
dB/dt = -B / tau_rise : 1
nu = (A - B) / (tau_decay - tau_rise) : hertz
V = (nu - critic_rate0) / critic_gain : 1
dV_dt = (nu - nu_prev) / dt / critic_gain : hertz
nu_prev : hertz
r = reward_rate * resting * int(t - t_goal < reward_duration) - wall_penalty * bump : hertz
bump : 1
dtouch_x/dt = -touch_x / tau_touch : 1
dtouch_y/dt = -touch_y / tau_touch : 1
delta = r - V / tau_r + dV_dt : hertz
gate = learning * int(t - t_start >= blackout) * int(trial < trial_limit) : 1
delta_g = gate * delta : hertz
resting : 1
learning : 1
trial : 1
trial_limit : 1
k_start : 1
t_start : second
t_goal : second
speed : meter/second (shared, constant)
p0 : 1 (shared, constant)
tau_decay : second (shared, constant)
tau_rise : second (shared, constant)
critic_rate0 : hertz (shared, constant)
critic_gain : hertz (shared, constant)
reward_rate : hertz (shared, constant)
wall_penalty : hertz (shared, constant)
tau_touch : second (shared, constant)
tau_r : second (shared, constant)
blackout : second (shared, constant)
goal_x : meter (shared, constant)
goal_y : meter (shared, constant)
goal_radius : meter (shared, constant)
""",
    "method": "exact",
}

#: The agent's events: it reaches the platform; its trial ends (rewarded or timed out).
#: (A NeuronGroup keeps, and may extend, the dict it is given: build_network passes a copy.)
_AGENT_EVENTS = {
    "goal": "resting == 0 and trial < trial_limit and "
    "(x - goal_x)**2 + (y - goal_y)**2 < goal_radius**2",
    "endtrial": "trial < trial_limit and ((resting == 1 and t - t_goal >= reward_duration)"
    " or (resting == 0 and t - t_start >= timeout))",
}

#: One step of swimming: a step out of the arena bumps (felt as touch), then clip.
_SWIM = (
    "bump_x = int(x + vx * dt > L) - int(x + vx * dt < 0 * meter)\n"
    "bump_y = int(y + vy * dt > L) - int(y + vy * dt < 0 * meter)\n"
    "bump = int(bump_x != 0 or bump_y != 0)\n"
    "touch_x = clip(touch_x + bump_x, -1, 1)\n"
    "touch_y = clip(touch_y + bump_y, -1, 1)\n"
    "x = clip(x + vx * dt, 0 * meter, L)\ny = clip(y + vy * dt, 0 * meter, L)"
)

#: Place cells: a Gaussian field around (cx, cy), silent while the agent rests (the
#: rule's eligibility equations are appended by build_network).
_PLACE_EQUATIONS = """
cx : meter (constant)
cy : meter (constant)
x_agent : meter (linked)
y_agent : meter (linked)
resting_agent : 1 (linked)
d2 = (x_agent - cx)**2 + (y_agent - cy)**2 : meter**2
field = (1 - resting_agent) * exp(-d2 / (2 * sigma**2)) : 1
sigma : meter (shared, constant)
place_rate : hertz (shared, constant)
"""

#: Critic: phase integrators whose rate is their drive.
_CRITIC = {
    "model": """
dphi/dt = critic_rate0 + critic_gain * I_c : 1
dI_c/dt = -I_c / tau_s : 1
critic_rate0 : hertz (shared, constant)
critic_gain : hertz (shared, constant)
tau_s : second (shared, constant)
""",
    "threshold": "phi > 1",
    "reset": "phi -= 1",
    "method": "euler",
}

#: Actor: noisy LIF neurons on a ring of headings, inhibited by touching a wall.
_ACTOR = {
    "model": """
du/dt = (actor_bias + I_a + I_touch - u) / tau_m + actor_noise * sqrt(2 / tau_m) * xi : 1
I_touch = -wall_touch * clip(touch_x * cos(heading) + touch_y * sin(heading), 0, 1) : 1
touch_x : 1
touch_y : 1
dI_a/dt = -I_a / tau_s : 1
da/dt = -a / tau_a : 1
heading : 1 (constant)
a_mean : 1
delta_g : hertz
tau_m : second (shared, constant)
actor_bias : 1 (shared, constant)
actor_noise : 1 (shared, constant)
wall_touch : 1 (shared, constant)
tau_s : second (shared, constant)
tau_a : second (shared, constant)
""",
    "threshold": "u > 1",
    "reset": "u = 0\na += 1",
    "refractory": 2 * ms,
    "method": "euler",
}

#: What the agent broadcasts to the place cells and to the actor.
_TO_PLACE = "delta_g_post = delta_g_pre : hertz (summed)"
_TO_ACTOR = (
    "delta_g_post = delta_g_pre : hertz (summed)\na_mean_post = a_mean_pre : 1 (summed)\n"
    "touch_x_post = touch_x_pre : 1 (summed)\ntouch_y_post = touch_y_pre : 1 (summed)"
)

#: The actor's population vector (and summed activity), read by the agent.
_POPULATION_VECTOR = (
    "px_post = a_pre * cos(heading_pre) : 1 (summed)\n"
    "py_post = a_pre * sin(heading_pre) : 1 (summed)\n"
    "a_sum_post = a_pre : 1 (summed)"
)

#: Each critic spike adds ``1 / n_critic`` to both traces of the agent's value read-out.
_VALUE_SPIKE = "A_post += 1 / n_critic\nB_post += 1 / n_critic"

#: The ring's synapses: fixed weights ``J`` (local excitation, broad inhibition) from
#: the run-time fields ``J_exc``, ``J_inh`` and ``kappa``.
_RING = """
J : 1 (constant)
J_exc : 1 (shared, constant)
J_inh : 1 (shared, constant)
kappa : 1 (shared, constant)
"""
_RING_J = "J_exc * exp(kappa * (cos(heading_pre - heading_post) - 1)) - J_inh"

#: Params fields that the equations use under their own names as constants of the code:
#: durations and sizes, the structure of the run.
_NAMESPACE_FIELDS = ("timeout", "reward_duration", "n_critic", "n_actor")

#: The run-time fields that the equations use under their own names, as shared constants.
_CONSTANT_FIELDS = (
    "speed p0 reward_rate wall_penalty wall_touch tau_touch blackout place_rate tau_s "
    "critic_rate0 critic_gain tau_rise tau_decay tau_r tau_m actor_bias actor_noise J_exc "
    "J_inh kappa tau_a"
).split()


def _namespace(params: Params) -> dict[str, Any]:
    """The structural constants of the equations: the arena's side, durations, sizes."""
    return {"L": params.size, **{name: getattr(params, name) for name in _NAMESPACE_FIELDS}}


def _constants(params: Params, maze: Maze) -> dict[str, Any]:
    """The run-time fields by their names in the equations: the platform and the place
    fields' width in metres, then Params fields.

    Each is a ``(shared, constant)`` variable of the groups that use it rather than a
    constant of the code, so the program compiled for one value runs with another
    (:func:`spikingml.simulation.constant_args`).
    """
    return {
        "goal_x": maze.goal[0] * meter,
        "goal_y": maze.goal[1] * meter,
        "goal_radius": maze.goal_radius * meter,
        "sigma": maze.sigma * meter,
        **{name: getattr(params, name) for name in _CONSTANT_FIELDS},
    }


def _constant_sets(
    network: Network, params: Params, maze: Maze
) -> list[tuple[list[Any], dict[str, Any]]]:
    """The values of every shared constant: ``(objects, name -> value)`` pairs.

    :func:`_constants` in every group that declares them; the learning rules' in their
    synapses and in the place cells (the critic's and the actor's synapses hold the same
    names, ``td_eta`` and ``td_w_max``, with values of their own).
    """
    critic_rule, actor_rule = params.rules()
    return [
        (list(network.net.objects), _constants(params, maze)),
        ([network.net["place"]], critic_rule.presynaptic_constants()),
        ([network.critic_syn], critic_rule.synapse_constants()),
        ([network.actor_syn], actor_rule.synapse_constants()),
    ]


def _read_run_args_here() -> None:
    """Under ``cpp_standalone``, make the program apply its run arguments at this point.

    By default the program applies them at the start of its first run, after the code
    that sets initial values (such as the ring's weights, computed from the run-time
    fields ``J_exc``, ``J_inh`` and ``kappa``) has run with the values it was built with.
    """
    device = b2.get_device()
    if hasattr(device, "apply_run_args"):  # cpp_standalone
        device.apply_run_args()


def _start_code(maze: Maze) -> str:
    """Reset code putting the agent at start position ``k_start`` (drawn with rand())."""
    n = len(maze.starts)
    xs = " + ".join(f"{sx!r} * int(k_start == {k})" for k, (sx, _) in enumerate(maze.starts))
    ys = " + ".join(f"{sy!r} * int(k_start == {k})" for k, (_, sy) in enumerate(maze.starts))
    return (
        f"k_start = int(floor(rand() * {n}))\n"
        f"k_start = clip(k_start, 0, {n - 1})\n"
        f"x = ({xs}) * meter\n"
        f"y = ({ys}) * meter\n"
    )


def _put_at_start(agent: b2.NeuronGroup, maze: Maze, rng: np.random.Generator) -> None:
    """Put the agent at a start position drawn from ``rng`` (before a phase)."""
    start = maze.starts[rng.integers(len(maze.starts))]
    agent.x = start[0] * meter
    agent.y = start[1] * meter


class Network(NamedTuple):
    """The Brian2 objects of one actor-critic that the protocol runs and reads."""

    net: b2.Network
    agent: b2.NeuronGroup
    critic_syn: b2.Synapses
    actor_syn: b2.Synapses
    #: spike monitors of ``place``, ``critic`` and ``actor``
    spikes: dict[str, b2.SpikeMonitor]
    #: the agent's state at every ``endtrial`` event
    trial_ends: b2.EventMonitor
    #: ``x``, ``y``, ``V`` and ``delta`` of the agent every 20 ms
    track: b2.StateMonitor


def build_network(params: Params, maze: Maze, seed: int) -> Network:
    """Create every Brian2 object of the closed-loop actor-critic; run nothing.

    Call it inside an active device context (:func:`spikingml.simulation.brian_device`):
    it sets ``defaultclock.dt``.

    Parameters
    ----------
    params : Params
        Circuit parameters.
    maze : Maze
        The arena, platform, start positions and place fields (``params.maze()``).
    seed : int
        Seed of the initial states (critic phases, actor potentials) and of the first
        start position; Brian2's own draws follow the device's seed.

    Returns
    -------
    Network
        The network, the agent, the two learning synapses and the monitors.

    Notes
    -----
    The objects' names and the order in which they and the ``rng`` draws are made fix
    the generated code and the random streams: keep them, or a run's numbers change.
    """
    p = params
    b2.defaultclock.dt = p.dt
    rng = np.random.default_rng([seed, 7])
    ns = _namespace(p)
    critic_rule, actor_rule = p.rules()
    learns = {"dt": critic_rule.update_interval, "when": "end"}  # both rules' interval
    # the agent's traces decay first, so that the summed-variable synapses that
    # broadcast delta (order -1) read this step's dV/dt, not a stale zero
    agent = b2.NeuronGroup(
        1, **_AGENT, events=dict(_AGENT_EVENTS), namespace=ns, name="agent", order=-2
    )
    agent.run_on_event("goal", "resting = 1\nt_goal = t")
    agent.run_on_event("endtrial", "trial += 1\nresting = 0\nt_start = t\n" + _start_code(maze))
    agent.run_regularly(_SWIM, when="start", name="swim")
    agent.run_regularly("nu_prev = nu", when="end", name="remember_rate")
    eligibility = critic_rule.presynaptic_equations(rate="field", delta="delta_g", shared=True)
    place = b2.NeuronGroup(
        maze.n_place,
        _PLACE_EQUATIONS + eligibility + "delta_g : hertz",
        threshold="rand() < place_rate * field * dt",
        method="euler",
        namespace=ns,
        name="place",
    )
    centres = maze.place_centres()
    place.cx = centres[:, 0] * meter
    place.cy = centres[:, 1] * meter
    place.x_agent = b2.linked_var(agent, "x", index=np.zeros(maze.n_place, dtype=int))
    place.y_agent = b2.linked_var(agent, "y", index=np.zeros(maze.n_place, dtype=int))
    place.resting_agent = b2.linked_var(agent, "resting", index=np.zeros(maze.n_place, dtype=int))
    critic = b2.NeuronGroup(p.n_critic, **_CRITIC, namespace=ns, name="critic")
    critic.phi = rng.uniform(0, 1, p.n_critic)
    actor = b2.NeuronGroup(p.n_actor, **_ACTOR, namespace=ns, name="actor")
    actor.heading = 2 * np.pi * np.arange(p.n_actor) / p.n_actor
    actor.u = rng.uniform(0, 1, p.n_actor)
    # the agent broadcasts delta (a neuromodulator), the actor's mean activity and the
    # touch signal; it reads the actor's population vector and the critic's value
    to_place = b2.Synapses(agent, place, _TO_PLACE, namespace=ns, name="delta_to_place")
    to_place.connect()
    to_actor = b2.Synapses(agent, actor, _TO_ACTOR, namespace=ns, name="delta_to_actor")
    to_actor.connect()
    readout = b2.Synapses(actor, agent, _POPULATION_VECTOR, namespace=ns, name="population_vector")
    readout.connect()
    value = b2.Synapses(critic, agent, on_pre=_VALUE_SPIKE, namespace=ns, name="value_readout")
    value.connect()
    # the plastic synapses: one TD-error rule, two parameter sets (shared constants each)
    critic_syn = b2.Synapses(
        place,
        critic,
        critic_rule.synapse_model("w", shared=True) + "w_learned : 1",
        on_pre="I_c_post += w / (place_rate_pre * tau_s_post)",
        namespace=ns,
        name="place_to_critic",
    )
    critic_syn.connect()
    critic_syn.run_regularly(critic_rule.on_update("w"), **learns, order=0, name="critic_learning")
    actor_syn = b2.Synapses(
        place,
        actor,
        actor_rule.synapse_model("theta", shared=True) + "theta_learned : 1",
        on_pre="I_a_post += theta / (place_rate_pre * tau_s_post)",
        namespace=ns,
        name="place_to_actor",
    )
    actor_syn.connect()
    actor_update = actor_rule.on_update("theta", post="a_post - a_mean_post")
    actor_syn.run_regularly(actor_update, **learns, order=0, name="actor_learning")
    # after both synapses have taken what accumulated (order 1 > 0)
    place.run_regularly(critic_rule.on_consumed(), **learns, order=1, name="consumed")
    ring = b2.Synapses(actor, actor, _RING, on_pre="u_post += J", namespace=ns, name="ring")
    ring.connect(condition="i != j")
    _put_at_start(agent, maze, rng)
    agent.learning = 1.0
    agent.t_goal = -1 * second
    spikes = {g.name: b2.SpikeMonitor(g, name=f"{g.name}_spikes") for g in (place, critic, actor)}
    end_state = ["trial", "resting", "t_start", "t_goal"]
    ends = b2.EventMonitor(agent, "endtrial", variables=end_state, name="trial_ends")
    track = b2.StateMonitor(
        agent, ["x", "y", "V", "delta"], record=0, dt=20 * ms, when="after_groups", name="track"
    )
    groups = (agent, place, critic, actor)
    synapses = (to_place, to_actor, readout, value, critic_syn, actor_syn, ring)
    net = b2.Network(*groups, *synapses, *spikes.values(), ends, track)
    network = Network(net, agent, critic_syn, actor_syn, spikes, ends, track)
    for objects, values in _constant_sets(network, p, maze):
        set_constants(objects, values)  # the run-time fields' values
    _read_run_args_here()  # (cpp_standalone) before the ring's weights are computed
    # a string expression, not an array: standalone cannot read ring.i before the run
    ring.J = _RING_J
    return network


# ----------------------------------------------------------------------- the protocol
def _longest(params: Params, n_trials: int) -> Any:
    """Simulated time after which ``n_trials`` trials have certainly ended."""
    return n_trials * (params.timeout + params.reward_duration) + 2 * params.dt


def _run_phase(
    network: Network,
    params: Params,
    n_trials: int,
    device: str,
    progress: bool,
    label: str,
) -> None:
    """Run until ``n_trials`` trials have ended (runtime) or for the longest they can take."""
    agent = network.agent
    longest = _longest(params, n_trials)
    if device == "cpp_standalone":
        network.net.run(longest, report="stderr" if progress else None, report_period=10 * second)
        return
    t0 = time.perf_counter()
    elapsed = 0 * second
    while float(agent.trial[0]) < n_trials and elapsed < longest:
        network.net.run(params.chunk)
        elapsed += params.chunk
        if progress:
            logger.info(
                "%s: %s trial %d/%d (%.1f s)",
                NAME,
                label,
                int(agent.trial[0]),
                n_trials,
                time.perf_counter() - t0,
            )


def _start_control(
    network: Network,
    maze: Maze,
    rng: np.random.Generator,
    n_trials: int,
    t_switch: float,
) -> None:
    """Set up the control run: same task and network, naive weights, no learning."""
    network.critic_syn.w = 0
    network.actor_syn.theta = 0
    agent = network.agent
    _put_at_start(agent, maze, rng)
    agent.trial = 0
    agent.resting = 0
    agent.learning = 0
    agent.trial_limit = n_trials
    agent.t_start = t_switch * second


def _run_protocol(
    network: Network, params: Params, maze: Maze, seed: int, device: str, progress: bool
) -> tuple[float, float]:
    """Train for ``n_trials`` trials, then run the control without learning.

    Under ``cpp_standalone`` (``build_on_run=False``) the two phases, and the weight
    changes between them, are only recorded: one program runs both. Returns the time of
    the switch to the control (s) and the ``time.perf_counter()`` at the end of the
    learning phase.
    """
    rng = np.random.default_rng([seed, 11])  # the control's start position
    network.agent.trial_limit = params.n_trials
    _run_phase(network, params, params.n_trials, device, progress, "learning")
    learned = time.perf_counter()
    if device == "cpp_standalone":
        t_switch = float(_longest(params, params.n_trials) / second)
    else:
        t_switch = float(network.net.t / second)
    # keep the learned weights (an assignment from an expression also works between
    # the runs of a standalone program, where they cannot be read until the end)
    network.critic_syn.w_learned = "w"
    network.actor_syn.theta_learned = "theta"
    if params.n_control_trials:
        _start_control(network, maze, rng, params.n_control_trials, t_switch)
        _run_phase(network, params, params.n_control_trials, device, progress, "control")
    return t_switch, learned


def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "an actor_critic.Params", type(params).__name__)
    return params


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "runtime",
    progress: bool = True,
) -> Result:
    """Train the agent for ``n_trials`` trials, then run the control without learning.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (start positions, place-cell spikes, actor noise).
    device : {"runtime", "cpp_standalone"}
        Brian2 device. Under ``runtime`` the simulation stops as soon as the last trial
        has ended (checked every ``chunk``); ``cpp_standalone`` cannot look, so it runs
        for the longest the trials could take (the agent rests after the last trial).
    progress : bool
        Report the trials done every ``chunk`` to this module's logger at level INFO
        (``runtime``; a ``cpp_standalone`` program reports nothing until it ends).

    Returns
    -------
    Result
        Spikes of ``place``, ``critic`` and ``actor``; signals ``x``, ``y`` (m), ``V`` and
        ``delta`` (1/s) of the agent every 20 ms; events ``trial_start``, ``goal`` and
        ``trial_end``; phases ``learning`` and ``control``; weights ``critic_w``
        (place cells x critic neurons), ``actor_theta`` (place cells x actor neurons);
        ``extra['latencies']`` and ``extra['control_latencies']`` (s),
        ``extra['reached']``, ``extra['control_reached']``.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and the run-time fields are its run arguments
    (:func:`simulate_many`): a run that changes only those (``eta_critic``,
    ``eta_actor``, ``speed``, ...) compiles nothing. The seed is not a run argument
    (Brian2 draws the place cells' spikes and the actor's noise on the device).

    See Also
    --------
    simulate_many : several parameter sets and seeds, compiled once per structure.
    """
    params = _check_params(params)
    check_device(device)
    seed = check_seed(seed)
    if device == "cpp_standalone":
        (result,) = simulate_many([(params, seed)], device, progress)
        return result
    maze = params.maze()
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, maze, seed)
        counter = SynapticEventCounter(network.net)
        t_switch, learned = _run_protocol(network, params, maze, seed, device, progress)
        learning_wall = learned - t_wall
        return _result(network, counter, params, seed, device, t_switch, t_wall, learning_wall)


def _result(
    network: Network,
    counter: SynapticEventCounter,
    params: Params,
    seed: int,
    device: str,
    t_switch: float,
    t_wall: float,
    learning_wall: float | None = None,
) -> Result:
    """Read a finished run into a :class:`Result` (wall time from ``t_wall``).

    ``learning_wall`` is the wall time of the learning phase; ``None`` (one
    ``cpp_standalone`` program runs both phases): the whole wall time.
    """
    synaptic_events = counter.total()
    spikes, signals, trial_ends, weights = _collect(network, params, params.maze())
    t_stop = float(network.net.t / second)
    wall = time.perf_counter() - t_wall
    result = _assemble(
        params,
        seed,
        device,
        spikes,
        signals,
        trial_ends,
        weights,
        t_switch,
        t_stop,
        wall,
        wall if learning_wall is None else learning_wall,
    )
    return result.replace(synaptic_events=synaptic_events)


def _collect(
    network: Network, params: Params, maze: Maze
) -> tuple[
    dict[str, SpikeData], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]
]:
    """Read the monitors and the learned weights: (spikes, signals, trial_ends, weights)."""
    ends = network.trial_ends
    trial_ends = {
        "t": np.asarray(ends.t[:] / second),
        "reached": np.asarray(ends.resting[:]) > 0.5,
        "t_start": np.asarray(ends.t_start[:] / second),
        "t_goal": np.asarray(ends.t_goal[:] / second),
    }
    track = network.track
    signals = {
        "t": np.asarray(track.t[:] / second),
        **{k: np.asarray(getattr(track, k)[0]) for k in ("x", "y", "V", "delta")},
    }
    spikes = {
        name: SpikeData(
            np.asarray(monitor.i[:]), np.asarray(monitor.t[:] / second), int(monitor.source.N)
        )
        for name, monitor in network.spikes.items()
    }
    weights = {}
    for key, syn, var, n_post in (
        ("critic_w", network.critic_syn, "w_learned", params.n_critic),
        ("actor_theta", network.actor_syn, "theta_learned", params.n_actor),
    ):
        matrix = np.zeros((maze.n_place, n_post))
        matrix[np.asarray(syn.i[:]), np.asarray(syn.j[:])] = np.asarray(getattr(syn, var)[:])
        weights[key] = matrix
    return spikes, signals, trial_ends, weights


def _assemble(
    params: Params,
    seed: int,
    device: str,
    spikes: dict[str, SpikeData],
    signals: dict[str, np.ndarray],
    trial_ends: dict[str, np.ndarray],
    weights: dict[str, np.ndarray],
    t_switch: float,
    t_stop: float,
    wall: float,
    learning_wall: float,
) -> Result:
    """Turn the recordings into a :class:`Result` (trial table, phases, events)."""
    reached = trial_ends["reached"]
    latency = np.where(
        reached,
        trial_ends["t_goal"] - trial_ends["t_start"],
        trial_ends["t"] - trial_ends["t_start"],
    )
    learning = trial_ends["t"] <= t_switch + 1e-9
    sample_dt = 0.02
    agent_signals = {
        name: Signal(signals[name], dt=sample_dt, unit=unit, population="agent")
        for name, unit in (("x", "m"), ("y", "m"), ("V", "1"), ("delta", "Hz"))
    }
    phases = [Phase("learning", 0.0, t_switch)]
    if params.n_control_trials:
        phases.append(Phase("control", t_switch, t_stop))
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations=spikes,
        signals=agent_signals,
        events={
            "trial_start": trial_ends["t_start"],
            "goal": trial_ends["t_goal"][reached],
            "trial_end": trial_ends["t"],
        },
        phases=phases,
        weights=weights,
        extra={
            "latencies": latency[learning].tolist(),
            "reached": reached[learning].tolist(),
            "control_latencies": latency[~learning].tolist(),
            "control_reached": reached[~learning].tolist(),
            "trial_start": trial_ends["t_start"].tolist(),
            "trial_end": trial_ends["t"].tolist(),
            "learning_wall_seconds": learning_wall,
        },
        simulated_seconds=t_stop,
        wall_seconds=wall,
        versions=versions(),
    )


# ----------------------------------------------------------------------------- twin
@dataclasses.dataclass
class Twin:
    """The twin's two runs: learning (``n_trials``) and control (``n_control_trials``).

    Attributes
    ----------
    learning : ActorCriticResult
        The linear actor-critic trained on the task.
    control : ActorCriticResult or None
        The same agent with learning off (a random walk); None without control trials.
    """

    learning: ActorCriticResult
    control: ActorCriticResult | None


def _twin_kwargs(params: Params) -> dict[str, Any]:
    return {
        "dt": float(params.twin_dt),
        "speed": float(params.speed),
        "n_actions": params.n_actor,
        "tau_r": float(params.tau_r),
        "tau_e": float(params.tau_e),
        "alpha_critic": params.twin_alpha_critic,
        "alpha_actor": params.twin_alpha_actor,
        "timeout": float(params.timeout),
        "wall_penalty": float(params.wall_penalty),
    }


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """A linear actor-critic with TD(lambda) on the same arena, features and starts.

    See :func:`spikingml.analysis.actor_critic.linear_actor_critic`; its discount and
    trace decay come from the circuit's ``tau_r`` and ``tau_e``.
    """
    params = Params() if params is None else params
    maze = params.maze()
    kwargs = _twin_kwargs(params)
    learned = linear_actor_critic(maze, params.n_trials, seed=seed, **kwargs)
    control = None
    if params.n_control_trials:
        control = linear_actor_critic(
            maze, params.n_control_trials, seed=seed + 10_000, learning=False, **kwargs
        )
    return Twin(learned, control)


# --------------------------------------------------------------------------- compare
def _params_of(result: Result) -> Params:
    return Params.from_dict(result.params)


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin.

    See :func:`spikingml.analysis.actor_critic.water_maze_metrics`.
    """
    params = _params_of(result)
    return water_maze_metrics(
        result, twin_output.learning, twin_output.control, params.maze(), float(params.speed)
    )


# --------------------------------------------------------------------------- figures
def raster_window(result: Result) -> tuple[float, float]:
    """A readable raster window: the last learning trial, from its start to 0.5 s after."""
    starts = np.asarray(result.extra["trial_start"], dtype=float)
    ends = np.asarray(result.extra["trial_end"], dtype=float)
    n = len(result.extra["latencies"])
    if n == 0:
        return 0.0, min(5.0, result.simulated_seconds)
    return float(starts[n - 1]), float(ends[n - 1]) + 0.5


def raster_options(result: Result) -> dict[str, Any]:
    """What ``raster.png`` shows: :func:`raster_window`, with goal and trial-end markers."""
    t_start, t_stop = raster_window(result)
    return {"t_start": t_start, "t_stop": t_stop, "events": ("goal", "trial_end")}


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png`` and ``trajectories.png`` into ``outdir``.

    See :func:`spikingml.figures.actor_critic.figures`.
    """
    from spikingml.figures.actor_critic import figures as draw

    return draw(result, twin_output, _params_of(result), compare(result, twin_output), outdir)
