"""Reusable learning rules as Brian2 equation specifications.

A rule is described once, as a frozen dataclass of its parameters, and turned into
Brian2 model and event code by one builder method, so circuits compose rules without
copying equations. A rule never imports a circuit. Which circuit uses which rule:

=================================  ====================================================
rule                               circuits
=================================  ====================================================
:class:`DopamineSTDP`              three-factor-synapse (the template); NEST parity
:class:`PresynapticDopamineRule`   td-conditioning
:class:`OpponentDopamineRule`      rescorla-wagner
:class:`TDErrorRule`               actor-critic (critic and actor: one rule, two
                                   parameter sets)
:class:`NonlinearPCA`              v1-ica (feedforward weights)
:class:`VoltageAntiHebbian`        v1-ica (drive-gated decorrelation)
:class:`AntiHebbianDecorrelation`  v1-ica (lateral inhibition)
:class:`HomeostaticThreshold`      v1-ica (thresholds)
:class:`LogProbabilitySTDP`        wta-em (weights)
:class:`ExcitabilityRule`          wta-em (excitabilities; or the homeostatic
:class:`HomeostaticExcitability`   variant)
:class:`TempotronRule`             tempotron
:class:`TsodyksMarkram`            reservoir (short-term depression and facilitation)
:class:`EProp`                     eprop-memory (recurrent LIF + ALIF network, e-prop
                                   with Adam; :func:`build_eprop_network`)
:class:`ReleaseDeltaRule`          stochastic-synapses (release probability p, delta
                                   rule on the released spikes)
:class:`BoundedCovariance`         attractor (covariance rule from spike counts, weights
                                   in [0, w_max])
:class:`HebbianTsneRule`           hebbian-tsne (three-factor Hebbian rule on successive
                                   inputs; its third factor is t-SNE's p - q)
:class:`InstarRule`                hierarchy (l1: competitive learning in soft
:class:`WindowHomeostasis`         winner-take-all blocks, and their excitabilities)
:class:`InterneuronWhitening`      hierarchy (l2: Hebbian unit <-> interneuron synapses
                                   that cap the variance of every direction)
:class:`TeacherDeltaRule`          hierarchy (readout: eligibility x (teacher - output))
=================================  ====================================================
"""

from spikingml.plasticity.competitive import InstarRule, WindowHomeostasis
from spikingml.plasticity.covariance import BoundedCovariance
from spikingml.plasticity.eprop import EProp, build_eprop_network
from spikingml.plasticity.hebbian import (
    AntiHebbianDecorrelation,
    NonlinearPCA,
    VoltageAntiHebbian,
)
from spikingml.plasticity.hebbian_tsne import HebbianTsneRule
from spikingml.plasticity.homeostasis import HomeostaticThreshold
from spikingml.plasticity.opponent import OpponentDopamineRule
from spikingml.plasticity.readout import TeacherDeltaRule
from spikingml.plasticity.release_delta import ReleaseDeltaRule
from spikingml.plasticity.short_term import TsodyksMarkram
from spikingml.plasticity.td_error import TDErrorRule
from spikingml.plasticity.tempotron import TempotronRule
from spikingml.plasticity.three_factor import DopamineSTDP, PresynapticDopamineRule
from spikingml.plasticity.whitening import InterneuronWhitening
from spikingml.plasticity.wta_stdp import (
    ExcitabilityRule,
    HomeostaticExcitability,
    LogProbabilitySTDP,
)

__all__ = [
    "AntiHebbianDecorrelation",
    "BoundedCovariance",
    "DopamineSTDP",
    "EProp",
    "ExcitabilityRule",
    "HebbianTsneRule",
    "HomeostaticExcitability",
    "HomeostaticThreshold",
    "InstarRule",
    "InterneuronWhitening",
    "LogProbabilitySTDP",
    "NonlinearPCA",
    "OpponentDopamineRule",
    "PresynapticDopamineRule",
    "ReleaseDeltaRule",
    "TDErrorRule",
    "TeacherDeltaRule",
    "TempotronRule",
    "TsodyksMarkram",
    "VoltageAntiHebbian",
    "WindowHomeostasis",
    "build_eprop_network",
]
