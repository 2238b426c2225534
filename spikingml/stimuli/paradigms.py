"""Trial schedules of the classical Pavlovian paradigms that Rescorla-Wagner explains.

Every paradigm is trained in four stages of ``n_stage`` trials each. A paradigm is run
by one or more independent *groups* of subjects (blocking has an experimental and a
control group); each group has its own cues (``A``, ``X``, ``B``), and on every trial a
set of its cues is presented, followed or not by the US.

=========================  ===================  =================  =====================
paradigm (group)           stages 1-2           stages 3-4         what RW predicts
=========================  ===================  =================  =====================
acquisition                A+                   A+                 V_A -> lambda
extinction                 A+                   A-                 V_A -> 0
blocking                   A+                   AX+                V_X stays ~ 0
blocking_control           (nothing)            AX+                V_X -> lambda / 2
overshadowing              AB+                  AB+                V_A / (V_A + V_B) =
                                                                   alpha_A / (alpha_A +
                                                                   alpha_B), A salient
conditioned_inhibition     A+, then A+ / AX-    A+ / AX-           V_X -> -lambda
                           alternating from
                           stage 2
overexpectation            A+ / B+ alternating  AB+                V_A, V_B fall from
                                                                   lambda to lambda / 2
=========================  ===================  =================  =====================

(``+``: the US follows; ``-``: no US.) The functions here are pure NumPy: the circuit
(:mod:`spikingml.circuits.rescorla_wagner`) turns a schedule into input, the twin
(:mod:`spikingml.analysis.rescorla_wagner`) into a learning problem.

Contents
--------
:data:`PARADIGMS`
    The paradigm names and the groups each one runs.
:class:`GroupSchedule`
    The trials of one group: which cues, whether the US follows, in which stage.
:func:`paradigm_schedules`
    The schedules of every group of the chosen paradigms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["PARADIGMS", "N_STAGES", "GroupSchedule", "group_schedule", "paradigm_schedules"]

#: Paradigm name -> the groups it runs (in display order).
PARADIGMS: dict[str, tuple[str, ...]] = {
    "acquisition": ("acquisition",),
    "extinction": ("extinction",),
    "blocking": ("blocking", "blocking_control"),
    "overshadowing": ("overshadowing",),
    "conditioned_inhibition": ("conditioned_inhibition",),
    "overexpectation": ("overexpectation",),
}

#: Number of training stages of every paradigm.
N_STAGES = 4

# Group -> its cues (probe order) and the salient ones.
_CUES: dict[str, tuple[str, ...]] = {
    "acquisition": ("A",),
    "extinction": ("A",),
    "blocking": ("A", "X"),
    "blocking_control": ("A", "X"),
    "overshadowing": ("A", "B"),
    "conditioned_inhibition": ("A", "X"),
    "overexpectation": ("A", "B"),
}
_SALIENT: dict[str, tuple[str, ...]] = {"overshadowing": ("A",)}


@dataclass(frozen=True)
class GroupSchedule:
    """The trials of one group.

    Attributes
    ----------
    name : str
        Group name (``"blocking_control"``).
    cues : tuple of str
        The group's cues, in the order in which they are probed.
    salient : tuple of bool
        For each cue, whether it is the salient one (more neurons, larger alpha).
    present : ndarray of bool, shape (n_trials, n_cues)
        Cues presented on each trial.
    us : ndarray of bool, shape (n_trials,)
        Whether the US follows on each trial.
    stage : ndarray of int, shape (n_trials,)
        Training stage of each trial, 1 to :data:`N_STAGES`.
    """

    name: str
    cues: tuple[str, ...]
    salient: tuple[bool, ...]
    present: np.ndarray
    us: np.ndarray
    stage: np.ndarray

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return len(self.us)

    def label(self, trial: int) -> str:
        """Conventional label of a trial: ``"AX+"``, ``"A-"``, ``"-"`` for none."""
        names = "".join(c for c, on in zip(self.cues, self.present[trial], strict=True) if on)
        return names + ("+" if self.us[trial] else "-")


def group_schedule(name: str, n_stage: int) -> GroupSchedule:
    """The schedule of one group (see the table in the module docstring).

    Parameters
    ----------
    name : str
        A group name (a value of :data:`PARADIGMS`).
    n_stage : int
        Trials per stage (>= 2: alternating schedules need two).

    Returns
    -------
    GroupSchedule
    """
    if name not in _CUES:
        raise ValidationError("group", f"one of {', '.join(_CUES)}", name)
    if isinstance(n_stage, bool) or not isinstance(n_stage, (int, np.integer)) or n_stage < 2:
        raise ValidationError("n_stage", "an integer >= 2", n_stage)
    cues = _CUES[name]
    n = N_STAGES * n_stage
    stage = np.repeat(np.arange(1, N_STAGES + 1), n_stage)
    present = np.zeros((n, len(cues)), dtype=bool)
    us = np.zeros(n, dtype=bool)
    early = stage <= 2
    late = ~early
    alternate = np.arange(n) % 2 == 1  # every second trial
    if name == "acquisition":
        present[:, 0] = True
        us[:] = True
    elif name == "extinction":
        present[:, 0] = True
        us[early] = True
    elif name == "blocking":
        present[:, 0] = True
        present[late, 1] = True
        us[:] = True
    elif name == "blocking_control":
        present[late, :] = True
        us[late] = True
    elif name == "overshadowing":
        present[:, :] = True
        us[:] = True
    elif name == "conditioned_inhibition":
        present[:, 0] = True
        inhibition = (stage >= 2) & alternate  # AX- trials
        present[inhibition, 1] = True
        us[~inhibition] = True
    elif name == "overexpectation":
        present[early & ~alternate, 0] = True  # A+
        present[early & alternate, 1] = True  # B+
        present[late, :] = True  # AB+
        us[:] = True
    salient = tuple(c in _SALIENT.get(name, ()) for c in cues)
    return GroupSchedule(name, cues, salient, present, us, stage)


def paradigm_schedules(paradigms: str | tuple[str, ...], n_stage: int) -> list[GroupSchedule]:
    """The schedules of every group of ``paradigms``.

    Parameters
    ----------
    paradigms : str or tuple of str
        ``"all"``, one name of :data:`PARADIGMS`, or several.
    n_stage : int
        Trials per stage.

    Returns
    -------
    list of GroupSchedule
        In the order of :data:`PARADIGMS` (each paradigm's groups in its order).
    """
    chosen = tuple(PARADIGMS) if paradigms == "all" else paradigms
    if isinstance(chosen, str):
        chosen = (chosen,)
    unknown = [p for p in chosen if p not in PARADIGMS]
    if unknown:
        raise ValidationError("paradigm", f"'all' or one of {', '.join(PARADIGMS)}", unknown[0])
    groups = [g for p in PARADIGMS if p in chosen for g in PARADIGMS[p]]
    return [group_schedule(g, n_stage) for g in groups]
