r"""e-prop: eligibility propagation in a recurrent network of LIF and ALIF neurons.

e-prop (Bellec et al. 2020) trains a recurrent spiking network online, without
back-propagation through time: every synapse keeps an *eligibility trace* computed from
quantities local to it (a trace of its presynaptic spikes, the pseudo-derivative of its
postsynaptic neuron and, for an adaptive neuron, a slow trace of its threshold's
dependence on the weight), and the weight changes by the trace times a *learning signal*
broadcast to the neuron: the output error sent back through fixed random weights. It is
a three-factor rule (pre, post, a neuromodulator-like broadcast signal).

The network and the rule, in the symbols of the code (one step ``dt``; ``j`` a recurrent
neuron, ``i`` its presynaptic neuron, ``k`` a readout; :mod:`spikingml.analysis.eprop`
computes the same in NumPy)::

    v_j   = alpha v_j + Iin_j + Irec_j - v_th z_j       Iin, Irec: the last step's input
    a_j   = rho a_j + z_j                               (z_j: the last step's spike)
    xbar  = alpha xbar + z_j  (recurrent);  alpha xbar + x_i  (input)
    psi_j = (gamma / v_th) max(0, 1 - |v_j - v_th - beta_j a_j| / v_th)   (0 if refractory)
    spike when v_j > v_th + beta_j a_j and not refractory (n_ref steps after a spike)
    y_k   = kappa y_k + sum_j w_out[k,j] z_j;  pi = softmax(y);  err_k = mask (pi_k - target_k)
    L_j   = sum_k B[j,k] err_k                          learning signal (summed variable)
    el    = psi_j (xbar_i - beta_j ea);  ebar = kappa ebar + el;  g += L_j ebar;
    ea    = rho ea + el;  h += el                       per synapse (eligibility groups)
    gt    = g + c_reg (cnt_j / steps - f_target dt) h   with the rate regulariser,
                                                        at the trial's end only
    g_out[k,j] += err_k zbar_j,  zbar_j = kappa zbar_j + z_j

``alpha = exp(-dt / tau_m)``, ``rho = exp(-dt / tau_a)``, ``kappa = exp(-dt /
tau_out)``, ``cnt_j`` the trial's spike count. At the end of every trial (every
``trial_duration``) the gradients of all copies of the network are summed (``gsum`` =
the sum over copies of ``gt``) and Adam (Kingma & Ba 2015) updates the shared weights
with the batch mean; then every state variable is reset.

Where the variables live
------------------------
Many trials run at once as *copies* of the network in one group (copy ``c`` is neurons
``c n ... c n + n - 1``); the copies share their weights, so a weight lives once:

- *weights* (:meth:`EProp.weight_model`): one neuron per weight (``w``, Adam's ``m``
  and ``s``, the batch gradient ``gsum``); the synapses of every copy read it as a
  linked variable (``w : 1 (linked)``);
- *eligibility* groups (:meth:`EProp.eligibility_model`): one neuron per synapse of
  every copy (``ea``, ``ebar``, ``g``, ``h``, ``gt``), reading ``psi``, ``L``, ``beta`` and
  the rate of their postsynaptic neuron and the trace ``xbar`` of their presynaptic one
  as linked variables; *reduction* synapses sum their ``gt`` into the weights' ``gsum`` (on the
  weights' clock, which ticks once a trial: the sums are needed at trial boundaries
  only);
- the recurrent neurons (:meth:`EProp.neuron_model`), the input traces
  (:meth:`EProp.input_model`) and the readouts (:meth:`EProp.readout_model`: two per
  copy, the softmax of two classes being the logistic function of their difference).

:func:`build_eprop_network` creates all of them. The rule's constants
(:meth:`EProp.shared_values`: the decays, ``v_th``, ``gamma``, the refractory steps,
Adam's constants and step size, the regulariser's strength and target) are shared
variables of the groups that read them (``ep_alpha : 1 (shared, constant)`` in their
models), not constants of the generated code: a compiled ``cpp_standalone`` program
runs with another rule's values as run arguments
(:func:`spikingml.simulation.constant_args`), and with other ``beta`` (a constant of
each neuron, which the eligibility groups read). Within each step the schedule is fixed
by ``when``/``order`` (:data:`SCHEDULE`) so that the Brian2 network computes
exactly what the NumPy reference does (tests/test_plasticity_eprop.py: gradients
within 1e-6 relative). The update of a trial's last step is applied at the first step
of the next, before the sum: every step of the trial counts.

References
----------
Bellec, G., Scherr, F., Subramoney, A., Hajek, E., Salaj, D., Legenstein, R. & Maass, W.
(2020). A solution to the learning dilemma for recurrent networks of spiking neurons.
Nat. Commun. 11, 3625.

Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import numpy as np
from brian2 import (
    NeuronGroup,
    SpikeGeneratorGroup,
    Synapses,
    TimedArray,
    linked_var,
    ms,
    second,
)

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param
from spikingml.simulation import set_constants

__all__ = ["EProp", "EPropNetwork", "SCHEDULE", "build_eprop_network"]

#: ``(when, order)`` of every operation in a step, in the order they run.
SCHEDULE: dict[str, tuple[str, int]] = {
    "learning_signal": ("groups", -41),  # summed L_j = sum_k B err_k (neurons' order -40)
    "eligibility": ("groups", -30),  # traces and g, from the last step's psi, xbar, L, err
    "regulariser": ("groups", -25),  # gt, with the rate regulariser: at trial boundaries only
    "reduction": ("groups", -21),  # gsum = sum over copies (weights' order -20)
    "adam": ("groups", -20),  # at trial boundaries only
    "trial_reset": ("groups", -10),  # at trial boundaries only
    "update": ("groups", 1),  # v, a, traces, psi; readout decay
    "readout_error": ("end", 0),  # pi, err (after the spikes reached the readout)
    "spike_trace": ("end", 0),  # zbar
}


@dataclasses.dataclass(frozen=True)
class EProp(RuleParams):
    """Parameters and Brian2 code of e-prop with LIF and ALIF neurons and Adam.

    Parameters
    ----------
    tau_m, tau_a, tau_out : Quantity (time)
        Membrane, adaptation and readout time constants.
    v_th : float
        Threshold (and reset by subtraction), dimensionless.
    beta : float
        Adaptation strength of the ALIF neurons (LIF: 0).
    gamma : float
        Height of the pseudo-derivative (times ``1 / v_th``).
    t_ref : Quantity (time)
        Refractory period.
    learning_rate, adam_beta1, adam_beta2, adam_eps : float
        Adam's step size and constants.
    f_target : Quantity (frequency)
        Target rate of the rate regulariser.
    c_reg : float
        Strength of the rate regulariser (0: none).

    Examples
    --------
    >>> from brian2 import ms
    >>> rule = EProp(tau_a=1200 * ms)
    >>> round(rule.constants(1 * ms)["ep_rho"], 6)
    0.999167
    """

    tau_m: Any = param(
        20 * ms, "membrane time constant", unit=second, low=0 * ms, low_inclusive=False
    )
    tau_a: Any = param(
        1200 * ms, "adaptation time constant (ALIF)", unit=second, low=0 * ms, low_inclusive=False
    )
    tau_out: Any = param(
        20 * ms, "readout time constant", unit=second, low=0 * ms, low_inclusive=False
    )
    v_th: float = param(0.6, "threshold and reset (dimensionless)", low=0, low_inclusive=False)
    beta: float = param(1.8, "adaptation strength of the ALIF neurons", low=0)
    gamma: float = param(0.3, "height of the pseudo-derivative (times 1 / v_th)", low=0)
    t_ref: Any = param(5 * ms, "refractory period", unit=second, low=0 * ms)
    learning_rate: float = param(0.01, "Adam's step size", low=0)
    adam_beta1: float = param(
        0.9, "Adam's first-moment decay", low=0, high=1, high_inclusive=False
    )
    adam_beta2: float = param(
        0.999, "Adam's second-moment decay", low=0, high=1, high_inclusive=False
    )
    adam_eps: float = param(1e-8, "Adam's epsilon", low=0, low_inclusive=False)
    f_target: Any = param(
        10 / second, "target rate of the rate regulariser", unit=1 / second, low=0 / second
    )
    c_reg: float = param(0.0, "strength of the rate regulariser (0: none)", low=0)

    # -- constants -------------------------------------------------------------------------
    def constants(self, dt: Any) -> dict[str, float]:
        """The decays and constants of the code for the time step ``dt``, prefixed ``ep_``."""
        if not dt > 0 * second:
            raise ValidationError(f"{type(self).__name__}.constants(dt)", "> 0 s", dt)
        step = float(dt)
        n_ref = round(float(self.t_ref) / step)
        if not math.isclose(n_ref * step, float(self.t_ref), rel_tol=1e-9, abs_tol=1e-12):
            raise ValidationError(self.qualname("t_ref"), f"a multiple of dt ({dt})", self.t_ref)
        return {
            "ep_alpha": math.exp(-step / float(self.tau_m)),
            "ep_rho": math.exp(-step / float(self.tau_a)),
            "ep_kappa": math.exp(-step / float(self.tau_out)),
            "ep_v_th": float(self.v_th),
            "ep_gamma": float(self.gamma),
            "ep_n_ref": float(n_ref),
            "ep_b1": float(self.adam_beta1),
            "ep_b2": float(self.adam_beta2),
            "ep_eps": float(self.adam_eps),
            "ep_f0": float(self.f_target) * step,
        }

    def shared_values(self, dt: Any) -> dict[str, float]:
        """Every shared variable of the rule's groups that holds one of its values.

        :meth:`constants` and Adam's step size ``lr`` and the regulariser's ``creg``, by
        their names in the models; :func:`build_eprop_network` gives them these values
        (:func:`spikingml.simulation.set_constants`), and run arguments of a compiled
        program may give them others (:func:`spikingml.simulation.constant_args`).
        """
        return {
            **self.constants(dt),
            "lr": float(self.learning_rate),
            "creg": float(self.c_reg),
        }

    # -- Brian2 code -----------------------------------------------------------------------
    @staticmethod
    def neuron_model() -> str:
        """Model of the recurrent neurons: ``beta`` is 0 for LIF, ``EProp.beta`` for ALIF.

        ``z`` is the spike of the last step (set by the reset, used and cleared by the
        next update); ``r`` counts refractory steps (free when ``r < 0``); ``cnt`` counts
        the trial's spikes; ``L`` is the learning signal (a summed variable's target).
        The constants the neurons' code reads are shared variables (:meth:`shared_values`).
        """
        return (
            "v : 1\na : 1\nz : 1\nr : 1\nIin : 1\nIrec : 1\nxbar : 1\nzbar : 1\n"
            "psi : 1\nL : 1\ncnt : 1\nbeta : 1 (constant)\n"
            + _shared("ep_alpha", "ep_rho", "ep_kappa", "ep_v_th", "ep_gamma", "ep_n_ref")
        )

    @staticmethod
    def neuron_update() -> str:
        """The neurons' step (``run_regularly`` every step, :data:`SCHEDULE` ``update``)."""
        return (
            "v = ep_alpha * v + Iin + Irec - ep_v_th * z\n"
            "a = ep_rho * a + z\n"
            "xbar = ep_alpha * xbar + z\n"
            "Iin = 0\nIrec = 0\nz = 0\n"
            "r = r - 1\n"
            "psi = int(r < 0) * (ep_gamma / ep_v_th)"
            " * clip(1 - abs(v - ep_v_th - beta * a) / ep_v_th, 0, 1)\n"
        )

    @staticmethod
    def threshold() -> str:
        """Spike condition: above the adaptive threshold and not refractory."""
        return "v > ep_v_th + beta * a and r < 0"

    @staticmethod
    def reset() -> str:
        """Reset: remember the spike for the next step, start the refractory period."""
        return "z = 1\nr = ep_n_ref\ncnt += 1\n"

    @staticmethod
    def spike_trace() -> str:
        """``zbar``, the spikes filtered like the readout (:data:`SCHEDULE` ``spike_trace``)."""
        return "zbar = ep_kappa * zbar + z\n"

    @staticmethod
    def input_model() -> str:
        """Model of the input traces (one per input neuron of every copy)."""
        return "x : 1\nxbar : 1\n" + _shared("ep_alpha")

    @staticmethod
    def input_update() -> str:
        """The input traces' step: ``xbar = alpha xbar + x`` (``x``: the spikes that arrived)."""
        return "xbar = ep_alpha * xbar + x\nx = 0\n"

    @staticmethod
    def readout_model() -> str:
        """Model of the readouts (two per copy; ``yo`` is the other readout's ``y``).

        ``target`` (1 for the correct class) and the loss window ``[win_on, win_off)``
        from the trial's start ``t0`` are set at every trial's start; ``vote`` sums
        ``y - yo`` over the window (the copy's answer is the readout with ``vote > 0``).
        """
        return (
            "y : 1\nyo : 1 (linked)\nerr : 1\ntarget : 1\nvote : 1\n"
            "win_on : second\nwin_off : second\nt0 : second\n" + _shared("ep_kappa")
        )

    @staticmethod
    def readout_error() -> str:
        """``err = mask (pi - target)``, ``pi = 1 / (1 + exp(yo - y))`` (softmax of two)."""
        return (
            "mask = int(t - t0 > win_on - 0.5 * dt and t - t0 < win_off - 0.5 * dt)\n"
            "err = mask * (1 / (1 + exp(yo - y)) - target)\n"
            "vote += mask * (y - yo)\n"
        )

    @staticmethod
    def eligibility_model(output: bool = False) -> str:
        """Model of an eligibility group (one neuron per synapse of every copy).

        ``output=True``: the readout weights' (``err`` of the readout, ``zbar`` of the
        neuron); otherwise an input or recurrent weight's (``psi``, ``L``, ``cnt``,
        ``beta`` of the postsynaptic neuron, ``xbar`` of the presynaptic one).
        """
        if output:
            return "err : 1 (linked)\nzbar : 1 (linked)\ng : 1\n"
        return (
            "psi : 1 (linked)\nL : 1 (linked)\nxbar : 1 (linked)\ncnt : 1 (linked)\n"
            "beta : 1 (linked)\nea : 1\nebar : 1\ng : 1\nh : 1\ngt : 1\n"
            "creg : 1 (shared, constant)\ninv_steps : 1 (shared, constant)\n"
            + _shared("ep_rho", "ep_kappa", "ep_f0")
        )

    @staticmethod
    def eligibility_update(output: bool = False) -> str:
        """The eligibility step (:data:`SCHEDULE` ``eligibility``)."""
        if output:
            return "g += err * zbar\n"
        return (
            "el = psi * (xbar - beta * ea)\n"
            "ebar = ep_kappa * ebar + el\n"
            "g += L * ebar\n"
            "ea = ep_rho * ea + el\n"
            "h += el\n"
        )

    @staticmethod
    def regularised_gradient() -> str:
        """``gt``, the gradient with the rate regulariser, at every trial's end
        (:data:`SCHEDULE` ``regulariser``: only the trial's last value is summed)."""
        return "gt = g + creg * (cnt * inv_steps - ep_f0) * h\n"

    @staticmethod
    def weight_model() -> str:
        """Model of a weights' group: ``w``, the batch gradient ``gsum``, Adam's ``m``, ``s``.

        ``lr`` (Adam's step size; 0 freezes the weights), ``inv_batch`` (1 / copies) and
        Adam's constants are variables, so other values need no new compilation.
        """
        return (
            "w : 1\ngsum : 1\nm : 1\ns : 1\n"
            "lr : 1 (shared)\ninv_batch : 1 (shared, constant)\n"
            "trial_duration : second (shared, constant)\n" + _shared("ep_b1", "ep_b2", "ep_eps")
        )

    @staticmethod
    def reduction_model(output: bool = False) -> str:
        """Reduction synapses (eligibility -> weight): the batch sum ``gsum``."""
        return (
            "gsum_post = g_pre : 1 (summed)\n" if output else "gsum_post = gt_pre : 1 (summed)\n"
        )

    @staticmethod
    def adam_update() -> str:
        """Adam on the batch mean, at the start of every trial after the first.

        ``k`` is the number of completed trials; at ``t = 0`` the gradient is 0 and the
        weights do not move. ``ep_learn(t)`` (a TimedArray, one value per trial start) is 1
        where the trial that just ended trains the network and 0 where it only tests it.
        """
        return (
            "k_adam = floor(t / trial_duration + 0.5)\n"
            "gb = gsum * inv_batch\n"
            "m = ep_b1 * m + (1 - ep_b1) * gb\n"
            "s = ep_b2 * s + (1 - ep_b2) * gb**2\n"
            "w = w - int(k_adam > 0.5) * ep_learn(t) * lr"
            " * (m / (1 - ep_b1**clip(k_adam, 1, 1e12)))"
            " / (sqrt(s / (1 - ep_b2**clip(k_adam, 1, 1e12))) + ep_eps)\n"
        )

    @staticmethod
    def trial_reset(kind: str) -> str:
        """The reset at every trial's start of the group ``kind``.

        ``neurons``, ``inputs``, ``readouts`` (its ``target``, ``win_on``, ``win_off`` read
        from the TimedArrays ``ep_target``, ``ep_win_on``, ``ep_win_off``, one row per
        trial) or ``eligibility``.
        """
        codes = {
            "neurons": (
                "v = 0\na = 0\nz = 0\nr = -1\nIrec = 0\nxbar = 0\nzbar = 0\npsi = 0\ncnt = 0\n"
            ),
            "inputs": "xbar = 0\n",
            "readouts": (
                "y = 0\nerr = 0\nvote = 0\nt0 = t\ntarget = ep_target(t, i)\n"
                "win_on = ep_win_on(t, i) * second\nwin_off = ep_win_off(t, i) * second\n"
            ),
            "eligibility": "ea = 0\nebar = 0\ng = 0\nh = 0\n",
        }
        if kind not in codes:
            raise ValidationError("EProp.trial_reset(kind)", f"one of {sorted(codes)}", kind)
        return codes[kind]


