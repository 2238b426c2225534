"""Trial schedules for classical (Pavlovian) conditioning.

A schedule is a table of trials: each trial has the same duration, a conditioned
stimulus (CS) at ``cs_onset`` and an unconditioned stimulus (US, the reward) at
``cs_onset + us_delay`` unless the trial is an omission probe or an extinction trial.
This follows the protocol of Schultz, Dayan & Montague (1997): acquisition with the
reward omitted on occasional probe trials, then extinction (CS alone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["ConditioningSchedule", "conditioning_schedule"]

ACQUISITION, OMISSION, EXTINCTION = "acquisition", "omission", "extinction"


@dataclass(frozen=True)
class ConditioningSchedule:
    """A conditioning protocol as plain arrays (times in seconds).

    Attributes
    ----------
    trial_duration : float
        Duration of every trial.
    cs_onset, us_delay : float
        CS time within a trial, and US time after the CS.
    kind : ndarray of str
        ``"acquisition"`` (CS then reward), ``"omission"`` (probe: CS, reward withheld)
        or ``"extinction"`` (CS alone) for each trial.
    """

    trial_duration: float
    cs_onset: float
    us_delay: float
    kind: np.ndarray

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return len(self.kind)

    @property
    def rewarded(self) -> np.ndarray:
        """Boolean mask of trials in which the reward is delivered."""
        return self.kind == ACQUISITION

    @property
    def trial_starts(self) -> np.ndarray:
        """Start time of every trial."""
        return self.trial_duration * np.arange(self.n_trials)

    @property
    def cs_times(self) -> np.ndarray:
        """CS onset of every trial."""
        return self.trial_starts + self.cs_onset

    @property
    def us_times(self) -> np.ndarray:
        """Time at which the US is (or would be) delivered in every trial."""
        return self.cs_times + self.us_delay

    @property
    def reward_times(self) -> np.ndarray:
        """Times at which a reward is actually delivered."""
        return self.us_times[self.rewarded]

    @property
    def duration(self) -> float:
        """Total duration of the schedule."""
        return self.trial_duration * self.n_trials

    def phase_bounds(self) -> list[tuple[str, float, float]]:
        """``(name, start, stop)`` of the acquisition and extinction phases."""
        is_ext = self.kind == EXTINCTION
        n_acq = int(np.count_nonzero(~is_ext))
        bounds = []
        if n_acq:
            bounds.append(("acquisition", 0.0, n_acq * self.trial_duration))
        if n_acq < self.n_trials:
            bounds.append(("extinction", n_acq * self.trial_duration, self.duration))
        return bounds


def conditioning_schedule(
    n_acquisition: int,
    omission_every: int,
    n_extinction: int,
    trial_duration: float,
    cs_onset: float,
    us_delay: float,
) -> ConditioningSchedule:
    """Build an acquisition / omission-probe / extinction schedule.

    Parameters
    ----------
    n_acquisition : int
        Number of acquisition trials (probe trials included).
    omission_every : int
        Every ``omission_every``-th acquisition trial (trial numbers ``omission_every``,
        ``2 * omission_every``, ... counting from 1) withholds the reward; 0 disables.
    n_extinction : int
        Number of CS-alone trials after acquisition.
    trial_duration, cs_onset, us_delay : float
        In seconds; the US must fall inside the trial.

    Returns
    -------
    ConditioningSchedule
    """
    if n_acquisition < 0 or n_extinction < 0 or n_acquisition + n_extinction == 0:
        raise ValidationError(
            "n_acquisition + n_extinction",
            "a positive number of trials",
            (n_acquisition, n_extinction),
        )
    if omission_every < 0:
        raise ValidationError("omission_every", "an integer >= 0", omission_every)
    if not 0 <= cs_onset < cs_onset + us_delay < trial_duration:
        raise ValidationError(
            "cs_onset + us_delay",
            f"a US time inside the trial (< {trial_duration} s)",
            cs_onset + us_delay,
        )
    kind = np.full(n_acquisition + n_extinction, ACQUISITION, dtype=object)
    if omission_every:
        kind[omission_every - 1 : n_acquisition : omission_every] = OMISSION
    kind[n_acquisition:] = EXTINCTION
    return ConditioningSchedule(trial_duration, cs_onset, us_delay, kind.astype(str))
