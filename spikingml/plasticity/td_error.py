r"""A TD-error-gated three-factor rule: presynaptic eligibility x TD error x postsynaptic term.

The rule of the spiking actor-critic (Fremaux, Sprekeler & Gerstner 2013; Doya 2000):
one neuromodulatory signal carrying the temporal-difference error ``delta`` gates the
plasticity of every synapse from a presynaptic population (place cells). Each
presynaptic neuron keeps a rate-based eligibility trace ``E`` of its own activity; a
synapse changes by the product of that trace, ``delta`` and a postsynaptic term::

    dw/dt = td_eta * delta * E_pre * post

The critic uses ``post = 1`` (its weights learn the value); the actor uses the centred
activity of its postsynaptic neuron, ``post = a_post - a_mean_post``, so an action that
was followed by a positive surprise is taken more often. Both are this one rule with
different parameters (:class:`TDErrorRule`, used twice).

Contents
--------
:class:`TDErrorRule`
    The rule's parameters and the Brian2 code that implements it.
:func:`reference_weights`
    The same discrete updates computed step by step in NumPy, for tests.
:func:`closed_form_change`
    The weight change for constant inputs, integrated exactly.

Equations (in the symbols of the code)
--------------------------------------
On the presynaptic group (one trace and one running integral per neuron, not per
synapse; ``rate`` is the neuron's normalised rate, ``delta`` the TD error in 1/s)::

    dE/dt = (rate - E) / td_tau_e          eligibility
    dG/dt = delta * E                      accumulated TD error x eligibility

Every ``update_interval`` (``run_regularly`` in the ``end`` slot) each synapse applies
what has accumulated, and the presynaptic group then empties its integral::

    w = clip(w + td_eta * G_pre * (post), -td_w_max, td_w_max)    synapses, order 0
    G = 0                                                          presynaptic, order 1

so between updates a synapse changes by ``td_eta * post * integral of delta * E dt``,
with ``post`` read at the update. The per-synapse work is one multiply-add per update;
nothing is integrated per synapse. ``w`` is dimensionless (the circuit gives it meaning
in its transmission code). ``E`` and ``G`` are integrated by the presynaptic group's
state updater (the actor-critic uses forward Euler; :func:`reference_weights` does the
same). The constants ``td_eta``, ``td_w_max`` and ``td_tau_e`` come from the groups'
``namespace`` (:meth:`TDErrorRule.namespace`) or, with ``shared=True``, are shared
constants of the synapses and of the presynaptic group (so that a compiled
``cpp_standalone`` program runs with other values of them; the actor-critic's critic and
actor synapses hold their own ``td_eta`` and ``td_w_max`` this way).

References
----------
Doya, K. (2000). Reinforcement learning in continuous time and space. Neural Comput. 12,
219-245.

Fremaux, N., Sprekeler, H. & Gerstner, W. (2013). Reinforcement learning using a
continuous time actor-critic framework with spiking neurons. PLoS Comput. Biol. 9,
e1003024.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from brian2 import ms, second

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, is_whole, param

__all__ = ["TDErrorRule", "closed_form_change", "reference_weights"]

#: Prefix of the constants in :meth:`TDErrorRule.namespace`: a group's own variables are
#: resolved before the namespace, so a plain ``eta`` or ``tau_e`` could be shadowed.
_PREFIX = "td_"


@dataclasses.dataclass(frozen=True)
class TDErrorRule(RuleParams):
    """Parameters and Brian2 code of the TD-error-gated three-factor rule.

    Parameters
    ----------
    eta : float
        Learning rate: weight change per unit of ``post * integral of delta * E dt``.
    w_max : float
        Bound of the weights: they stay in ``[-w_max, w_max]``.
    tau_e : Quantity (time)
        Time constant of the presynaptic eligibility trace ``E``.
    update_interval : Quantity (time)
        The weights change every this, by what has accumulated since the last change.

    Notes
    -----
    Rules that learn from the same presynaptic group share its ``E`` and ``G`` and so
    must share ``tau_e`` and ``update_interval`` (derive one from the other with
    :func:`dataclasses.replace`, as the actor-critic does).

    Examples
    --------
    The critic and the actor of :mod:`spikingml.circuits.actor_critic`: one rule, two
    learning rates and bounds, the actor's change scaled by its centred activity.

    >>> critic_rule = TDErrorRule(eta=0.1, w_max=1.0)
    >>> actor_rule = dataclasses.replace(critic_rule, eta=0.05)
    >>> print(critic_rule.on_update("w"))
    w = clip(w + td_eta * G_pre, -td_w_max, td_w_max)
    >>> print(actor_rule.on_update("theta", post="a_post - a_mean_post"))
    theta = clip(theta + td_eta * G_pre * (a_post - a_mean_post), -td_w_max, td_w_max)
    >>> sorted(actor_rule.namespace())
    ['td_eta', 'td_tau_e', 'td_w_max']
    """

    eta: float = param(0.1, "learning rate (weight change per unit of post * delta * E dt)", low=0)
    w_max: float = param(
        1.0, "bound of the weights (they stay in [-w_max, w_max])", low=0, low_inclusive=False
    )
    tau_e: Any = param(
        200 * ms,
        "time constant of the presynaptic eligibility trace E",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    update_interval: Any = param(
        10 * ms,
        "the weights change every this, by the accumulated delta * E",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``td_`` so no group variable shadows them.

        The union of :meth:`synapse_constants` and :meth:`presynaptic_constants`, for
        groups that take them from their ``namespace``.
        """
        return {**self.synapse_constants(), **self.presynaptic_constants()}

    def synapse_constants(self) -> dict[str, Any]:
        """The synapses' constants (``td_eta``, ``td_w_max``): name -> value.

        Where the synapses declare them as shared constants (``synapse_model(...,
        shared=True)``), give them these values with
        :func:`spikingml.simulation.set_constants`.
        """
        return {_PREFIX + "eta": float(self.eta), _PREFIX + "w_max": float(self.w_max)}

    def presynaptic_constants(self) -> dict[str, Any]:
        """The presynaptic group's constant (``td_tau_e``): name -> value.

        Where the group declares it as a shared constant (``presynaptic_equations(...,
        shared=True)``), give it this value with :func:`spikingml.simulation.set_constants`.
        """
        return {_PREFIX + "tau_e": self.tau_e}

    @staticmethod
    def presynaptic_equations(
        rate: str = "rate", delta: str = "delta", shared: bool = False
    ) -> str:
        """Equations of ``E`` and ``G`` for the presynaptic ``NeuronGroup``.

        Parameters
        ----------
        rate : str
            Name of the group's normalised rate (dimensionless, defined by the group),
            which ``E`` follows.
        delta : str
            Name of the group's TD-error variable (in Hz, defined by the group; e.g. the
            target of summed-variable synapses that broadcast it).
        shared : bool
            Declare ``td_tau_e`` a shared constant of the group (its value from
            :meth:`presynaptic_constants`) instead of taking it from the namespace: a
            compiled ``cpp_standalone`` program then runs with another value of it
            (:func:`spikingml.simulation.constant_args`).
        """
        equations = f"dE/dt = ({rate} - E) / {_PREFIX}tau_e : 1\ndG/dt = {delta} * E : 1\n"
        if shared:
            equations += f"{_PREFIX}tau_e : second (shared, constant)\n"
        return equations

    @staticmethod
    def synapse_model(weight: str = "w", shared: bool = False) -> str:
        """Per-synapse variables: the weight alone (named ``weight``).

        With ``shared``, also ``td_eta`` and ``td_w_max`` as shared constants of the
        synapses (values from :meth:`synapse_constants`), instead of namespace constants:
        two synapses learning from one presynaptic group with this rule may then hold
        different values under the same names.
        """
        model = f"{weight} : 1\n"
        if shared:
            model += (
                f"{_PREFIX}eta : 1 (shared, constant)\n{_PREFIX}w_max : 1 (shared, constant)\n"
            )
        return model

    @staticmethod
    def on_update(weight: str = "w", post: str | None = None) -> str:
        """Code for the synapses' ``run_regularly`` (``end`` slot, order 0): apply ``G``.

        Parameters
        ----------
        weight : str
            Name of the synapses' weight.
        post : str, optional
            Postsynaptic term (an expression in the synapses' namespace, such as
            ``"a_post - a_mean_post"``); ``None`` for 1 (the critic).
        """
        change = f"{_PREFIX}eta * G_pre" + ("" if post is None else f" * ({post})")
        return f"{weight} = clip({weight} + {change}, -{_PREFIX}w_max, {_PREFIX}w_max)"

    @staticmethod
    def on_consumed() -> str:
        """Code for the presynaptic group's ``run_regularly`` (``end`` slot, order 1)."""
        return "G = 0"


