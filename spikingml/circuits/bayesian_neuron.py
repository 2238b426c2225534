r"""A Bayesian spiking neuron that tracks a hidden Markov state (Deneve 2008).

The ML idea
-----------
Exact online inference (the forward filter) in a hidden Markov model. A hidden state
:math:`x \in \{0, 1\}` switches off -> on at rate ``r_on`` and on -> off at rate
``r_off``; ``n_inputs`` Poisson neurons fire at ``q_on[i]`` while it is on and at
``q_off[i]`` while it is off (both drawn per input, uniformly between ``rate_low`` and
``rate_high``). The posterior log-odds :math:`L = \log P(x = 1 | \text{inputs}) / P(x = 0
| \text{inputs})` obeys (Deneve 2008, eq. 2)

.. math:: \frac{dL}{dt} = r_{on} (1 + e^{-L}) - r_{off} (1 + e^{L}) - \theta
          + \sum_i w_i s_i(t), \qquad w_i = \log\frac{q_{on,i}}{q_{off,i}}, \quad
          \theta = \sum_i (q_{on,i} - q_{off,i}),

with :math:`s_i(t)` the spike train of input ``i``: a leaky integrator whose leak is the
prior's pull, whose synaptic weights are log likelihood ratios and whose constant drift
is the evidence carried by *silence*.

The circuit
-----------
Input neurons (``inputs``, a ``SpikeGeneratorGroup`` replaying the sampled chain of
:mod:`spikingml.stimuli.hidden_markov`) project with weights ``w`` onto the output
neurons, each of which integrates ``L`` as above (``L_post += w`` per input spike;
forward Euler, step ``dt`` = 0.25 ms: the drift is stiff after large jumps, where
:math:`r e^{|L|}` reaches a few kHz, and 0.1 ms gave the same correlations at 2.5 times
the cost). An output spike signals what the past output did not
predict: every output neuron holds the same prediction ``G``, the log-odds a reader of
the output spikes alone would hold,

.. math:: \frac{dG}{dt} = r_{on} (1 + e^{-G}) - r_{off} (1 + e^{G}) - \theta_G
          + \eta \sum_j \sigma_j o_j(t),

and neuron ``j`` (sign :math:`\sigma_j`) fires when :math:`\sigma_j (L - G) > \eta / 2`;
each output spike moves ``G`` of every output neuron by :math:`\sigma_j \eta` (a synapse
``output -> output``), so ``G`` follows ``L`` within about :math:`\eta / 2`. Two output
codes (``output_code``):

``signed`` (default)
    Two output neurons, an on neuron (:math:`\sigma = +1`) and an off neuron
    (:math:`\sigma = -1`), sharing ``G``, whose drift includes the silence term
    (:math:`\theta_G = \theta`): the prediction that follows from the model when no
    input spike arrives. Each neuron signals one sign of :math:`L - G` (a predictive
    code in the sense of Boerlin, Machens & Deneve 2013). ``G`` is then a decoder of
    the output spikes with the HMM's own dynamics.
``single``
    Deneve's (2008) single neuron: :math:`\sigma = +1` only, :math:`\theta_G = 0` (``G``
    knows only the prior's pull). ``G`` can only be pushed up, and relaxes to the prior
    from above when the neuron is silent; it tracks ``L`` when ``L`` is high and stays
    near the prior while the state is off.

``eta``, ``theta``, ``theta_G``, ``r_on`` and ``r_off`` are shared variables of the output
group (not constants compiled into the code), so other values and seeds reuse the
compiled code. ``eta`` is the run-time field (``Params.runtime_fields()``): the
``cpp_standalone`` program compiled for one value runs with another without being
compiled again (:func:`simulate_many`); the switching and input rates draw the chain and
its spike trains in Python and are structural, as are the sizes, bins and duration. No
``network_operation``: the code runs under ``runtime`` and ``cpp_standalone``.

Twin and readout
----------------
The twin (:mod:`spikingml.analysis.hmm`) is the exact forward filter of the sampled
chain: the state is constant within bins of ``bin_width`` and the filter on the bins'
spike counts is the exact posterior (the neuron's ``L`` is its continuous-time limit).
``L`` and ``G`` are recorded at the start of every bin. The decoder of the hidden state
from the output spikes is causal: ``G > c``, with the threshold ``c`` fitted on the first
half of the run (phase ``fit``) and tested on the second (phase ``test``), where it is
compared with the exact filter's MAP decision ``L_exact > 0``.
The readout and the metrics are computed in :mod:`spikingml.analysis.hmm`
(:func:`~spikingml.analysis.hmm.readout`, :func:`~spikingml.analysis.hmm.decoding_metrics`),
the figure drawn in :mod:`spikingml.figures.bayesian_neuron`.

References
----------
Deneve, S. (2008). Bayesian spiking neurons I: inference. Neural Computation 20, 91-117.

Boerlin, M., Machens, C. K. & Deneve, S. (2013). Predictive coding of dynamical variables
in balanced spiking networks. PLoS Computational Biology 9, e1003258.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from spikingml._memo import last_comparison
from spikingml.analysis import hmm
from spikingml.circuits._bayesian_neuron_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.result import Phase, Result, Signal, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    progress_reporter,
    set_constants,
    versions,
)
from spikingml.stimuli.hidden_markov import HiddenMarkovInput, hidden_markov_input

__all__ = [
    "DEFAULT_DEVICE",
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "Params",
    "Twin",
    "simulate",
    "simulate_many",
    "build_network",
    "Network",
    "twin",
    "compare",
    "figures",
    "raster_options",
    "stimulus",
    "readout",
]

NAME = "bayesian-neuron"
DESCRIPTION = (
    "a neuron integrates Poisson inputs into the log-odds of a hidden Markov state and "
    "spikes what its past output did not predict (Deneve 2008)"
)
#: Compiled as one C++ program: identical spikes to ``runtime`` (``DEVICES_IDENTICAL``),
#: a first run compiles in seconds where Cython takes a minute, and later values of the
#: run-time fields run the kept program (:func:`simulate_many`).
DEFAULT_DEVICE = "cpp_standalone"

#: Every metric :func:`compare` returns.
METRICS: dict[str, str] = {
    "internal_logodds_correlation": "Pearson r of the output neurons' L with the exact "
    "log-odds of the forward filter (a sanity check of the integration; target >= 0.99)",
    "logodds_correlation": "Pearson r of the log-odds decoded from the output spikes (G) "
    "with the exact log-odds (higher is better; target >= 0.9)",
    "decoding_accuracy": "fraction of time bins of the second half where the causal "
    "decoder G > c (c fitted on the first half) gives the hidden state (higher is better)",
    "map_accuracy": "the exact filter's MAP accuracy (L_exact > 0) on the same bins (reference)",
    "accuracy_gap": "map_accuracy - decoding_accuracy (lower is better; target <= 0.05)",
    "decoder_threshold": "the threshold c fitted on the first half",
    "output_rate_hz": "mean firing rate of an output neuron (Hz)",
    "input_rate_hz": "mean firing rate of an input neuron (Hz)",
    "logodds_rms_error": "root mean square of G - L_exact (lower is better)",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the Bayesian-neuron circuit (default preset: 100 s of the chain)."""

    circuit_name = "BayesianNeuron"

    duration: Any = param(
        100 * second, "simulated time", unit=second, low=0 * ms, low_inclusive=False
    )
    r_on: Any = param(2 * Hz, "switching rate off -> on", unit=Hz, low=0 * Hz, low_inclusive=False)
    r_off: Any = param(
        2 * Hz, "switching rate on -> off", unit=Hz, low=0 * Hz, low_inclusive=False
    )
    n_inputs: int = param(20, "number of Poisson input neurons", integer=True, low=1)
    rate_low: Any = param(
        2 * Hz,
        "lowest input rate (q_on, q_off drawn uniformly in [rate_low, rate_high])",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
    )
    rate_high: Any = param(30 * Hz, "highest input rate", unit=Hz, low=0 * Hz, low_inclusive=False)
    output_code: str = param(
        "signed",
        "signed: an on and an off neuron sharing G (with the silence drift); single: "
        "Deneve's one neuron (G with the prior's pull only)",
        choices=("signed", "single"),
    )
    eta: float = param(
        2.0,
        "jump of G per output spike (spike when sign (L - G) > eta / 2)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    bin_width: Any = param(
        1 * ms,
        "bin of the hidden chain, the exact filter and the recordings",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    dt: Any = param(
        0.25 * ms,
        "simulation time step (input spikes of one bin sit on distinct steps)",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        high=1 * ms,
    )

    def check(self) -> None:
        """Cross-field checks: rates ordered, bins a whole number of steps."""
        if self.rate_high < self.rate_low:
            raise ValidationError(
                self.qualname("rate_high"), f">= rate_low ({self.rate_low})", self.rate_high
            )
        steps = float(self.bin_width / self.dt)
        if not is_whole(steps) or round(steps) < 1:
            raise ValidationError(
                self.qualname("bin_width"),
                f"a whole number of steps dt ({self.dt})",
                self.bin_width,
            )
        bins = float(self.duration / self.bin_width)
        if not is_whole(bins) or round(bins) < 4:
            raise ValidationError(
                self.qualname("duration"),
                f"a whole number (>= 4) of bins of {self.bin_width}",
                self.duration,
            )

    @classmethod
    def quick(cls) -> Params:
        """10 s of the chain (about 20 switches; decoder fitted on the first 5 s)."""
        return cls(duration=10 * second)

    @classmethod
    def tiny(cls) -> Params:
        """2 s of the chain: the conformance test's run."""
        return cls(duration=2 * second)

    @property
    def n_bins(self) -> int:
        """Number of bins of the chain."""
        return round(float(self.duration / self.bin_width))

    @property
    def steps_per_bin(self) -> int:
        """Simulation steps per bin."""
        return round(float(self.bin_width / self.dt))

    @property
    def signs(self) -> np.ndarray:
        """Sign of every output neuron (+1 on, -1 off)."""
        return np.array([1.0, -1.0]) if self.output_code == "signed" else np.array([1.0])


# ----------------------------------------------------------------------------- stimulus
def stimulus(params: Params, seed: int) -> HiddenMarkovInput:
    """The input rates, hidden chain and input spikes of a run, drawn from ``seed``.

    The circuit and the twin call this with the same seed and get the same inputs.
    """
    seed = check_seed(seed)
    rng = np.random.default_rng([seed, 0xBA7E5])
    lo, hi = float(params.rate_low), float(params.rate_high)
    q_on = rng.uniform(lo, hi, params.n_inputs)
    q_off = rng.uniform(lo, hi, params.n_inputs)
    try:
        return hidden_markov_input(
            params.n_bins,
            float(params.bin_width),
            float(params.dt),
            float(params.r_on),
            float(params.r_off),
            q_on,
            q_off,
            rng,
        )
    except ValidationError as err:
        if err.name != "bin_width":
            raise
        # more spikes of one input in a bin than the bin has steps
        raise ValidationError(
            params.qualname("dt"),
            f"a step small enough for the input spikes ({err.expected})",
            params.dt,
        ) from None


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields by their names in the equations: shared constants of the
    output group, values the compiled program takes at run time
    (:func:`spikingml.simulation.constant_args`)."""
    return {"eta": params.eta}


def _theta_g(params: Params, theta: float) -> float:
    """The constant drift of G: the silence term for the signed code, none for single."""
    return theta if params.output_code == "signed" else 0.0


# --------------------------------------------------------------------------- simulation
def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a bayesian_neuron.Params", type(params).__name__)
    return params


#: The output neurons: the log-odds ``L`` and the prediction ``G`` (module docstring).
_OUTPUT_EQUATIONS = """
dL/dt = r_on * (1 + exp(-L)) - r_off * (1 + exp(L)) - theta : 1
dG/dt = r_on * (1 + exp(-G)) - r_off * (1 + exp(G)) - theta_G : 1
sigma : 1 (constant)
r_on : hertz (shared, constant)
r_off : hertz (shared, constant)
theta : hertz (shared, constant)
theta_G : hertz (shared, constant)
eta : 1 (shared, constant)
"""


class Network(NamedTuple):
    """The Brian2 objects of the circuit (:func:`build_network`), before its run."""

    net: b2.Network
    inputs: b2.SpikeGeneratorGroup
    output: b2.NeuronGroup
    input_spikes: b2.SpikeMonitor
    output_spikes: b2.SpikeMonitor
    #: ``L`` and ``G`` of output neuron 0 at the start of every bin
    state: b2.StateMonitor
    counter: SynapticEventCounter


def build_network(params: Params, stim: HiddenMarkovInput, w: np.ndarray, theta: float) -> Network:
    r"""Create every Brian2 object of the circuit (in :func:`~spikingml.simulation.brian_device`).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    stim : HiddenMarkovInput
        The run's input spikes (:func:`stimulus`).
    w : ndarray
        Weight of every input, :math:`\log(q_{on} / q_{off})`.
    theta : float
        The silence drift :math:`\theta = \sum_i (q_{on,i} - q_{off,i})` (Hz).

    Returns
    -------
    Network
        The ``brian2.Network`` and the objects a run's results are read from; nothing is
        run yet.
    """
    signs = params.signs
    prior = float(np.log(params.r_on / params.r_off))
    b2.defaultclock.dt = params.dt
    inputs = b2.SpikeGeneratorGroup(
        params.n_inputs, stim.indices, stim.steps * params.dt, name="inputs"
    )
    output = b2.NeuronGroup(
        len(signs),
        _OUTPUT_EQUATIONS,
        threshold="sigma * (L - G) > eta / 2",
        reset="",  # G moves through prediction_synapses, for every output neuron
        method="euler",
        name="output",
    )
    output.sigma = signs
    output.r_on = params.r_on
    output.r_off = params.r_off
    output.theta = theta * Hz
    output.theta_G = _theta_g(params, theta) * Hz
    output.L = prior
    output.G = prior
    feed = b2.Synapses(
        inputs, output, "w : 1 (constant)", on_pre="L_post += w", name="input_synapses"
    )
    feed.connect()
    feed.w = np.repeat(w, len(signs))  # synapses ordered by input, then output
    share = b2.Synapses(
        output, output, on_pre="G_post += sigma_pre * eta_post", name="prediction_synapses"
    )
    share.connect()
    in_mon = b2.SpikeMonitor(inputs, name="input_spikes")
    out_mon = b2.SpikeMonitor(output, name="output_spikes")
    state_mon = b2.StateMonitor(output, ["L", "G"], record=[0], dt=params.bin_width)
    net = b2.Network(inputs, output, feed, share, in_mon, out_mon, state_mon)
    set_constants(net, _constants(params))  # the run-time fields' values
    counter = SynapticEventCounter(net)
    return Network(net, inputs, output, in_mon, out_mon, state_mon, counter)


def _run_protocol(network: Network, params: Params, device: str, progress: bool) -> None:
    """Run the whole chain (under ``cpp_standalone`` with ``build_on_run=False``: only
    record the run; the caller builds the program and runs it)."""
    if device == "cpp_standalone":
        report = "stderr" if progress else None
    else:
        report = progress_reporter(progress, NAME)
    network.net.run(params.duration, report=report, report_period=2 * second)


def _collect(
    params: Params,
    stim: HiddenMarkovInput,
    w: np.ndarray,
    theta: float,
    network: Network,
    seed: int,
    device: str,
    t_wall: float,
) -> Result:
    """Read a finished run's recordings into a :class:`Result` (wall time from ``t_wall``)."""
    in_mon, out_mon = network.input_spikes, network.output_spikes
    in_i, in_t = np.asarray(in_mon.i[:]), np.asarray(in_mon.t[:] / second)
    out_i, out_t = np.asarray(out_mon.i[:]), np.asarray(out_mon.t[:] / second)
    L_rec = np.asarray(network.state.L[0])
    G_rec = np.asarray(network.state.G[0])
    synaptic_events = network.counter.total()
    wall = time.perf_counter() - t_wall

    bw = float(params.bin_width)
    duration = float(params.duration)
    on, off = stim.switch_times()
    half = params.n_bins // 2 * bw
    signs = params.signs
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations={
            "inputs": SpikeData(in_i, in_t, params.n_inputs),
            "output": SpikeData(out_i, out_t, len(signs)),
        },
        signals={
            "L": Signal(L_rec[: params.n_bins], dt=bw, unit="1", population="output"),
            "G": Signal(G_rec[: params.n_bins], dt=bw, unit="1", population="output"),
            "hidden_state": Signal(stim.state, dt=bw, unit="1", population="hidden_state"),
        },
        events={"switch_on": on, "switch_off": off},
        phases=[Phase("fit", 0.0, half), Phase("test", half, duration)],
        weights={
            "w": w,
            "q_on": stim.q_on,
            "q_off": stim.q_off,
            "theta": np.array(theta),
            "theta_G": np.array(_theta_g(params, theta)),
            "signs": signs,
        },
        simulated_seconds=duration,
        wall_seconds=wall,
        synaptic_events=synaptic_events,
        versions=versions(),
    )


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "runtime",
    progress: bool = True,
) -> Result:
    """Run the hidden chain, its inputs and the output neurons.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (input rates, chain, input spikes).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone`` run
        reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``inputs`` and ``output`` (neuron 0 the on neuron, 1 the off neuron
        of the signed code); signals ``L`` and ``G`` of output neuron 0 and
        ``hidden_state`` at the start of every bin; events ``switch_on`` and
        ``switch_off``; phases ``fit`` and ``test`` (the two halves); weights ``w``,
        ``q_on``, ``q_off`` (per input), ``theta``, ``theta_G`` and ``signs``.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and ``eta`` is a run argument (:func:`simulate_many`): a
    run that changes only ``eta`` compiles nothing.

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
    stim = stimulus(params, seed)
    w, theta = hmm.input_weights(stim.q_on, stim.q_off)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, stim, w, theta)
        _run_protocol(network, params, device, progress)
        return _collect(params, stim, w, theta, network, seed, device, t_wall)


# ----------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The exact forward filter on the run's inputs.

    Attributes
    ----------
    logodds : ndarray, shape (n_bins + 1,)
        Entry ``k``: log-odds of the state of bin ``k - 1`` given the input spikes of
        bins ``0 .. k - 1`` (entry 0: the prior).
    state : ndarray of int, shape (n_bins,)
        The hidden state of every bin.
    """

    logodds: np.ndarray
    state: np.ndarray


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """The exact forward filter of the hidden Markov model on the inputs of ``seed``."""
    params = Params() if params is None else params
    stim = stimulus(params, seed)
    logodds = hmm.forward_logodds(
        stim.counts,
        stim.q_on,
        stim.q_off,
        float(params.r_on),
        float(params.r_off),
        float(params.bin_width),
    )
    return Twin(logodds=logodds, state=stim.state)