def _shared(*names: str) -> str:
    """Model lines declaring ``names`` (constants of :meth:`EProp.constants`) shared
    constants of a group."""
    return "".join(f"{name} : 1 (shared, constant)\n" for name in names)


class EPropNetwork(NamedTuple):
    """The Brian2 objects of :func:`build_eprop_network` (add them all to a Network)."""

    inputs: SpikeGeneratorGroup
    input_traces: NeuronGroup
    neurons: NeuronGroup
    readouts: NeuronGroup
    weights: dict[str, NeuronGroup]
    eligibility: dict[str, NeuronGroup]
    synapses: dict[str, Synapses]

    @property
    def objects(self) -> list[Any]:
        """Every object, for ``Network(*net.objects, ...)``."""
        return [
            self.inputs,
            self.input_traces,
            self.neurons,
            self.readouts,
            *self.weights.values(),
            *self.eligibility.values(),
            *self.synapses.values(),
        ]


def _pairs(n_copies: int, n_post: int, n_pre: int, skip_diagonal: bool = False):
    """Index arrays of every (copy, post, pre) triple, in copy-major, post, pre order."""
    c, j, i = np.meshgrid(np.arange(n_copies), np.arange(n_post), np.arange(n_pre), indexing="ij")
    c, j, i = c.ravel(), j.ravel(), i.ravel()
    if skip_diagonal:
        keep = j != i
        c, j, i = c[keep], j[keep], i[keep]
    return c, j, i