def _series(name: str, values: Any, n_steps: int, n_pre: int) -> np.ndarray:
    """Broadcast a constant, a per-step or a (steps, neurons) array to (steps, neurons)."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1 and array.shape[0] == n_steps:
        array = array[:, None]
    try:
        return np.broadcast_to(array, (n_steps, n_pre))
    except ValueError:
        raise ValidationError(
            name, f"a number, {n_steps} values (one a step) or shape ({n_steps}, {n_pre})", array
        ) from None


def reference_weights(
    rule: TDErrorRule,
    w0: np.ndarray,
    rate: Any,
    delta: Any,
    post: Any = 1.0,
    *,
    dt: Any,
    n_steps: int,
) -> np.ndarray:
    """Weights after ``n_steps`` steps of ``dt``, computed as Brian2 schedules the rule.

    Every step, forward Euler advances ``E`` and ``G`` from their values at the step's
    start (``E`` starts at 0). In every step whose index is a multiple of
    ``update_interval / dt`` (the ``end`` slot, after the state update, including step
    0), ``w = clip(w + eta * G * post, -w_max, w_max)`` and then ``G = 0``.

    Parameters
    ----------
    rule : TDErrorRule
    w0 : ndarray, shape (n_pre, n_post)
        Initial weights.
    rate : float or ndarray
        Presynaptic normalised rate: a constant, one value a step (n_steps,), or
        (n_steps, n_pre).
    delta : float or ndarray
        TD error (1/s), constant or one value a step (shape (n_steps,)).
    post : float or ndarray, shape (n_post,)
        Postsynaptic term, held constant.
    dt : Quantity
        Time step of the simulation; ``update_interval`` must be a multiple of it.
    n_steps : int
        Steps simulated.

    Returns
    -------
    ndarray, shape (n_pre, n_post)
    """
    w = np.array(w0, dtype=float)
    if w.ndim != 2:
        raise ValidationError("w0", "an array of shape (n_pre, n_post)", w.shape)
    step = float(dt / second)
    ratio = float(rule.update_interval / second) / step
    if not is_whole(ratio) or round(ratio) < 1:
        raise ValidationError("dt", f"a divisor of update_interval ({rule.update_interval})", dt)
    every = int(round(ratio))
    n_pre = w.shape[0]
    rates = _series("rate", rate, n_steps, n_pre)
    deltas = _series("delta", delta, n_steps, n_pre)
    post = np.broadcast_to(np.asarray(post, dtype=float), w.shape[1:])
    tau_e = float(rule.tau_e / second)
    E = np.zeros(n_pre)
    G = np.zeros(n_pre)
    for k in range(n_steps):
        E, G = E + step * (rates[k] - E) / tau_e, G + step * deltas[k] * E
        if k % every == 0:
            w = np.clip(w + rule.eta * G[:, None] * post[None, :], -rule.w_max, rule.w_max)
            G = np.zeros(n_pre)
    return w


def closed_form_change(rule: TDErrorRule, rate: float, delta: float, post: float, t: Any) -> float:
    """``eta * post * delta * integral_0^t E dt`` for constant inputs and ``E(0) = 0``.

    With ``E(s) = rate * (1 - exp(-s / tau_e))`` the integral is ``rate * (t - tau_e *
    (1 - exp(-t / tau_e)))``; valid while no bound is reached and when ``t`` ends in an
    update, so that everything accumulated has been applied.
    """
    duration = float(t / second)
    tau_e = float(rule.tau_e / second)
    integral = rate * (duration - tau_e * (1.0 - math.exp(-duration / tau_e)))
    return rule.eta * post * delta * integral
