r"""A liquid state machine beside echo state networks: fading memory in a random column.

The ML idea
-----------
Reservoir computing (Jaeger 2001; Maass, Natschläger & Markram 2002): a fixed, random
recurrent network driven by an input ``u(t)`` holds a fading memory of it in its state
``x(t)``, and only a linear readout of that state is trained (ridge regression). Jaeger's
echo state network (ESN) uses analog units; Maass's liquid state machine (LSM) a column
of spiking neurons with dynamic synapses. How much the state remembers is Jaeger's
*memory capacity* ``MC = sum_k r^2(u(t - k), y_k(t))`` (at most ``N`` for ``N`` units).

The circuit
-----------
A column of ``n_neurons`` LIF neurons on a ``grid_width x grid_width x height`` grid, 80%
excitatory and 20% inhibitory (Dale's law: a neuron's synapses all have its sign).
Neuron ``a`` connects to ``b`` with probability ``C[type] * connectivity_scale *
exp(-(D(a, b) / lam)^2)`` (Maass's lambda; ``C`` = 0.3, 0.2, 0.4, 0.1 for E->E, E->I,
I->E, I->I; ``D`` the grid distance). Per neuron, in mV and with ``R = 1``::

    dv/dt    = (-v + I_e + I_i + I_in + I_bg - a) / tau_m
    dI_e/dt  = -I_e / tau_e        dI_i/dt = -I_i / tau_i
    dI_in/dt = -I_in / tau_in      da/dt   = -a / tau_a
    v > v_threshold:  v = v_reset, a += adaptation_jump (E only); refractory for
    refractory_e (E) or refractory_i (I)

``I_bg`` is drawn per neuron in ``[bg_low, bg_high]`` (below threshold). Every recurrent
synapse is a Tsodyks-Markram dynamic synapse
(:class:`~spikingml.plasticity.short_term.TsodyksMarkram`): a spike releases ``release``
(``u * x``) and adds ``w * release`` to ``I_e`` or subtracts it from ``I_i``; ``U``, ``D``,
``F`` are drawn per synapse around Maass et al.'s means for its type
(:data:`~spikingml.plasticity.short_term.MAASS_2002`, SD 50% of the mean), the weights
likewise around ``w_ee`` ... ``w_ii``. Excitatory neurons adapt (``tau_a`` log-uniform in
``[tau_adapt_min, tau_adapt_max]``), which keeps the column input-driven.

Input: the scalar ``u(t)`` in [0, 1], constant within bins of ``bin_width``, drives
``n_inputs`` input neurons that fire Poisson spikes at ``input_rate * u`` (drawn with
NumPy from the seed; with ``input_code = "regular"`` each fires instead whenever the
integral of its rate, started at a random phase, crosses a whole number: the same rate
without the Poisson noise). Each connects to each column neuron with probability
``input_probability`` through a static synapse (``I_in += w * tau_e / tau_in``: the same
charge whatever ``tau_in``). **The slow mechanism** is in these input currents: each
neuron's ``tau_in`` is drawn log-uniformly in ``[tau_input_min, tau_input_max]`` (5-300
ms: fast AMPA-like to slow NMDA-like), so the column holds the input filtered by a bank
of time constants, which the spikes alone (a plain LIF column forgets within 1-3 bins)
do not.

State and readout: the column's spikes filtered with ``exp(-t / state_tau)``, read at the
end of every bin (:func:`~spikingml.analysis.reservoir.filtered_spike_states`); ridge
readouts with cross-validated penalty, fitted on one half and tested on the other
(memory capacity, NARMA-10), or, for the XOR, fitted on nine tenths of the trials and
tested on the remaining tenth, ten times over, so that every trial is held out once.

Two copies of the column run beside it in the same Brian2 group (the same input
spikes, connectivity, weights and background): ``static``, whose recurrent synapses are
static, each transmitting its Tsodyks-Markram steady-state release for a regular train
at ``static_rate`` (the same mean efficacy, no short-term dynamics):
``mc_static_synapses``; and ``fast``, whose input currents all decay with ``tau_e`` (the
same circuit without the slow mechanism): ``mc_fast_inputs``.

Protocol
--------
``memory``: ``2 n_neurons + 2 n_fit_bins`` bins of i.i.d. ``u`` (the first ``2
n_neurons`` only wash out and give every delay up to ``2 N`` its target): memory
capacity, NARMA-10 (``s = u / 2``) and separation. ``xor``: ``n_xor_trials`` trials of
``xor_trial`` each: a burst (``u = 1``) or silence (``u = 0``) for ``burst_width`` at the
start of the trial and again ``xor_gap`` later; the state read ``xor_delay`` after the
second window's end is classified as the XOR of the two bits.

The run-time fields (``Params.runtime_fields()``: ``tau_m``, ``tau_e``, ``tau_i``,
``v_reset``, the refractory periods, the adaptation jump, ``static_rate`` and the
readout's and twins' fields) reach the network only as values the compiled program takes
as run arguments (shared constants and initial values), so it runs with new values of
them without being compiled again (:func:`simulate_many`); what is drawn from the seed
(wiring, weights, input spikes, backgrounds, the drawn time constants) and every field
it is drawn from are structural.

Twins
-----
The same input sequences drive three echo state networks built with reservoirpy
(:mod:`spikingml.analysis.reservoir`): the *rate twin*, a leaky tanh ESN with the
column's own structure (the same ``N``, signs and connections, weights ``w`` times the
synapse's resting release ``U``, the input weights summed over the input neurons),
spectral radius ``twin_spectral_radius`` and leak ``bin_width / tau_m``, one unit per
neuron and one step per bin (it has the column's wiring, but neither its spikes nor its
slow input currents and adaptation); a standard tanh ESN of ``N`` units
(reservoirpy's random reservoir, ``esn_spectral_radius``); and a linear ESN with a
random orthogonal reservoir, whose memory capacity is close to ``N``: the check of the
estimator. The ESNs' input is ``esn_input_scaling * (2 u - 1)``; every model is read out
as the column is (:func:`analyse`).

References
----------
Jaeger, H. (2001). Short term memory in echo state networks. GMD Report 152.

Maass, W., Natschläger, T. & Markram, H. (2002). Real-time computing without stable
states: a new framework for neural computation based on perturbations. Neural
Computation 14, 2531-2560.

Markram, H., Wang, Y. & Tsodyks, M. (1998). Differential signaling via the same axon of
neocortical pyramidal neurons. PNAS 95, 5323-5328.

Schrauwen, B., Büsing, L. & Legenstein, R. (2008). On computational power and the
order-chaos phase transition in reservoir computing. NIPS 21, 1425-1432.

Atiya, A. F. & Parlos, A. G. (2000). New results on recurrent network training. IEEE
Transactions on Neural Networks 11, 697-709.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, mV, second, volt

from spikingml.analysis import reservoir as rc
from spikingml.circuits._reservoir_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.short_term import MAASS_2002, TsodyksMarkram, steady_state
from spikingml.result import Phase, Result, Signal, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    constant_args,
    progress_reporter,
    set_constants,
    versions,
)

__all__ = [
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "CURVE_DELAYS",
    "Inputs",
    "Network",
    "Params",
    "Twin",
    "build_network",
    "analyse",
    "compare",
    "figures",
    "prepare_inputs",
    "raster_options",
    "simulate",
    "simulate_many",
    "states",
    "twin",
]

NAME = "reservoir"
DESCRIPTION = (
    "a liquid state machine (LIF column, dynamic synapses) beside echo state networks: "
    "memory capacity, NARMA-10, delayed XOR, separation (Maass 2002; Jaeger 2001)"
)
DEFAULT_DEVICE = "cpp_standalone"

#: Delays whose r^2 is reported one by one (``r2_<model>_delay_<k>``).
CURVE_DELAYS = 8

#: Folds of the XOR readout's cross-validation (every trial held out once).
XOR_FOLDS = 10

#: The models compared, by the suffix of their metrics.
MODELS = ("lsm", "static", "fast", "rate_twin", "esn")

METRICS: dict[str, str] = {
    "mc_total_lsm": "memory capacity of the column (sum over delays 1..2N of the held-out "
    "r^2 above chance; higher is better; target >= 1.5)",
    "mc_static_synapses": "the same for the copy with static recurrent synapses (reference: "
    "what the short-term plasticity adds)",
    "mc_fast_inputs": "the same for the copy without the slow input currents (reference: "
    "the column without its slow mechanism)",
    "mc_total_rate_twin": "memory capacity of the rate twin (leaky tanh ESN with the "
    "column's structure; reference)",
    "mc_total_esn": "memory capacity of a standard tanh ESN of N units (reference)",
    "mc_ratio": "mc_total_lsm / mc_total_rate_twin (higher is better; stretch >= 0.3)",
    "linear_esn_mc_over_n": "memory capacity / N of a linear ESN with an orthogonal "
    "reservoir: the estimator's check (target >= 0.9)",
    "r2_lsm_delay_<k>": "held-out r^2 of u(t - k) from the column's state, delay k bins "
    "(the per-delay curve; higher is better)",
    "r2_static_delay_<k>": "the same for the copy with static synapses",
    "r2_fast_delay_<k>": "the same for the copy without the slow input currents",
    "r2_rate_twin_delay_<k>": "the same for the rate twin",
    "r2_esn_delay_<k>": "the same for the tanh ESN",
    "narma10_nrmse_lsm": "held-out NRMSE of the one-step NARMA-10 prediction from the "
    "column (lower is better; 1 = the mean)",
    "narma10_nrmse_rate_twin": "the same for the rate twin (lower is better)",
    "narma10_nrmse_esn": "the same for the tanh ESN (lower is better)",
    "xor_accuracy_lsm": "held-out accuracy of the delayed temporal XOR from the column "
    "(10-fold cross-validated: every trial held out once; higher is better; target >= 0.9)",
    "xor_accuracy_se_lsm": "binomial standard error of xor_accuracy_lsm, sqrt(p (1 - p) / "
    "trials) (lower is better)",
    "xor_accuracy_rate_twin": "the same for the rate twin (higher is better)",
    "xor_accuracy_esn": "the same for the tanh ESN (higher is better)",
    "separation_monotonic_lsm": "1 if the column's mean state distance rises with the "
    "input distance from every quantile bin to the next, else 0 (target 1)",
    "separation_gain_lsm": "state distance of the most over the least distant inputs' "
    "bin (higher is better; > 1 separates)",
    "rate_exc_hz": "mean firing rate of the column's excitatory neurons (memory phase)",
    "rate_inh_hz": "mean firing rate of the column's inhibitory neurons (memory phase)",
    "rate_static_hz": "mean firing rate of the static copy (memory phase)",
    "rate_fast_hz": "mean firing rate of the copy without slow input currents (memory phase)",
    "bin_width_ms": "bin of the input and of the state readout (ms)",
    "state_tau_ms": "time constant of the filter of the spikes into the state (ms)",
}


# --------------------------------------------------------------------------- parameters
def _time(default: Any, doc: str, **options: Any) -> Any:
    return param(default, doc, unit=second, low=0 * ms, low_inclusive=False, **options)


def _volt(default: Any, doc: str, **options: Any) -> Any:
    return param(default, doc, unit=mV, low=0 * mV, **options)


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the reservoir circuit (default preset: 200 neurons, 3400 + 7200 bins)."""

    circuit_name = "Reservoir"

    n_neurons: int = param(200, "neurons of the column (all read out)", integer=True, low=4)
    grid_width: int = param(5, "the column's grid is width x width x height", integer=True, low=1)
    lam: float = param(
        2.0, "Maass's lambda: length of the connection probability", low=0, low_inclusive=False
    )
    connectivity_scale: float = param(1.0, "factor on every connection probability C", low=0)
    tau_m: Any = _time(30 * ms, "membrane time constant", runtime=True)
    v_threshold: Any = _volt(15 * mV, "firing threshold (rest at 0 mV)")
    v_reset: Any = _volt(13.5 * mV, "reset potential", runtime=True)
    bg_low: Any = _volt(13.5 * mV, "lowest background input I_bg (drawn per neuron)")
    bg_high: Any = _volt(14.5 * mV, "highest background input I_bg")
    refractory_e: Any = _time(3 * ms, "refractory period of excitatory neurons", runtime=True)
    refractory_i: Any = _time(2 * ms, "refractory period of inhibitory neurons", runtime=True)
    tau_e: Any = _time(3 * ms, "time constant of the fast excitatory current", runtime=True)
    tau_i: Any = _time(6 * ms, "time constant of the inhibitory current", runtime=True)
    tau_input_min: Any = _time(5 * ms, "shortest input current time constant tau_in")
    tau_input_max: Any = _time(300 * ms, "longest tau_in (log-uniform per neuron): the memory")
    adaptation_jump: Any = _volt(
        1 * mV, "adaptation a += jump at an excitatory spike", runtime=True
    )
    tau_adapt_min: Any = _time(100 * ms, "shortest adaptation time constant tau_a")
    tau_adapt_max: Any = _time(1000 * ms, "longest tau_a (log-uniform per neuron)")
    static_rate: Any = param(
        20 * Hz,
        "the static copy's synapses transmit their steady-state release at this rate",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    w_ee: Any = _volt(30 * mV, "mean E -> E weight (current jump at release 1)")
    w_ei: Any = _volt(60 * mV, "mean E -> I weight")
    w_ie: Any = _volt(19 * mV, "mean I -> E weight (inhibitory: subtracted)")
    w_ii: Any = _volt(19 * mV, "mean I -> I weight (inhibitory: subtracted)")
    n_inputs: int = param(40, "input neurons coding u", integer=True, low=1)
    input_probability: float = param(
        0.3, "input -> column connection probability", low=0, high=1, low_inclusive=False
    )
    w_input: Any = _volt(3 * mV, "mean input weight onto E (half onto I)")
    input_code: str = param(
        "poisson",
        "input spike trains: Poisson, or regular (integrate-and-fire, random phase)",
        choices=("poisson", "regular"),
    )
    input_rate: Any = param(
        100 * Hz, "rate of an input neuron at u = 1", unit=Hz, low=0 * Hz, low_inclusive=False
    )
    bin_width: Any = _time(20 * ms, "bin of the input and of the state readout")
    state_tau: Any = _time(
        30 * ms, "time constant of the filtered spikes (the state)", runtime=True
    )
    n_fit_bins: int = param(
        1500, "bins of each half (fit, test) of the memory phase", integer=True, low=20
    )
    n_xor_trials: int = param(
        600, "trials of the delayed XOR (10-fold cross-validated)", integer=True, low=8
    )
    xor_trial: Any = _time(240 * ms, "duration of an XOR trial")
    burst_width: Any = _time(40 * ms, "duration of a burst window")
    xor_gap: Any = _time(60 * ms, "onset of the second window after the first")
    xor_delay: Any = _time(20 * ms, "readout after the end of the second window")
    twin_spectral_radius: float = param(
        0.9,
        "spectral radius of the rate twin",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    esn_spectral_radius: float = param(
        0.9,
        "spectral radius of the tanh ESN",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    esn_input_scaling: float = param(
        0.5,
        "input scaling of the ESNs (input 2u - 1)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    dt: Any = _time(0.25 * ms, "simulation time step", high=1 * ms)

    def check(self) -> None:
        """Cross-field checks: grid, bins a whole number of steps, XOR windows in a trial."""
        if self.n_neurons % self.grid_width**2:
            raise ValidationError(
                self.qualname("n_neurons"),
                f"a multiple of grid_width^2 ({self.grid_width**2})",
                self.n_neurons,
            )
        if self.bg_high < self.bg_low:
            raise ValidationError(
                self.qualname("bg_high"), f">= bg_low ({self.bg_low})", self.bg_high
            )
        for low, high in (("tau_input_min", "tau_input_max"), ("tau_adapt_min", "tau_adapt_max")):
            if getattr(self, high) < getattr(self, low):
                raise ValidationError(
                    self.qualname(high), f">= {low} ({getattr(self, low)})", getattr(self, high)
                )
        if not self.v_reset < self.v_threshold:
            raise ValidationError(
                self.qualname("v_reset"), f"< v_threshold ({self.v_threshold})", self.v_reset
            )
        for name in ("bin_width", "xor_trial", "burst_width", "xor_gap", "xor_delay"):
            steps = float(getattr(self, name) / self.bin_width)
            if not is_whole(steps):
                raise ValidationError(
                    self.qualname(name),
                    f"a whole number of bins ({self.bin_width})",
                    getattr(self, name),
                )
        if not is_whole(float(self.bin_width / self.dt)):
            raise ValidationError(
                self.qualname("bin_width"),
                f"a whole number of steps dt ({self.dt})",
                self.bin_width,
            )
        if not self.xor_gap >= self.burst_width:
            raise ValidationError(
                self.qualname("xor_gap"), f">= burst_width ({self.burst_width})", self.xor_gap
            )
        if not self.xor_gap + self.burst_width + self.xor_delay < self.xor_trial:
            raise ValidationError(
                self.qualname("xor_trial"),
                "longer than xor_gap + burst_width + xor_delay",
                self.xor_trial,
            )
        if not float(self.input_rate * self.dt) < 1:
            raise ValidationError(
                self.qualname("input_rate"), f"< 1/dt ({1 / self.dt})", self.input_rate
            )

    @classmethod
    def quick(cls) -> Params:
        """100 neurons, 2 x 600 bins, 200 XOR trials (seconds once compiled)."""
        return cls(n_neurons=100, n_fit_bins=600, n_xor_trials=200)

    @classmethod
    def tiny(cls) -> Params:
        """25 neurons, 2 x 40 bins, 8 XOR trials, dt 0.5 ms: the conformance test's run."""
        return cls(n_neurons=25, n_fit_bins=40, n_xor_trials=8, n_inputs=10, dt=0.5 * ms)

    # -- derived --------------------------------------------------------------------------
    def _bins(self, name: str) -> int:
        return round(float(getattr(self, name) / self.bin_width))

    @property
    def max_delay(self) -> int:
        """Largest delay of the memory capacity: ``2 N`` (Jaeger 2001)."""
        return 2 * self.n_neurons

    @property
    def n_memory_bins(self) -> int:
        """Bins of the memory phase: the washout ``2 N`` and the two halves."""
        return self.max_delay + 2 * self.n_fit_bins

    @property
    def trial_bins(self) -> int:
        """Bins of one XOR trial."""
        return self._bins("xor_trial")

    @property
    def n_bins(self) -> int:
        """Bins of the whole run."""
        return self.n_memory_bins + self.n_xor_trials * self.trial_bins

    @property
    def steps_per_bin(self) -> int:
        """Simulation steps per bin."""
        return round(float(self.bin_width / self.dt))

    @property
    def n_exc(self) -> int:
        """Excitatory neurons (80%)."""
        return round(0.8 * self.n_neurons)

    @property
    def xor_readout_bin(self) -> int:
        """Bin of a trial whose end is the XOR readout."""
        return self._bins("xor_gap") + self._bins("burst_width") + self._bins("xor_delay") - 1


# ----------------------------------------------------------------------------- stimulus
_TYPE_C = {"EE": 0.3, "EI": 0.2, "IE": 0.4, "II": 0.1}


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Everything drawn from the seed: the input, its spikes and the column's wiring.

    Synapse arrays hold one entry per synapse: ``rec`` (the column's) presynaptic and
    postsynaptic index, signed weight (mV at release 1) and the Tsodyks-Markram ``U``,
    ``D``, ``F`` (s); ``inp`` (input -> column) indices and weight (mV).
    """

    u: np.ndarray  # (n_bins,) in [0, 1]: memory phase, then XOR trials
    xor_bits: np.ndarray  # (n_xor_trials, 2)
    input_indices: np.ndarray
    input_steps: np.ndarray
    excitatory: np.ndarray  # (N,) bool
    positions: np.ndarray  # (N, 3)
    background: np.ndarray  # (N,) mV
    v0: np.ndarray  # (N,) mV
    tau_in: np.ndarray  # (N,) s: the slow input currents
    tau_a: np.ndarray  # (N,) s: adaptation
    rec: dict[str, np.ndarray]
    inp: dict[str, np.ndarray]


def _draw_positive(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    """Gaussian, SD 50% of the mean; values <= 0 redrawn uniformly in (0, 2 mean)."""
    values = rng.normal(mean, 0.5 * mean, n)
    bad = values <= 0
    values[bad] = rng.uniform(0, 2 * mean, int(bad.sum()))
    return values


def _synapse_draws(rng, kinds: np.ndarray, weights: dict[str, float]) -> dict[str, np.ndarray]:
    out = {k: np.zeros(len(kinds)) for k in ("w", "U", "D", "F")}
    for kind in sorted(set(kinds.tolist())):
        sel = kinds == kind
        n = int(sel.sum())
        U, D, F = MAASS_2002[kind]
        out["w"][sel] = _draw_positive(rng, weights[kind], n) * (1 if kind[0] == "E" else -1)
        out["U"][sel] = np.minimum(_draw_positive(rng, U, n), 1.0)
        out["D"][sel] = _draw_positive(rng, D, n)
        out["F"][sel] = _draw_positive(rng, F, n)
    return out


def _poisson_spikes(
    params: Params, u: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson spikes at ``input_rate * u``, at most one per neuron and step (in chunks of
    bins: one uniform number per neuron and step); (indices, steps)."""
    indices, steps = [], []
    spb, chunk = params.steps_per_bin, 200
    for start in range(0, len(u), chunk):
        p_step = np.repeat(u[start : start + chunk] * float(params.input_rate * params.dt), spb)
        i, k = np.nonzero(rng.random((params.n_inputs, len(p_step))) < p_step)
        indices.append(i)
        steps.append(k + start * spb)
    return np.concatenate(indices), np.concatenate(steps)


def _regular_spikes(
    params: Params, u: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Regular spikes at ``input_rate * u``: each input neuron integrates its rate and
    fires whenever the integral, started at a random phase in [0, 1), crosses a whole
    number (an integrate-and-fire rate code without noise); (indices, steps)."""
    phase = rng.uniform(0, 1, params.n_inputs)
    count = np.cumsum(np.repeat(u * float(params.input_rate * params.dt), params.steps_per_bin))
    indices, steps = [], []
    for i, start in enumerate(phase):
        fired = np.nonzero(np.diff(np.floor(count + start), prepend=0.0) > 0)[0]
        indices.append(np.full(len(fired), i))
        steps.append(fired)
    return np.concatenate(indices), np.concatenate(steps)


def prepare_inputs(params: Params, seed: int) -> Inputs:
    """The input sequence, input spikes and the column's wiring of ``seed``.

    The circuit (:func:`simulate`) and the twins (:func:`twin`) call this with the same
    seed and get the same input and the same structure.
    """
    rng = np.random.default_rng([check_seed(seed), 0x15A])
    n, w = params.n_neurons, params.grid_width
    positions = np.array(np.unravel_index(np.arange(n), (w, w, n // w**2))).T.astype(float)
    excitatory = np.zeros(n, bool)
    excitatory[rng.permutation(n)[: params.n_exc]] = True
    # recurrent connections: C[type] * scale * exp(-(D / lam)^2), no autapses
    letter = np.where(excitatory, "E", "I")
    kinds = np.char.add(letter[:, None], letter[None, :])
    dist2 = np.sum((positions[:, None] - positions[None, :]) ** 2, axis=-1)
    c = np.vectorize(_TYPE_C.get)(kinds) * params.connectivity_scale
    p = np.clip(c * np.exp(-dist2 / params.lam**2), 0, 1)
    np.fill_diagonal(p, 0)
    pre, post = np.nonzero(rng.random((n, n)) < p)
    weights = {
        "EE": float(params.w_ee / mV),
        "EI": float(params.w_ei / mV),
        "IE": float(params.w_ie / mV),
        "II": float(params.w_ii / mV),
    }
    rec = {"pre": pre, "post": post, **_synapse_draws(rng, kinds[pre, post], weights)}
    # inputs -> column: static synapses, half as strong onto inhibitory neurons
    ipre, ipost = np.nonzero(rng.random((params.n_inputs, n)) < params.input_probability)
    w_in = _draw_positive(rng, float(params.w_input / mV), len(ipre))
    inp = {"pre": ipre, "post": ipost, "w": np.where(excitatory[ipost], w_in, w_in / 2)}
    background = rng.uniform(float(params.bg_low / mV), float(params.bg_high / mV), n)
    v0 = rng.uniform(0, float(params.v_threshold / mV), n)

    def log_uniform(low: Any, high: Any) -> np.ndarray:
        return np.exp(rng.uniform(np.log(float(low)), np.log(float(high)), n))

    tau_in = log_uniform(params.tau_input_min, params.tau_input_max)
    tau_a = log_uniform(params.tau_adapt_min, params.tau_adapt_max)
    # the input: i.i.d. bins, then the XOR trials
    u_memory = rng.uniform(0, 1, params.n_memory_bins)
    bits = rng.integers(0, 2, (params.n_xor_trials, 2))
    trial = np.zeros((params.n_xor_trials, params.trial_bins))
    burst, gap = params._bins("burst_width"), params._bins("xor_gap")
    trial[:, :burst] = bits[:, :1]
    trial[:, gap : gap + burst] = bits[:, 1:]
    u = np.concatenate([u_memory, trial.ravel()])
    if params.input_code == "regular":
        input_indices, input_steps = _regular_spikes(params, u, rng)
    else:
        input_indices, input_steps = _poisson_spikes(params, u, rng)
    order = np.argsort(input_steps, kind="stable")
    return Inputs(
        u=u,
        xor_bits=bits,
        input_indices=input_indices[order],
        input_steps=input_steps[order],
        excitatory=excitatory,
        positions=positions,
        background=background,
        v0=v0,
        tau_in=tau_in,
        tau_a=tau_a,
        rec=rec,
        inp=inp,
    )


# ------------------------------------------------------------------------------ network
_NEURON = """
dv/dt = (-v + I_e + I_i + I_in + I_bg - a) / tau_m : volt (unless refractory)
dI_e/dt = -I_e / tau_e : volt
dI_i/dt = -I_i / tau_i : volt
dI_in/dt = -I_in / tau_in : volt
da/dt = -a / tau_a : volt
tau_in : second (constant)
tau_a : second (constant)
jump : volt (constant)
I_bg : volt (constant)
refractory_period : second (constant)
tau_m : second (shared, constant)
tau_e : second (shared, constant)
tau_i : second (shared, constant)
v_reset : volt (shared, constant)
"""

#: Transmission of the recurrent synapses (``release`` from the rule; Dale's law).
_TRANSMIT = {"exc": "I_e_post += w * release", "inh": "I_i_post -= w * release"}

#: The copies of the column in the one Brian2 group, in order (``Result.populations``).
COPIES = ("column", "static", "fast")


class Network(NamedTuple):
    """The Brian2 objects of a run (:func:`build_network`)."""

    net: b2.Network
    inputs: b2.SpikeGeneratorGroup
    column: b2.NeuronGroup  # the copies of COPIES, N neurons each, one after the other
    synapses: tuple[b2.Synapses, ...]  # exc, inh (dynamic), input (static)
    input_spikes: b2.SpikeMonitor
    column_spikes: b2.SpikeMonitor


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields that are shared constants of the column, by their names in the
    equations: values the compiled program reads when it runs rather than constants of
    its code (:func:`spikingml.simulation.constant_args`)."""
    return {name: getattr(params, name) for name in ("tau_m", "tau_e", "tau_i", "v_reset")}


def _neuron_values(params: Params, inputs: Inputs) -> dict[str, Any]:
    """Per-neuron constants of the column (every copy) that depend on run-time fields.

    The refractory periods and adaptation jumps by type, and the input currents' time
    constants (``tau_e`` in the copy without the slow mechanism). Initial values, so the
    compiled program takes new ones as run arguments.
    """
    n, exc = params.n_neurons, inputs.excitatory
    refractory = np.where(exc, float(params.refractory_e), float(params.refractory_i))
    fast = np.full(n, float(params.tau_e))  # the copy without the slow input currents
    return {
        "refractory_period": np.tile(refractory, len(COPIES)) * second,
        "jump": np.tile(np.where(exc, float(params.adaptation_jump), 0.0), len(COPIES)) * volt,
        "tau_in": np.concatenate([inputs.tau_in, inputs.tau_in, fast]) * second,
    }


def _recurrent(inputs: Inputs) -> dict[str, dict[str, np.ndarray]]:
    """The column's synapses by the sign of their presynaptic neuron (``exc``, ``inh``)."""
    sign = inputs.excitatory[inputs.rec["pre"]]
    return {
        kind: {k: v[sign == excitatory] for k, v in inputs.rec.items()}
        for kind, excitatory in (("exc", True), ("inh", False))
    }


def _recurrent_values(params: Params, syn: dict[str, np.ndarray]) -> dict[str, Any]:
    """Rule values of every copy: dynamic; static (steady-state release); dynamic.

    Initial values; only the static copy's ``U`` depends on a run-time field
    (``static_rate``).
    """
    tiny = np.full(len(syn["U"]), 1e-6)  # static: instant recovery, no facilitation
    u_star, x_star = steady_state(syn["U"], syn["D"], syn["F"], 1 / float(params.static_rate))
    steady = np.asarray(u_star) * np.asarray(x_star)
    return {
        "w": np.tile(np.abs(syn["w"]), 3) * mV,
        "U": np.concatenate([syn["U"], steady, syn["U"]]),
        "tau_d": np.concatenate([syn["D"], tiny, syn["D"]]) * second,
        "tau_f": np.concatenate([syn["F"], tiny, syn["F"]]) * second,
    }


def _run_time_values(network: Network, params: Params, inputs: Inputs) -> dict[Any, Any]:
    """``{variable: value}`` of everything in ``network`` that run-time fields set: the
    column's shared constants (:func:`_constants`) and per-neuron constants
    (:func:`_neuron_values`), and the static copy's release ``U`` of every synapse.

    The ``run_args`` of the compiled program (:func:`simulate_many`).
    """
    values = constant_args(network.net, _constants(params))
    for name, value in _neuron_values(params, inputs).items():
        values[getattr(network.column, name)] = value
    recurrent = network.synapses[:2]  # exc, inh (the input synapses are static)
    for syn, by_kind in zip(recurrent, _recurrent(inputs).values(), strict=True):
        values[syn.U] = _recurrent_values(params, by_kind)["U"]
    return values


def build_network(params: Params, inputs: Inputs) -> Network:
    """Create the input neurons, the three copies of the column, synapses and monitors."""
    n, copies, rule = params.n_neurons, len(COPIES), TsodyksMarkram()
    b2.defaultclock.dt = params.dt
    source = b2.SpikeGeneratorGroup(
        params.n_inputs, inputs.input_indices, inputs.input_steps * params.dt, name="inputs"
    )
    column = b2.NeuronGroup(
        copies * n,
        _NEURON,
        threshold="v > v_threshold",
        reset="v = v_reset\na += jump",
        refractory="refractory_period",
        method="exponential_euler",
        namespace={"v_threshold": params.v_threshold},
        name="column",
    )
    column.v = np.tile(inputs.v0, copies) * mV
    column.I_bg = np.tile(inputs.background, copies) * mV
    column.tau_a = np.tile(inputs.tau_a, copies) * second
    for name, value in _neuron_values(params, inputs).items():  # refractory, jump, tau_in
        setattr(column, name, value)
    synapses = []
    for kind, syn in _recurrent(inputs).items():
        offsets = np.repeat(np.arange(copies) * n, len(syn["pre"]))
        s = b2.Synapses(
            column,
            column,
            rule.synapse_model() + "w : volt (constant)",
            on_pre=rule.on_pre(_TRANSMIT[kind]),
            name=f"{kind}_synapses",
        )
        s.connect(
            i=np.tile(syn["pre"], copies) + offsets, j=np.tile(syn["post"], copies) + offsets
        )
        for key, value in {**rule.initial_values(), **_recurrent_values(params, syn)}.items():
            setattr(s, key, value)
        synapses.append(s)
    feed = b2.Synapses(
        source,
        column,
        "w : volt (constant)",
        on_pre="I_in_post += w * tau_e_post / tau_in_post",
        name="input_synapses",
    )
    offsets = np.repeat(np.arange(copies) * n, len(inputs.inp["pre"]))
    feed.connect(
        i=np.tile(inputs.inp["pre"], copies), j=np.tile(inputs.inp["post"], copies) + offsets
    )
    feed.w = np.tile(inputs.inp["w"], copies) * mV
    synapses.append(feed)
    input_spikes = b2.SpikeMonitor(source, name="input_spikes")
    column_spikes = b2.SpikeMonitor(column, name="column_spikes")
    net = b2.Network(source, column, *synapses, input_spikes, column_spikes)
    set_constants(net, _constants(params))  # the run-time fields' values
    return Network(net, source, column, tuple(synapses), input_spikes, column_spikes)


def simulate(
    params: Params | None = None, seed: int = 0, device: str = "runtime", progress: bool = True
) -> Result:
    """Run the three copies of the column on the input of ``seed``.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (input, input spikes, wiring).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone``
        program reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``inputs``, ``column`` (the circuit), ``static`` (static recurrent
        synapses) and ``fast`` (no slow input currents); signals ``u`` (the input, per
        bin); events ``xor_readout`` (the readout time of every XOR trial); phases
        ``memory`` and ``xor``; weights: the wiring (``rec_*``, ``in_*``), ``excitatory``,
        ``tau_in`` and ``xor_bits``.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and the run-time fields are its run arguments
    (:func:`simulate_many`): a run that changes only those (``tau_m``, ``tau_e``,
    ``adaptation_jump``, ...) compiles nothing. The seed is not a run argument (it draws
    the wiring and the input spikes).

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
    inputs = prepare_inputs(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, inputs)
        counter = SynapticEventCounter(network.net)
        _run_protocol(network, params, progress_reporter(progress, NAME))
        return _read(network, counter, params, inputs, seed, device, t_wall)


def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a reservoir.Params", type(params).__name__)
    return params


def _run_protocol(network: Network, params: Params, report: Any = None) -> None:
    """Run the whole input (under ``cpp_standalone`` with ``build_on_run=False``: only
    record the run; the caller builds the program and runs it)."""
    duration = params.n_bins * params.bin_width
    network.net.run(duration, report=report, report_period=10 * second)


def _read(
    network: Network,
    counter: SynapticEventCounter,
    params: Params,
    inputs: Inputs,
    seed: int,
    device: str,
    t_wall: float,
) -> Result:
    """Read a finished run into a :class:`Result` (wall time from ``t_wall``)."""
    spikes = (
        np.asarray(network.input_spikes.i[:]),
        np.asarray(network.input_spikes.t[:] / second),
        np.asarray(network.column_spikes.i[:]),
        np.asarray(network.column_spikes.t[:] / second),
    )
    events = counter.total()
    return _collect(params, inputs, seed, device, spikes, events, time.perf_counter() - t_wall)


def _collect(
    params: Params,
    inputs: Inputs,
    seed: int,
    device: str,
    spikes: tuple[np.ndarray, ...],
    events: int,
    wall: float,
) -> Result:
    """The run's Result: the column's spikes split into its copies."""
    in_i, in_t, col_i, col_t = spikes
    n = params.n_neurons
    copy = col_i // n
    bw = float(params.bin_width)
    memory_end = params.n_memory_bins * bw
    duration = params.n_bins * bw
    readout = params.n_memory_bins + np.arange(params.n_xor_trials) * params.trial_bins
    readout_times = (readout + params.xor_readout_bin + 1) * bw
    weights = {f"rec_{k}": v for k, v in inputs.rec.items()}
    weights.update({f"in_{k}": v for k, v in inputs.inp.items()})
    weights.update(
        {
            "excitatory": inputs.excitatory.astype(float),
            "tau_in": inputs.tau_in,
            "xor_bits": inputs.xor_bits,
        }
    )
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations={
            "inputs": SpikeData(in_i, in_t, params.n_inputs),
            **{
                name: SpikeData(col_i[copy == k] - k * n, col_t[copy == k], n)
                for k, name in enumerate(COPIES)
            },
        },
        signals={"u": Signal(inputs.u, dt=bw, unit="1", population="input")},
        events={"xor_readout": readout_times},
        phases=[Phase("memory", 0.0, memory_end), Phase("xor", memory_end, duration)],
        weights=weights,
        simulated_seconds=duration,
        wall_seconds=wall,
        synaptic_events=events,
        versions=versions(),
    )


def states(result: Result, population: str = "column") -> np.ndarray:
    """The state of a population at the end of every bin (filtered spikes), (n_bins, N)."""
    params = Params.from_dict(result.params)
    spikes = result.populations[population]
    return rc.filtered_spike_states(
        spikes.indices,
        spikes.times,
        spikes.size,
        0.0,
        float(params.bin_width),
        params.n_bins,
        float(params.state_tau),
    )


# --------------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The echo state networks' states on the run's input (one row per bin)."""

    u: np.ndarray
    xor_bits: np.ndarray
    rate_twin: np.ndarray
    esn: np.ndarray
    linear_esn_mc: rc.MemoryCapacity


def rate_twin_structure(params: Params, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """``W`` (post x pre: weight times resting release ``U``) and the summed input weights."""
    n = params.n_neurons
    W = np.zeros((n, n))
    np.add.at(W, (inputs.rec["post"], inputs.rec["pre"]), inputs.rec["w"] * inputs.rec["U"])
    w_in = np.zeros(n)
    np.add.at(w_in, inputs.inp["post"], inputs.inp["w"])
    return W, w_in / max(np.max(np.abs(w_in)), 1e-12)


def _one_blas_thread() -> Any:
    """A context in which NumPy's BLAS runs one thread (threadpoolctl, with scikit-learn).

    The twins' and readouts' matrices are small (at most a few thousand by 2N): more
    threads only contend. Measured on 2 shared cores at load 5: the default preset's
    analysis took 2 s with one thread, 7-10 s with two; the twins 1 s against 4 s.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """The rate twin, the tanh ESN and the linear ESN on the input of ``seed``."""
    with _one_blas_thread():
        return _twin(Params() if params is None else params, seed)


def _twin(params: Params, seed: int) -> Twin:
    inputs = prepare_inputs(params, seed)
    drive = params.esn_input_scaling * (2 * inputs.u - 1)
    W, w_in = rate_twin_structure(params, inputs)
    leak = min(1.0, float(params.bin_width / params.tau_m))
    rate = rc.leaky_esn_states(drive, W, w_in, leak, params.twin_spectral_radius)
    esn = rc.tanh_esn_states(
        drive, params.n_neurons, spectral_radius=params.esn_spectral_radius, seed=seed
    )
    u_mem = inputs.u[: params.n_memory_bins]
    linear = rc.linear_esn_states(u_mem - 0.5, params.n_neurons, seed=seed)
    linear_mc = rc.memory_capacity(linear, u_mem, params.max_delay)
    return Twin(inputs.u, inputs.xor_bits, rate, esn, linear_mc)


# ------------------------------------------------------------------------------ compare
def _scores(params: Params, x: np.ndarray, u: np.ndarray, bits: np.ndarray) -> dict[str, Any]:
    """Memory capacity, NARMA-10 and XOR of one model's states (rows: bins)."""
    m = params.n_memory_bins
    mc = rc.memory_capacity(x[:m], u[:m], params.max_delay)
    y = rc.narma10(u[:m] / 2)
    nrmse = rc.narma_nrmse(x[:m], y, washout=params.max_delay)
    rows = m + np.arange(params.n_xor_trials) * params.trial_bins + params.xor_readout_bin
    xor = rc.xor_accuracy(x[rows], bits[:, 0] ^ bits[:, 1], folds=XOR_FOLDS)
    return {"mc": mc, "nrmse": nrmse, "xor": xor}


def analyse(result: Result, twin_output: Twin) -> dict[str, Any]:
    """Every model's scores (``mc``, ``nrmse``, ``xor``) and the column's separation curve."""
    with _one_blas_thread():
        return _analyse(result, twin_output)


def _analyse(result: Result, twin_output: Twin) -> dict[str, Any]:
    params = Params.from_dict(result.params)
    u, bits = twin_output.u, twin_output.xor_bits
    column = states(result, "column")
    scores = {
        "lsm": _scores(params, column, u, bits),
        "static": _scores(params, states(result, "static"), u, bits),
        "fast": _scores(params, states(result, "fast"), u, bits),
        "rate_twin": _scores(params, twin_output.rate_twin, u, bits),
        "esn": _scores(params, twin_output.esn, u, bits),
    }
    m = params.n_memory_bins
    sep = rc.separation_curve(column[:m], u[:m], window=3, start=params.max_delay)
    return {"params": params, "scores": scores, "separation": sep}


#: The last (result, twin, analysis) of :func:`_analysis`: ``compare`` and ``figures``,
#: called one after the other on the same run, share one analysis (about 15 s).
_LAST_ANALYSIS: tuple[Result, Twin, dict] | None = None


def _analysis(result: Result, twin_output: Twin) -> dict[str, Any]:
    """:func:`analyse`, reused while ``result`` and ``twin_output`` are the same objects."""
    global _LAST_ANALYSIS
    last = _LAST_ANALYSIS
    if last is not None and last[0] is result and last[1] is twin_output:
        return last[2]
    analysis = analyse(result, twin_output)
    _LAST_ANALYSIS = (result, twin_output, analysis)
    return analysis


def compare(result: Result, twin_output: Twin, analysis: dict | None = None) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twins."""
    analysis = _analysis(result, twin_output) if analysis is None else analysis
    params, scores, sep = analysis["params"], analysis["scores"], analysis["separation"]
    mc = {k: v["mc"].total for k, v in scores.items()}
    out = {
        "mc_total_lsm": mc["lsm"],
        "mc_static_synapses": mc["static"],
        "mc_fast_inputs": mc["fast"],
        "mc_total_rate_twin": mc["rate_twin"],
        "mc_total_esn": mc["esn"],
        "mc_ratio": mc["lsm"] / mc["rate_twin"] if mc["rate_twin"] > 0 else float("nan"),
        "linear_esn_mc_over_n": twin_output.linear_esn_mc.total / params.n_neurons,
    }
    for model in MODELS:
        for k in range(CURVE_DELAYS):
            out[f"r2_{model}_delay_{k + 1}"] = float(scores[model]["mc"].r2[k])
    for model in ("lsm", "rate_twin", "esn"):
        out[f"narma10_nrmse_{model}"] = scores[model]["nrmse"]
    out["xor_accuracy_lsm"] = scores["lsm"]["xor"]
    out["xor_accuracy_se_lsm"] = rc.binomial_standard_error(
        scores["lsm"]["xor"], params.n_xor_trials
    )
    for model in ("rate_twin", "esn"):
        out[f"xor_accuracy_{model}"] = scores[model]["xor"]
    out["separation_monotonic_lsm"] = float(sep.monotonic)
    out["separation_gain_lsm"] = float(sep.state_distance[-1] / sep.state_distance[0])
    mem = result.phases[0]
    column = result.populations["column"]
    exc = result.weights["excitatory"].astype(bool)
    rates = np.bincount(column.indices[column.times < mem.stop], minlength=column.size)
    rates = rates / mem.stop
    out["rate_exc_hz"] = float(rates[exc].mean())
    out["rate_inh_hz"] = float(rates[~exc].mean())
    out["rate_static_hz"] = result.populations["static"].rate(0.0, mem.stop)
    out["rate_fast_hz"] = result.populations["fast"].rate(0.0, mem.stop)
    out["bin_width_ms"] = float(params.bin_width / ms)
    out["state_tau_ms"] = float(params.state_tau / ms)
    return {k: float(v) for k, v in out.items()}


# ------------------------------------------------------------------------------ figures
def raster_options(result: Result) -> dict[str, Any]:
    """``raster.png``: inputs and the copies over the first 2 s of the XOR phase."""
    start = result.phases[1].start
    return {
        "populations": ["inputs", *COPIES],
        "t_start": start,
        "t_stop": min(result.t_stop, start + 2.0),
        "events": ("xor_readout",),
        "bin_width": 0.02,
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png`` (memory curves, NARMA, XOR, separation of every model)."""
    from spikingml.figures import reservoir as drawing

    analysis = _analysis(result, twin_output)
    metrics = compare(result, twin_output, analysis)
    return drawing.figures(result, analysis, metrics, Path(outdir))
