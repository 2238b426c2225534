r"""A hidden two-state Markov chain that drives Poisson input neurons (Deneve 2008).

The hidden state :math:`x \in \{0, 1\}` ("off", "on") switches from off to on at rate
``r_on`` and back at rate ``r_off``. Input neuron ``i`` fires as a Poisson process of
rate ``q_on[i]`` while the state is on and ``q_off[i]`` while it is off.

The chain is sampled on a grid of bins of width ``bin_width`` (the state is constant in
a bin; it switches only at bin edges, with the exact switching probabilities of the
continuous chain over one bin, :func:`switch_probabilities`), and the spike count of
every input in every bin is Poisson. Within a bin the spikes of one input sit on
distinct, uniformly drawn time steps of width ``dt`` (the simulation step), so a
``SpikeGeneratorGroup`` can replay them. Because the state is constant within a bin,
the spike times inside it carry no information beyond the counts, and the forward
filter on the bins (:func:`spikingml.analysis.hmm.forward_logodds`) is the exact
posterior of this generative process.

Every draw comes from the ``numpy.random.Generator`` passed in.

Reference
---------
Deneve, S. (2008). Bayesian spiking neurons I: inference. Neural Computation 20, 91-117.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["HiddenMarkovInput", "switch_probabilities", "hidden_markov_input"]


@dataclass(frozen=True)
class HiddenMarkovInput:
    """A sampled hidden chain and the input spikes it caused (times in seconds).

    Attributes
    ----------
    state : ndarray of int, shape (n_bins,)
        Hidden state (0 off, 1 on) in every bin.
    counts : ndarray of int, shape (n_bins, n_inputs)
        Spike count of every input in every bin.
    indices, times : ndarray
        Input index and time of every spike, sorted by time (times are multiples of
        ``dt``).
    steps : ndarray of int
        Every spike's time in steps of ``dt`` (``times = steps * dt``).
    q_on, q_off : ndarray, shape (n_inputs,)
        Rates (Hz) of the inputs in the on and off state.
    bin_width, dt : float
        Width of a bin and the time step on which spikes are placed.
    """

    state: np.ndarray
    counts: np.ndarray
    indices: np.ndarray
    times: np.ndarray
    steps: np.ndarray
    q_on: np.ndarray
    q_off: np.ndarray
    bin_width: float
    dt: float

    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return len(self.state)

    @property
    def n_inputs(self) -> int:
        """Number of input neurons."""
        return len(self.q_on)

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.n_bins * self.bin_width

    def switch_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) at which the state switches on, and at which it switches off."""
        change = np.flatnonzero(np.diff(self.state)) + 1
        on = change[self.state[change] == 1]
        off = change[self.state[change] == 0]
        return on * self.bin_width, off * self.bin_width


def switch_probabilities(r_on: float, r_off: float, bin_width: float) -> tuple[float, float]:
    r"""Probabilities to switch on (from off) and off (from on) within one bin.

    For the two-state chain with rates ``r_on`` (off -> on) and ``r_off`` (on -> off),
    :math:`P = e^{Q \Delta}` gives

    .. math:: p_{on} = \frac{r_{on}}{r_{on} + r_{off}} (1 - e^{-(r_{on} + r_{off}) \Delta}),
              \quad p_{off} = \frac{r_{off}}{r_{on} + r_{off}} (1 - e^{-(r_{on} + r_{off})
              \Delta}).
    """
    for name, value in (("r_on", r_on), ("r_off", r_off)):
        if not np.isfinite(value) or value <= 0:
            raise ValidationError(name, "a rate > 0 (Hz)", value)
    if not np.isfinite(bin_width) or bin_width <= 0:
        raise ValidationError("bin_width", "a duration > 0 (s)", bin_width)
    total = r_on + r_off
    leave = -np.expm1(-total * bin_width)
    return float(r_on / total * leave), float(r_off / total * leave)


def hidden_markov_input(
    n_bins: int,
    bin_width: float,
    dt: float,
    r_on: float,
    r_off: float,
    q_on: np.ndarray,
    q_off: np.ndarray,
    rng: np.random.Generator,
) -> HiddenMarkovInput:
    """Sample the hidden chain (from its stationary distribution) and the input spikes.

    Parameters
    ----------
    n_bins : int
        Number of bins.
    bin_width : float
        Width of a bin in seconds; a whole number of steps ``dt``.
    dt : float
        Time step (s) on which spikes are placed.
    r_on, r_off : float
        Switching rates (Hz): off -> on and on -> off.
    q_on, q_off : array_like, shape (n_inputs,)
        Input rates (Hz) in the on and off state.
    rng : numpy.random.Generator
        Source of every random draw.

    Returns
    -------
    HiddenMarkovInput
    """
    q_on = np.asarray(q_on, dtype=float)
    q_off = np.asarray(q_off, dtype=float)
    if q_on.shape != q_off.shape or q_on.ndim != 1:
        raise ValidationError("q_on, q_off", "two 1-D arrays of the same length", q_on.shape)
    if np.any(q_on <= 0) or np.any(q_off <= 0):
        raise ValidationError("q_on, q_off", "rates > 0 (Hz)", (q_on.min(), q_off.min()))
    steps_per_bin = round(bin_width / dt)
    if steps_per_bin < 1 or abs(steps_per_bin * dt - bin_width) > 1e-9 * bin_width:
        raise ValidationError("bin_width", f"a whole number of steps dt = {dt} s", bin_width)
    p_on, p_off = switch_probabilities(r_on, r_off, bin_width)

    # the chain, from the stationary distribution: switch where a uniform draw is below
    # the switching probability of the current state
    state = np.empty(n_bins, dtype=np.int64)
    u = rng.random(n_bins)
    x = int(u[0] < r_on / (r_on + r_off))
    state[0] = x
    for k in range(1, n_bins):
        if u[k] < (p_off if x else p_on):
            x = 1 - x
        state[k] = x

    rates = np.where(state[:, None] == 1, q_on[None, :], q_off[None, :])
    counts = rng.poisson(rates * bin_width)
    # distinct, uniformly drawn steps inside the bin for the spikes of one input
    bins, inputs = np.nonzero(counts)
    n = counts[bins, inputs]
    slot = rng.integers(0, steps_per_bin, size=len(bins))
    first = bins * steps_per_bin + slot
    step_lists = [first]
    index_lists = [inputs]
    for pos in np.flatnonzero(n > 1):
        k = int(n[pos])
        if k > steps_per_bin:
            raise ValidationError(
                "bin_width",
                f"room for {k} spikes of one input in a bin of {steps_per_bin} steps",
                bin_width,
            )
        # the bin's first spike of this input is replaced by k distinct steps
        chosen = bins[pos] * steps_per_bin + rng.choice(steps_per_bin, size=k, replace=False)
        first[pos] = chosen[0]
        step_lists.append(chosen[1:])
        index_lists.append(np.full(k - 1, inputs[pos]))
    steps = np.concatenate(step_lists).astype(np.int64)
    indices = np.concatenate(index_lists).astype(np.int64)
    order = np.lexsort((indices, steps))
    steps, indices = steps[order], indices[order]
    return HiddenMarkovInput(
        state=state,
        counts=counts,
        indices=indices,
        times=steps * dt,
        steps=steps,
        q_on=q_on,
        q_off=q_off,
        bin_width=float(bin_width),
        dt=float(dt),
    )
