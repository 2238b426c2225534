"""Working-memory tasks for recurrent networks: store-recall and evidence accumulation.

Both tasks present spike trains of Poisson input channels (``per_channel`` neurons per
channel, firing at ``rate`` while the channel is on) on a grid of ``dt``, as arrays
``x`` of shape ``(steps, trials, n_in)`` (1 where an input neuron spikes), the correct
class of every trial and its *loss window* (the interval in which the network must
answer), so that a spiking network and an LSTM see the same trials.

Contents
--------
:func:`store_recall`
    A bit is shown with a *store* cue; distractor bits follow; on a *recall* cue the
    network reports the stored bit (Bellec et al. 2018, 2020).
:func:`evidence_accumulation`
    Cues on the left or on the right; after a delay the network reports the side with
    more cues (Morcos & Harvey 2016; Bellec et al. 2020).

References
----------
Bellec, G., Salaj, D., Subramoney, A., Legenstein, R. & Maass, W. (2018). Long
short-term memory and learning-to-learn in networks of spiking neurons. NeurIPS 31.

Bellec, G., Scherr, F., Subramoney, A., Hajek, E., Salaj, D., Legenstein, R. & Maass, W.
(2020). A solution to the learning dilemma for recurrent networks of spiking neurons.
Nat. Commun. 11, 3625.

Morcos, A. S. & Harvey, C. D. (2016). History-dependent variability in population
dynamics during evidence accumulation in cortex. Nat. Neurosci. 19, 1672-1681.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["EVIDENCE_START", "MemoryTrials", "store_recall", "evidence_accumulation"]

#: Onset of the first cue of an evidence-accumulation trial (s).
EVIDENCE_START = 0.05


@dataclasses.dataclass(frozen=True)
class MemoryTrials:
    """A batch of trials.

    Attributes
    ----------
    x : ndarray of float, shape (steps, trials, n_in)
        Input spikes (0 or 1) on the grid of ``dt``; step 0 is always empty.
    labels : ndarray of int, shape (trials,)
        The correct class (0 or 1).
    windows : ndarray, shape (trials, 2)
        The loss window ``[on, off)`` in seconds from the trial's start.
    delays : ndarray, shape (trials,)
        Store-recall: recall onset minus store onset (s); evidence accumulation: end of
        the last cue to the decision window (s).
    channels : ndarray of int, shape (steps, trials, n_channels)
        Which channels are on (1) at every step.
    dt : float
        The time step (s).
    """

    x: np.ndarray
    labels: np.ndarray
    windows: np.ndarray
    delays: np.ndarray
    channels: np.ndarray
    dt: float

    @property
    def mask(self) -> np.ndarray:
        """``(steps, trials)``: 1 on the steps inside the loss window."""
        t = np.arange(self.x.shape[0])[:, None] * self.dt
        on, off = self.windows[:, 0], self.windows[:, 1]
        half = 0.5 * self.dt
        return ((t > on - half) & (t < off - half)).astype(float)


def _poisson(rng, channels: np.ndarray, per_channel: int, rate: float, dt: float) -> np.ndarray:
    on = np.repeat(channels, per_channel, axis=2).astype(bool)
    x = (rng.random(on.shape) < rate * dt) & on
    x[0] = False
    return x.astype(float)


def store_recall(
    rng: np.random.Generator,
    n_trials: int,
    *,
    dt: float = 1e-3,
    symbol: float = 0.2,
    n_symbols: int = 10,
    distractors: tuple[int, int] = (3, 7),
    per_channel: int = 10,
    rate: float = 50.0,
    distractor_values: np.ndarray | None = None,
) -> MemoryTrials:
    """Store-recall trials: store a bit, report it on the recall cue after a delay.

    Channels: 0 ``value 0``, 1 ``value 1``, 2 ``store``, 3 ``recall``. Every trial has
    ``n_symbols`` symbols of ``symbol`` seconds: symbol 0 shows a random value, symbol 1
    the bit to store with the store cue, then ``d`` symbols of random values
    (distractors; ``d`` uniform in ``distractors``), then the recall cue alone, the loss
    window; the rest is silent. The delay (recall onset minus store onset) is ``(d + 1)
    symbol``.

    Parameters
    ----------
    rng
        The random generator (every draw goes through it).
    n_trials
        Trials (the batch).
    dt, symbol, n_symbols
        Time step, symbol duration (s), symbols per trial.
    distractors
        Smallest and largest number of distractor symbols.
    per_channel, rate
        Input neurons per channel and their rate while the channel is on (Hz).
    distractor_values
        Fixes ``d`` per trial (``(n_trials,)``) instead of drawing it (test sets with one
        delay).
    """
    d_lo, d_hi = distractors
    if not 0 <= d_lo <= d_hi or d_hi + 3 > n_symbols:
        raise ValidationError(
            "store_recall(distractors)",
            f"0 <= lo <= hi <= n_symbols - 3 = {n_symbols - 3}",
            distractors,
        )
    steps_sym = round(symbol / dt)
    labels = rng.integers(0, 2, n_trials)
    d = (
        rng.integers(d_lo, d_hi + 1, n_trials)
        if distractor_values is None
        else np.asarray(distractor_values, int)
    )
    values = rng.integers(0, 2, (n_trials, n_symbols))
    values[:, 1] = labels
    sym_ch = np.zeros((n_symbols, n_trials, 4), dtype=np.int8)
    for b in range(n_trials):
        for s in range(d[b] + 2):
            sym_ch[s, b, values[b, s]] = 1
        sym_ch[1, b, 2] = 1
        sym_ch[d[b] + 2, b, 3] = 1
    channels = np.repeat(sym_ch, steps_sym, axis=0)
    x = _poisson(rng, channels, per_channel, rate, dt)
    on = (d + 2) * symbol
    windows = np.stack([on, on + symbol], axis=1)
    return MemoryTrials(x, labels, windows, (d + 1) * symbol, channels, dt)


def evidence_accumulation(
    rng: np.random.Generator,
    n_trials: int,
    *,
    dt: float = 1e-3,
    n_cues: int = 7,
    cue: float = 0.1,
    cue_interval: float = 0.15,
    delay: float = 1.2,
    decision: float = 0.15,
    per_channel: int = 10,
    rate: float = 40.0,
    background: float = 10.0,
) -> MemoryTrials:
    """Evidence-accumulation trials: report the side (0 left, 1 right) with more cues.

    Channels: 0 ``left``, 1 ``right``, 2 ``decide`` (the cue to answer), 3 background
    noise (always on at ``background`` Hz). ``n_cues`` (odd) cues of ``cue`` seconds
    every ``cue_interval`` from :data:`EVIDENCE_START` (0.05 s), each left or right with
    probability 1/2 (trials with a tie are impossible with an odd count); ``delay``
    seconds after the last cue the decide cue lasts ``decision`` seconds, the loss
    window.
    """
    if n_cues % 2 == 0:
        raise ValidationError("evidence_accumulation(n_cues)", "an odd number", n_cues)
    start = EVIDENCE_START
    t_last = start + (n_cues - 1) * cue_interval + cue
    on = t_last + delay
    steps = round((on + decision) / dt)
    sides = rng.integers(0, 2, (n_trials, n_cues))
    labels = (sides.sum(axis=1) > n_cues // 2).astype(int)
    channels = np.zeros((steps, n_trials, 4), dtype=np.int8)
    for q in range(n_cues):
        a = round((start + q * cue_interval) / dt)
        b = a + round(cue / dt)
        channels[a:b, np.arange(n_trials), sides[:, q]] = 1
    channels[round(on / dt) : round((on + decision) / dt), :, 2] = 1
    x = _poisson(rng, channels[..., :3], per_channel, rate, dt)
    noise = (rng.random((steps, n_trials, per_channel)) < background * dt).astype(float)
    noise[0] = 0
    channels[..., 3] = 1
    x = np.concatenate([x, noise], axis=2)
    windows = np.tile([on, on + decision], (n_trials, 1))
    return MemoryTrials(x, labels, windows, np.full(n_trials, delay), channels, dt)