# --------------------------------------------------------------------------- compare
def readout(result: Result, twin_output: Twin) -> dict[str, np.ndarray]:
    """Aligned traces ``t``, ``exact``, ``L``, ``G``, ``state``, one per bin ``k >= 1``.

    See :func:`spikingml.analysis.hmm.readout`.
    """
    return hmm.readout(result, twin_output.logodds, twin_output.state)


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    r = readout(result, twin_output)
    m = hmm.decoding_metrics(r["exact"], r["L"], r["G"], r["state"])
    duration = result.simulated_seconds
    for key, name in (("output_rate_hz", "output"), ("input_rate_hz", "inputs")):
        spikes = result.populations[name]
        m[key] = len(spikes.times) / (spikes.size * duration)
    return {key: m[key] for key in METRICS}


# --------------------------------------------------------------------------- figures
#: Seconds of the run shown in ``comparison.png`` and ``raster.png`` (the last ones).
FIGURE_WINDOW = 5.0


def _window(result: Result) -> tuple[float, float]:
    stop = result.t_stop
    return max(0.0, stop - FIGURE_WINDOW), stop


def raster_options(result: Result) -> dict[str, Any]:
    """What ``raster.png`` shows: inputs and output over the last 5 s, the switches."""
    t_start, t_stop = _window(result)
    return {
        "populations": ["inputs", "output"],
        "t_start": t_start,
        "t_stop": t_stop,
        "events": ("switch_on", "switch_off"),
        "bin_width": 0.05,
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png``: the chain, inputs, log-odds and output on one time axis.

    Panels (last 5 s): the hidden state; the input raster (inputs ordered by their
    weight ``w``, strongest "on" evidence at the top); the exact log-odds with the
    neuron's ``L`` and the log-odds ``G`` decoded from the output spikes, with the fitted
    decoder threshold; the output spikes (on and off neurons). Drawn by
    :func:`spikingml.figures.bayesian_neuron.figures`.
    """
    from spikingml.figures import bayesian_neuron as drawing

    metrics = compare(result, twin_output)
    return drawing.figures(result, twin_output, metrics, _window(result), Path(outdir))
