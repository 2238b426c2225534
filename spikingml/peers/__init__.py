"""Side-by-side runs of spikingml's rules in other simulators (peers such as NEST).

Each module drives one peer simulator and the matching spikingml code with the same
inputs and returns plain NumPy data, so that tests and benchmarks can compare them.
Peers are optional dependencies, imported lazily with a message naming the extra to
install.

Contents
--------
:mod:`spikingml.peers.nest_three_factor`
    NEST's ``stdp_dopamine_synapse`` next to :class:`spikingml.plasticity.three_factor.
    DopamineSTDP` (extra ``nest``: ``pip install 'spikingml[nest]'``).
:mod:`spikingml.peers.nest_network`
    A plastic LIF network (three-factor excitatory synapses) built alike in NEST and
    Brian2: rates, weights and run times side by side (``benchmarks/bench_nest_network.py``).
"""
