r"""Unreliable release with a delta rule: DropConnect written as synapses.

Contents
--------
:class:`ReleaseDeltaRule`
    A synapse releases each presynaptic spike with probability ``p`` while it learns
    and transmits every spike, scaled by ``p``, at test; at the end of every example the
    postsynaptic neuron's error against its target teaches the synapses by the delta
    rule, each in proportion to the spikes it actually released.

Equations (in the symbols of the code)
--------------------------------------
Per presynaptic spike (pathway ``pre``)::

    q        = learning * p_release + (1 - learning)        release probability
    s        = learning + (1 - learning) * p_release         transmitted fraction
    released = int(rand() < q)
    v_post  += s * alive * w * released / n
    c       += learning * released / n

with ``alive = int(rank >= rd_deleted(t))`` (synapses deleted after training),
``learning = rd_learning(t)`` (1 while learning, 0 at test) and ``n`` = ``rd_spikes``
(spikes an active input sends per example). At the postsynaptic neuron's ``decide``
event (pathway ``learn``), before the neuron resets ``v = 0``::

    w += rd_eta * learning * (target_post - v_post) * c        c = 0

``target = int(abs(rd_label(t) - klass) < 0.5)``: 1 for the output of the example's
class. This is the delta rule (Widrow & Hoff 1960) on the released drive: the gradient
of ``(target - v)^2 / 2`` with respect to ``w`` through the spikes that got through, so
a failed release neither drives nor teaches (as DropConnect, Wan et al. 2013, drops a
weight from both the forward pass and its gradient). With one spike per active input
and example (``n = 1``) the released spikes are exactly a DropConnect mask.

The circuit provides three ``TimedArray`` schedules in the namespace, ``rd_learning(t)``,
``rd_deleted(t)`` and ``rd_label(t)`` (one value per example), and the output neurons'
``decide`` event. :mod:`spikingml.analysis.dropconnect` is the same rule in NumPy. The
learning rate ``rd_eta`` is a constant of the namespace (:meth:`ReleaseDeltaRule.namespace`)
or, with ``shared=True``, a shared constant of the synapses (the circuit's run-time field
``learning_rate``).

References
----------
Widrow, B. & Hoff, M. E. (1960). Adaptive switching circuits. IRE WESCON Convention
Record 4, 96-104.

Wan, L., Zeiler, M., Zhang, S., LeCun, Y. & Fergus, R. (2013). Regularization of neural
networks using DropConnect. Proceedings of ICML 2013, PMLR 28(3), 1058-1066.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from spikingml.params import RuleParams, param

__all__ = ["ReleaseDeltaRule"]


@dataclasses.dataclass(frozen=True)
class ReleaseDeltaRule(RuleParams):
    """Parameters and Brian2 code of stochastic release with the delta rule.

    Parameters
    ----------
    learning_rate : float
        ``rd_eta``: the delta rule's learning rate.
    spikes_per_input : int
        ``rd_spikes`` (``n``): spikes an active input sends per example; each spike
        transmits ``w / n``, so the drive of an example does not depend on ``n``.

    Examples
    --------
    >>> rule = ReleaseDeltaRule(learning_rate=0.02)
    >>> print(rule.on_decision().splitlines()[0])
    w += rd_eta * rd_learning(t) * (target_post - v_post) * c
    """

    learning_rate: float = param(0.02, "rd_eta: learning rate", low=0, low_inclusive=False)
    spikes_per_input: int = param(
        1, "rd_spikes: spikes per active input and example", integer=True, low=1
    )

    def namespace(self, shared: bool = False) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``rd_``.

        With ``shared``, only those that ``synapse_model(shared=True)`` does not declare
        (``rd_spikes``).
        """
        values = {"rd_spikes": float(self.spikes_per_input)}
        return values if shared else {"rd_eta": float(self.learning_rate), **values}

    def shared_constants(self) -> dict[str, Any]:
        """The values of the shared constants of ``synapse_model(shared=True)``: name ->
        value, for :func:`spikingml.simulation.set_constants`."""
        return {"rd_eta": float(self.learning_rate)}

    @staticmethod
    def output_model() -> str:
        """Model of the output neurons: potential, release probability, class, target."""
        return (
            "v : 1\n"
            "p_release : 1 (constant)\n"
            "klass : 1 (constant)\n"
            "target = int(abs(rd_label(t) - klass) < 0.5) : 1\n"
        )

    @staticmethod
    def output_reset() -> str:
        """Code of the outputs at ``decide``, after the synapses learned: ``v = 0``."""
        return "v = 0"

    @staticmethod
    def synapse_model(shared: bool = False) -> str:
        """Model of the synapses: weight, released spikes of the example, deletion rank.

        With ``shared``, also the learning rate ``rd_eta`` as a shared constant of the
        synapses (its value from :meth:`shared_constants`) instead of a constant of the
        namespace: a compiled ``cpp_standalone`` program then runs with another learning
        rate (:func:`spikingml.simulation.constant_args`).
        """
        model = "w : 1\nc : 1\nrank : 1 (constant)\n"
        return model + ("rd_eta : 1 (shared, constant)\n" if shared else "")

    @staticmethod
    def on_pre() -> str:
        """A presynaptic spike: released with probability ``q``, transmitted, counted."""
        return (
            "released = int(rand() < rd_learning(t) * p_release_post + 1 - rd_learning(t))\n"
            "v_post += (rd_learning(t) + (1 - rd_learning(t)) * p_release_post)"
            " * int(rank >= rd_deleted(t)) * w * released / rd_spikes\n"
            "c += rd_learning(t) * released / rd_spikes\n"
        )

    @staticmethod
    def on_decision() -> str:
        """The postsynaptic ``decide`` event: the delta rule on the released spikes."""
        return "w += rd_eta * rd_learning(t) * (target_post - v_post) * c\nc = 0\n"
