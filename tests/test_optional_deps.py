"""A missing optional test dependency skips its tests, except in CI, where it fails them."""

import pytest
from _optional import REQUIRE_ENV, optional_required, require

MISSING = "spikingml_no_such_module"


@pytest.fixture
def environment(monkeypatch):
    """Start from neither ``CI`` nor ``SPIKINGML_REQUIRE_OPTIONAL`` set."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    return monkeypatch


def test_present_module_is_returned(environment):
    environment.setenv("CI", "true")
    assert require("json", "test").dumps([1]) == "[1]"


def test_missing_module_skips_outside_ci(environment):
    with pytest.raises(pytest.skip.Exception, match=rf"{MISSING} is missing.*spikingml\[nwb\]"):
        require(MISSING, "nwb")


@pytest.mark.parametrize(
    "variables", [{"CI": "true"}, {"CI": "1"}, {REQUIRE_ENV: "1"}, {"CI": "", REQUIRE_ENV: "1"}]
)
def test_missing_module_fails_in_ci(environment, variables):
    for name, value in variables.items():
        environment.setenv(name, value)
    assert optional_required()
    with pytest.raises(pytest.fail.Exception, match=rf"{MISSING} is missing.*required here"):
        require(MISSING, "test")


@pytest.mark.parametrize("variables", [{"CI": "false"}, {"CI": "true", REQUIRE_ENV: "0"}])
def test_requirement_can_be_off(environment, variables):
    for name, value in variables.items():
        environment.setenv(name, value)
    assert not optional_required()
    with pytest.raises(pytest.skip.Exception):
        require(MISSING, "test")
