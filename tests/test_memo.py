"""``_memo.last_comparison``: figures() asking for the metrics again does not recompute."""

from __future__ import annotations

from spikingml._memo import last_comparison
from spikingml.circuits import REGISTRY, get_circuit


def test_a_repeated_comparison_of_the_same_objects_is_reused_and_copied():
    calls = []

    @last_comparison
    def compare(result, twin_output):
        """The metrics."""
        calls.append((result, twin_output))
        return {"m": float(len(calls))}

    run, twin, other = object(), object(), object()
    first = compare(run, twin)
    first["m"] = -1.0  # a caller's change does not reach the kept value
    assert compare(run, twin) == {"m": 1.0} and len(calls) == 1
    assert compare(other, twin) == {"m": 2.0}  # another run: compared
    assert compare(run, twin) == {"m": 3.0}  # no longer the last: compared again
    assert compare.__doc__ == "The metrics." and compare.__name__ == "compare"


def test_circuits_whose_figures_compare_again_reuse_the_metrics():
    # the figures of these circuits label their panels with compare()'s metrics
    wrapped = [
        name
        for name in REGISTRY
        if getattr(get_circuit(name).compare, "__wrapped__", None) is not None
    ]
    assert set(wrapped) >= {"hierarchy", "attractor", "tempotron", "eprop-memory"}
