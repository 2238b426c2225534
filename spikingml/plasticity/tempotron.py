r"""The tempotron rule with momentum and a consolidated (running-mean) weight.

The tempotron (Gutig & Sompolinsky 2006) is a leaky integrate-and-fire neuron that
classifies a spike pattern by firing (label +1) or staying silent (label -1). Its
membrane potential, in units of the distance from rest to threshold, is a sum of
postsynaptic potentials with the kernel

.. math::

    K(s) = V_0 \left(e^{-s/\tau} - e^{-s/\tau_s}\right) \quad (s > 0), \qquad K(s) = 0
    \quad (s \le 0),

``V0`` normalising its peak to 1. When the neuron errs on a pattern, each synapse moves
by the PSP its input left at the time ``tmax`` of the neuron's voltage maximum (or of its
spike): the gradient of ``V(tmax)`` with respect to the weight.

Equations (in the symbols of the code)
--------------------------------------
At the end of every pattern (a *decision*), for every afferent ``i`` that fired at
``ts`` in it::

    err = (1 + label) / 2 - fired                   +1, -1 or 0 (correct)
    lam = lam0 / (1 + t / tau_lr)                   learning rate falling with time
    dw  = mu * dw + learning * lam * err * K(tmax - ts)
    w  += learning * dw
    wc += learning * beta * (w - wc)

``dw`` carries the momentum ``mu`` from one update to the next (every update decays it
once, also one with ``err = 0``); ``wc``, the *consolidated* weight, is a running mean
of ``w`` with a time constant of ``1 / beta`` updates, ``beta = 1 / (average_epochs *
P)`` for a weight updated ``P`` times per epoch. When learning stops (``learning = 0``)
``wc`` becomes the weight (``w = wc``): the averaged perceptron (Freund & Schapire 1999;
Polyak & Juditsky 1992), which near capacity classifies more patterns than the last
iterate. ``learning`` is 1 while learning and 0 to freeze everything.

Where the variables live
------------------------
The rule is written for three Brian2 objects, so that one weight can serve several
copies of the neuron and many patterns:

- the *weights*: one neuron per afferent (:meth:`TempotronRule.weight_model`: ``w``,
  ``dw``, ``wc``); the afferent's transmission reads ``w_pre``;
- the *decisions*: one neuron per pattern (:meth:`TempotronRule.decision_model`), which
  receives ``fired`` and ``tmax`` from the neuron that presented it, and spikes once to
  apply the update; ``lam0``, ``mu``, ``tau_lr`` and ``beta`` are its variables, not
  constants of the code, so other values do not recompile a standalone program
  (:meth:`TempotronRule.decision_values`);
- the *update* synapses from every decision to every afferent of its pattern
  (:meth:`TempotronRule.synapse_model`: the spike time ``ts``;
  :meth:`TempotronRule.on_pre`: the update above).

The kernel's constants ``tau``, ``tau_s`` and ``V0`` are in :meth:`TempotronRule.namespace`,
prefixed ``psp_`` (a variable ``tau`` of a connected group would otherwise shadow them).
:mod:`spikingml.circuits.tempotron` composes the rule; its tests check it against the
plain online rule in NumPy.

References
----------
Gutig, R. & Sompolinsky, H. (2006). The tempotron: a neuron that learns spike
timing-based decisions. Nat. Neurosci. 9, 420-428.

Freund, Y. & Schapire, R. E. (1999). Large margin classification using the perceptron
algorithm. Mach. Learn. 37, 277-296.

Polyak, B. T. & Juditsky, A. B. (1992). Acceleration of stochastic approximation by
averaging. SIAM J. Control Optim. 30, 838-855.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from brian2 import ms, second

from spikingml.analysis.tempotron import kernel_norm
from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["TempotronRule"]


@dataclasses.dataclass(frozen=True)
class TempotronRule(RuleParams):
    """Parameters and Brian2 code of the tempotron rule (momentum, running-mean weight).

    Parameters
    ----------
    tau, tau_s : Quantity (time)
        Membrane and synaptic time constants of the PSP kernel ``K`` (those of the
        neuron whose decisions it learns from), ``tau_s < tau``.
    learning_rate : float
        ``lam0``: the learning rate at ``t = 0``.
    momentum : float
        ``mu``, in ``[0, 1)``.
    tau_lr : Quantity (time)
        Time over which the learning rate halves: ``lam = lam0 / (1 + t / tau_lr)``.
    average_epochs : float
        Time constant of the consolidated weight ``wc``, in epochs (0: ``wc = w``).

    Examples
    --------
    >>> from brian2 import ms, second
    >>> rule = TempotronRule(tau=15 * ms, tau_s=3.75 * ms, tau_lr=10 * second)
    >>> print(rule.on_pre().splitlines()[1])
    w_post += learning_pre * dw_post
    >>> sorted(rule.namespace())
    ['psp_V0', 'psp_tau', 'psp_tau_s']
    """

    tau: Any = param(
        15 * ms,
        "membrane time constant of the PSP kernel K",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    tau_s: Any = param(
        3.75 * ms,
        "synaptic time constant of K (< tau)",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    learning_rate: float = param(
        1e-2, "lam0: the learning rate at t = 0", low=0, low_inclusive=False
    )
    momentum: float = param(0.9, "mu: momentum per update", low=0, high=1, high_inclusive=False)
    tau_lr: Any = param(
        10 * second,
        "the learning rate falls as lam0 / (1 + t / tau_lr)",
        unit=second,
        low=0 * second,
        low_inclusive=False,
    )
    average_epochs: float = param(
        3.0, "time constant of the running mean wc of w, in epochs (0: wc = w)", low=0
    )

    def check(self) -> None:
        """The kernel needs two different time constants, ``tau_s < tau``."""
        if not self.tau_s < self.tau:
            raise ValidationError(self.qualname("tau_s"), f"< tau ({self.tau})", self.tau_s)

    # -- derived constants ---------------------------------------------------------------
    @property
    def V0(self) -> float:
        """The factor that makes the peak of ``K`` equal to 1."""
        return kernel_norm(float(self.tau), float(self.tau_s))

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code: the kernel's, prefixed ``psp_``."""
        return {"psp_tau": self.tau, "psp_tau_s": self.tau_s, "psp_V0": self.V0}

    def consolidation_rate(self, patterns_per_epoch: Any) -> np.ndarray:
        """``beta`` of a weight updated ``patterns_per_epoch`` times per epoch.

        ``1 / (average_epochs * patterns_per_epoch)``, or 1 (``wc = w``) if
        ``average_epochs`` is 0.
        """
        n = np.asarray(patterns_per_epoch)
        if np.any(n < 1):
            raise ValidationError(
                f"{type(self).__name__}.consolidation_rate(patterns_per_epoch)",
                "counts >= 1",
                patterns_per_epoch,
            )
        avg = float(self.average_epochs)
        return 1.0 / (avg * n) if avg > 0 else np.ones(np.shape(n))

    def decision_values(self, patterns_per_epoch: Any) -> dict[str, Any]:
        """Values of the decisions' rule variables, to assign before the run.

        Parameters
        ----------
        patterns_per_epoch : int or array_like of int
            For every decision (pattern), the updates its weights receive per epoch
            (the learning patterns of its problem).

        Returns
        -------
        dict
            ``learning`` (1), ``lam0``, ``mu``, ``tau_lr`` and ``beta``
            (:meth:`consolidation_rate`), e.g. ``for k, v in rule.decision_values(P).items():
            setattr(decisions, k, v)``.
        """
        return {
            "learning": 1.0,
            "lam0": float(self.learning_rate),
            "mu": float(self.momentum),
            "tau_lr": self.tau_lr,
            "beta": self.consolidation_rate(patterns_per_epoch),
        }

    # -- Brian2 code ---------------------------------------------------------------------
    @staticmethod
    def weight_model() -> str:
        """Model of the weights' group (one neuron per afferent): ``w``, ``dw``, ``wc``.

        Initialise ``wc`` to the initial ``w``.
        """
        return "w : 1\ndw : 1\nwc : 1\n"

    @staticmethod
    def decision_model() -> str:
        """Model of the decisions' group (one neuron per pattern).

        ``label`` (+1 or -1) is the pattern's; ``fired`` (0 or 1) and ``tmax`` (time of
        the voltage maximum or of the spike, from the pattern's onset) are set by the
        neuron that presented it before the decision spikes; ``learning`` (shared)
        switches learning off at 0. ``err`` is the rule's error.
        """
        return (
            "label : 1 (constant)\n"
            "fired : 1\n"
            "tmax : second\n"
            "learning : 1 (shared)\n"
            "lam0 : 1 (shared, constant)\n"
            "mu : 1 (shared, constant)\n"
            "tau_lr : second (shared, constant)\n"
            "beta : 1 (constant)\n"
            "err = (1 + label) / 2 - fired : 1\n"
        )

    @staticmethod
    def synapse_model() -> str:
        """Model of the update synapses (decision -> weight): the input's spike time ``ts``.

        ``ts`` is measured, as ``tmax``, from the pattern's onset.
        """
        return "ts : second (constant)\n"

    @staticmethod
    def on_pre() -> str:
        """``on_pre`` of the update synapses: the rule, applied when the decision spikes.

        Brian2 warns that the outcome may depend on the order of the synapses: it does
        when two decisions reach one weight in the same time step (the momentum decays
        once per update, in turn). Give every weight at most one decision per step, as
        the tempotron circuit does (one window of a problem ends per step).
        """
        return (
            "dw_post = mu_pre * dw_post + learning_pre * lam0_pre / (1 + t / tau_lr_pre)"
            " * err_pre * int(tmax_pre > ts) * psp_V0"
            " * (exp(-(tmax_pre - ts) / psp_tau) - exp(-(tmax_pre - ts) / psp_tau_s))\n"
            "w_post += learning_pre * dw_post\n"
            "wc_post += learning_pre * beta_pre * (w_post - wc_post)\n"
        )

    @staticmethod
    def consolidated_weight() -> str:
        """The weight once learning stops: ``weights.w = rule.consolidated_weight()``."""
        return "wc"