def build_eprop_network(
    rule: EProp,
    *,
    n_copies: int,
    n_lif: int,
    n_alif: int,
    w_in: np.ndarray,
    w_rec: np.ndarray,
    w_out: np.ndarray,
    feedback: np.ndarray,
    input_indices: np.ndarray,
    input_times: Any,
    targets: np.ndarray,
    windows: np.ndarray,
    trial_duration: Any,
    dt: Any,
    n_trials: int,
    prefix: str = "ep",
    learning: np.ndarray | None = None,
    inputs: SpikeGeneratorGroup | None = None,
) -> EPropNetwork:
    """Every Brian2 object of an e-prop network of ``n_copies`` copies (runs nothing).

    Parameters
    ----------
    rule
        The rule's parameters.
    n_copies, n_lif, n_alif
        Copies (trials run at once) and neurons per copy (LIF first, then ALIF).
    w_in, w_rec, w_out
        Initial weights ``(n, n_in)``, ``(n, n)`` (zero diagonal) and ``(2, n)``.
    feedback
        ``B``, ``(n, 2)``: ``w_out.T`` for symmetric e-prop, fixed random otherwise.
    input_indices, input_times
        The input spikes, for ``n_copies * n_in`` input neurons (copy-major). A spike at
        ``t`` is the input of step ``t + dt`` (:mod:`spikingml.analysis.eprop`'s
        ``x[t+1]``): no spike on a trial's last step.
    targets
        ``(n_trials, n_copies)``: the correct class (0 or 1) of every trial.
    windows
        ``(n_trials, n_copies, 2)``: the loss window ``[on, off)`` of every trial, in
        seconds from the trial's start.
    trial_duration, dt, n_trials
        One trial's (batch's) duration, the time step, the number of trials.
    prefix
        Starts the name of every object (two networks in one program need two).
    learning
        ``(n_trials,)``: 1 where the update at the start of trial ``k`` (of trial
        ``k - 1``'s gradients) applies, 0 where trial ``k - 1`` was a test (default: all
        1). Adam's moments follow the test trials' gradients too; only ``w`` stays.
    inputs
        An input group to share (another network's ``inputs``: the same trials without a
        second copy of every spike); ``input_indices`` and ``input_times`` are then
        ignored.
    """
    n = n_lif + n_alif
    n_in = w_in.shape[1]
    if w_rec.shape != (n, n) or w_in.shape[0] != n or w_out.shape != (2, n):
        raise ValidationError(
            "build_eprop_network(w_in, w_rec, w_out)",
            f"shapes (n, n_in), (n, n), (2, n) with n = {n}",
            (w_in.shape, w_rec.shape, w_out.shape),
        )
    if np.any(np.diag(w_rec) != 0):
        raise ValidationError("build_eprop_network(w_rec)", "a zero diagonal", "non-zero")
    # the rule's values are shared variables (set at the end), the tables TimedArrays
    ns: dict[str, Any] = {}
    ns["ep_target"] = TimedArray(
        np.eye(2)[np.asarray(targets, int)].reshape(n_trials, n_copies * 2), dt=trial_duration
    )
    win = np.repeat(np.asarray(windows, float), 2, axis=1)  # (n_trials, 2 * copies, 2)
    ns["ep_win_on"] = TimedArray(win[:, :, 0], dt=trial_duration)
    ns["ep_win_off"] = TimedArray(win[:, :, 1], dt=trial_duration)
    learn = np.ones(n_trials) if learning is None else np.asarray(learning, float)
    if learn.shape != (n_trials,):
        raise ValidationError("build_eprop_network(learning)", f"shape ({n_trials},)", learn.shape)
    ns["ep_learn"] = TimedArray(learn, dt=trial_duration)
    steps = round(float(trial_duration / dt))

    when = dict(SCHEDULE)

    def every_trial(group: NeuronGroup, code: str, stage: str, name: str) -> None:
        """Run ``code`` at every trial's start, at the place of ``stage`` in a step."""
        group.run_regularly(
            code,
            dt=trial_duration,
            when=when[stage][0],
            order=when[stage][1],
            name=f"{prefix}_{name}",
        )

    if inputs is None:
        inputs = SpikeGeneratorGroup(
            n_copies * n_in, input_indices, input_times, dt=dt, name=f"{prefix}_inputs"
        )
    elif len(inputs) != n_copies * n_in:
        raise ValidationError(
            "build_eprop_network(inputs)", f"{n_copies * n_in} input neurons", len(inputs)
        )
    traces = NeuronGroup(
        n_copies * n_in, rule.input_model(), dt=dt, namespace=ns, name=f"{prefix}_input_traces"
    )
    neurons = NeuronGroup(
        n_copies * n,
        rule.neuron_model(),
        threshold=rule.threshold(),
        reset=rule.reset(),
        dt=dt,
        namespace=ns,
        order=when["learning_signal"][1] + 1,
        name=f"{prefix}_neurons",
    )
    beta = np.tile(np.r_[np.zeros(n_lif), np.full(n_alif, rule.beta)], n_copies)
    neurons.beta = beta
    neurons.r = -1
    readouts = NeuronGroup(
        n_copies * 2, rule.readout_model(), dt=dt, namespace=ns, name=f"{prefix}_readouts"
    )
    readouts.yo = linked_var(readouts, "y", index=np.arange(n_copies * 2) ^ 1)

    shapes = {"in": (n, n_in), "rec": (n, n), "out": (2, n)}
    weights = {}
    for key, init in (("in", w_in), ("rec", w_rec), ("out", w_out)):
        grp = NeuronGroup(
            init.size,
            rule.weight_model(),
            # the reductions into gsum run on this clock (Brian2 runs a summed variable
            # on its target's): once a trial, where Adam reads them, not every step
            dt=trial_duration,
            namespace=ns,
            order=when["adam"][1],
            name=f"{prefix}_w_{key}",
        )
        grp.w = np.asarray(init, float).ravel()
        grp.inv_batch = 1.0 / n_copies
        grp.trial_duration = trial_duration
        every_trial(grp, rule.adam_update(), "adam", f"adam_{key}")
        weights[key] = grp

    # one element per synapse of every copy: (copy, post, pre) triples
    triples = {
        "in": _pairs(n_copies, n, n_in),
        "rec": _pairs(n_copies, n, n, skip_diagonal=True),
        "out": _pairs(n_copies, 2, n),
    }
    # Every Synapses object runs on the clock its code runs on (a pathway on its source's,
    # a summed variable on its target's): a clock of its own would run no code, and the
    # standalone device writes such clocks into main.cpp in an order that changes from
    # one build to the next (a new compilation of main.cpp each time)
    synapses = {}
    synapses["input_trace"] = Synapses(
        inputs, traces, on_pre="x_post += 1", clock=inputs.clock, name=f"{prefix}_s_input_trace"
    )
    synapses["input_trace"].connect(j="i")
    pre_groups = {"in": (inputs, n_in), "rec": (neurons, n), "out": (neurons, n)}
    post_groups = {
        "in": (neurons, n, "Iin"),
        "rec": (neurons, n, "Irec"),
        "out": (readouts, 2, "y"),
    }
    eligibility = {}
    for key, (c, j, i) in triples.items():
        pre, n_pre = pre_groups[key]
        post, n_post, var = post_groups[key]
        syn = Synapses(
            pre,
            post,
            "w : 1 (linked)\nwidx : integer (constant)\n",
            on_pre=f"{var}_post += w",
            clock=pre.clock,
            namespace=ns,
            name=f"{prefix}_s_{key}",
        )
        syn.connect(i=c * n_pre + i, j=c * n_post + j)
        # Synapses link through an index variable (their size is dynamic)
        syn.widx = j * shapes[key][1] + i
        syn.w = linked_var(weights[key], "w", index="widx")
        synapses[key] = syn
        output = key == "out"
        elig = NeuronGroup(
            len(c), rule.eligibility_model(output), dt=dt, namespace=ns, name=f"{prefix}_e_{key}"
        )
        if output:
            elig.err = linked_var(readouts, "err", index=c * 2 + j)
            elig.zbar = linked_var(neurons, "zbar", index=c * n + i)
        else:
            elig.psi = linked_var(neurons, "psi", index=c * n + j)
            elig.L = linked_var(neurons, "L", index=c * n + j)
            elig.cnt = linked_var(neurons, "cnt", index=c * n + j)
            src = traces if key == "in" else neurons
            elig.xbar = linked_var(src, "xbar", index=c * n_pre + i)
            elig.beta = linked_var(neurons, "beta", index=c * n + j)
            elig.inv_steps = 1.0 / steps
        elig.run_regularly(
            rule.eligibility_update(output),
            when="groups",
            order=when["eligibility"][1],
            name=f"{prefix}_elig_{key}",
        )
        if not output:
            every_trial(elig, rule.regularised_gradient(), "regulariser", f"gt_{key}")
        reset = rule.trial_reset("eligibility") if not output else "g = 0\n"
        every_trial(elig, reset, "trial_reset", f"reset_e_{key}")
        eligibility[key] = elig
        red = Synapses(
            elig,
            weights[key],
            rule.reduction_model(output),
            # the sum is needed at trial boundaries only (it runs on the weights' clock)
            clock=weights[key].clock,
            namespace=ns,
            name=f"{prefix}_r_{key}",
        )
        red.connect(i=np.arange(len(c)), j=j * shapes[key][1] + i)
        synapses[f"reduce_{key}"] = red
    fb = Synapses(
        readouts,
        neurons,
        "B : 1 (constant)\nL_post = B * err_pre : 1 (summed)",
        clock=neurons.clock,
        namespace=ns,
        name=f"{prefix}_s_feedback",
    )
    c, j, k = _pairs(n_copies, n, 2)
    fb.connect(i=c * 2 + k, j=c * n + j)
    fb.B = np.asarray(feedback, float)[j, k]
    synapses["feedback"] = fb

    rw = when["update"]
    neurons.run_regularly(
        rule.neuron_update(), when=rw[0], order=rw[1], name=f"{prefix}_update_neurons"
    )
    traces.run_regularly(
        rule.input_update(), when=rw[0], order=rw[1], name=f"{prefix}_update_inputs"
    )
    readouts.run_regularly(
        "y = ep_kappa * y\n", when=rw[0], order=rw[1], name=f"{prefix}_update_readouts"
    )
    neurons.run_regularly(
        rule.spike_trace(),
        when=when["spike_trace"][0],
        order=when["spike_trace"][1],
        name=f"{prefix}_zbar",
    )
    readouts.run_regularly(
        rule.readout_error(),
        when=when["readout_error"][0],
        order=when["readout_error"][1],
        name=f"{prefix}_readout_error",
    )
    for grp, kind in ((neurons, "neurons"), (traces, "inputs"), (readouts, "readouts")):
        every_trial(grp, rule.trial_reset(kind), "trial_reset", f"reset_{kind}")
    network = EPropNetwork(inputs, traces, neurons, readouts, weights, eligibility, synapses)
    set_constants(network.objects, rule.shared_values(dt))
    return network
