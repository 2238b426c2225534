"""Validation of circuit parameters (the TD-conditioning Params as the example)."""

import pytest
from brian2 import Hz, ms, mV, second

from spikingml import ValidationError
from spikingml.circuits import td_conditioning as td
from spikingml.params import parse_quantity


def test_defaults_and_quick_are_valid():
    assert td.Params().n_trials == 180
    assert td.Params.quick().n_trials < td.Params().n_trials


@pytest.mark.parametrize(
    "changes, field, expected",
    [
        ({"n_acquisition": 0}, "n_acquisition", "integer >= 1"),
        ({"n_acquisition": 2.5}, "n_acquisition", "an integer"),
        ({"n_acquisition": True}, "n_acquisition", "an integer"),
        ({"bin_width": 50}, "bin_width", "units of s"),
        ({"bin_width": 50 * mV}, "bin_width", "units of s"),
        ({"bin_width": -5 * ms}, "bin_width", "> 0"),
        ({"tonic_rate": 5 * ms}, "tonic_rate", "units of"),
        ({"critic_gain": float("nan")}, "critic_gain", "finite"),
        ({"critic_gain": "0.3"}, "critic_gain", "a number"),
        ({"tonic_spread": 1.0}, "tonic_spread", "< 1"),
        ({"dt": 10 * ms}, "dt", "<= 5"),
    ],
)
def test_invalid_field_names_field_expected_and_given(changes, field, expected):
    with pytest.raises(ValidationError) as info:
        td.Params().replace(**changes)
    message = str(info.value)
    assert message.startswith(f"TDConditioning.Params.{field}: expected")
    assert expected in message
    assert "got" in message


def test_cross_field_checks():
    with pytest.raises(ValidationError, match="TDConditioning.Params.cs_onset.*multiple"):
        td.Params(cs_onset=0.21 * second)
    with pytest.raises(ValidationError, match="us_delay.*inside the time-cell sequence"):
        td.Params(us_delay=0.8 * second)
    with pytest.raises(ValidationError, match="trial_duration"):
        td.Params(trial_duration=0.9 * second)


def test_unknown_field():
    with pytest.raises(ValidationError, match="TDConditioning.Params: expected a known"):
        td.Params().replace(nonsense=1)
    with pytest.raises(ValidationError, match="expected a field name"):
        td.Params().replace_from_strings({"nonsense": "1"})


def test_from_strings_parses_units_and_types():
    p = td.Params().replace_from_strings(
        {"tau_c": "25 ms", "tonic_rate": "6*Hz", "n_acquisition": "20", "A_plus": "0.5"}
    )
    assert p.tau_c == 25 * ms
    assert p.tonic_rate == 6 * Hz
    assert p.n_acquisition == 20 and isinstance(p.n_acquisition, int)
    assert p.A_plus == 0.5


@pytest.mark.parametrize(
    "field, text, expected",
    [
        ("bin_width", "25", "unit is required"),
        ("bin_width", "25 parsec", "not a Brian2 unit"),
        ("bin_width", "__import__('os')", "a number"),
        ("n_acquisition", "1e3", "an integer"),
        ("tonic_rate", "5 ms", "units of"),
    ],
)
def test_from_strings_rejects(field, text, expected):
    with pytest.raises(ValidationError, match=expected):
        td.Params().replace_from_strings({field: text})


def test_dict_round_trip_is_exact():
    p = td.Params.quick().replace(tau_c=0.0123456789 * second)
    assert td.Params.from_dict(p.to_dict()) == p


def test_parse_quantity_dimensionless():
    assert parse_quantity("0.25", "x", None) == 0.25
    assert parse_quantity("2 ms", "x", ms) == 2 * ms


def test_compound_units_round_trip():
    # to_dict writes a speed as "0.6 m/s"; it must parse back (and nothing else than a
    # quotient of two unit names is accepted)
    from brian2 import meter

    from spikingml.circuits import actor_critic as ac

    assert parse_quantity("0.6 m/s", "x", meter / second) == 0.6 * meter / second
    p = ac.Params(speed=0.45 * meter / second)
    assert ac.Params.from_dict(p.to_dict()) == p
    with pytest.raises(ValidationError, match="'furlong' is not a Brian2 unit"):
        parse_quantity("0.6 furlong/s", "x", meter / second)
    with pytest.raises(ValidationError, match="units of"):
        ac.Params().replace_from_strings({"speed": "0.6 m/mV"})


def test_runtime_fields_are_declared_in_order_and_leave_the_structure():
    fields = td.Params.runtime_fields()
    assert "A_plus" in fields and "critic_gain" in fields
    assert "n_bins" not in fields and "dt" not in fields  # sizes and steps are structural
    quick = td.Params.quick()
    moved = quick.replace(A_plus=2.5, critic_gain=0.4)
    # the structure: run-time fields at their defaults, structural fields kept
    assert moved.structure() == quick.structure()
    assert moved.structure().A_plus == td.Params().A_plus
    assert moved.structure().n_acquisition == quick.n_acquisition
    assert moved.same_structure(quick)
    assert not moved.same_structure(quick.replace(n_critic=quick.n_critic + 1))
    assert not moved.same_structure(td.Params())  # quick and default differ in size


def test_structure_falls_back_to_the_parameters_when_the_defaults_do_not_fit():
    import dataclasses

    from spikingml.params import CircuitParams, param

    @dataclasses.dataclass(frozen=True)
    class Limits(CircuitParams):
        circuit_name = "Limits"
        high: float = param(10.0, "structural upper bound")
        value: float = param(5.0, "run-time value below high", runtime=True)

        def check(self) -> None:
            if self.value >= self.high:
                raise ValidationError(self.qualname("value"), f"< high ({self.high})", self.value)

    assert Limits.runtime_fields() == ("value",)
    assert Limits(value=1.0).structure() == Limits()
    small = Limits(high=2.0, value=1.0)  # the default value 5 does not fit below 2
    assert small.structure() is small


def test_a_recording_copy_notes_the_fields_read_and_behaves_as_the_original():
    import pickle

    from spikingml.params import recording

    params = td.Params.quick()
    fields = {name for name, _, _ in td.Params.describe()}
    copy, read = recording(params)
    assert isinstance(copy, td.Params) and read == set()
    assert copy == params and params == copy
    assert read == fields  # a comparison reads every field
    copy, read = recording(params)
    assert copy.A_plus == params.A_plus and copy.tau_c == params.tau_c
    assert read == {"A_plus", "tau_c"}
    moved = copy.replace(A_plus=0.5)  # replace reads every field
    assert read == fields and moved.A_plus == 0.5 and isinstance(moved, td.Params)
    copy, read = recording(params)
    assert copy.to_dict() == params.to_dict() and read == fields
    copy, read = recording(params)
    plain = pickle.loads(pickle.dumps(copy))
    assert type(plain) is td.Params and plain == params and read == fields
