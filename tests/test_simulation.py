"""Shared Brian2 plumbing: the persistent standalone build directories."""

import pytest

from spikingml import ValidationError
from spikingml.simulation import standalone_build_directory


def test_build_directory_is_persistent_and_exclusive(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    with standalone_build_directory("circuit-abc") as first:
        (tmp_path / "standalone" / "circuit-abc-0" / "marker").write_text("built")
        # a second user while the first holds it (a parallel run) gets its own slot
        with standalone_build_directory("circuit-abc") as second:
            assert second != first
            assert second.endswith("circuit-abc-1")
    # released: the next run reuses the first slot and finds what was built there
    with standalone_build_directory("circuit-abc") as again:
        assert again == first
        assert (tmp_path / "standalone" / "circuit-abc-0" / "marker").read_text() == "built"
    with standalone_build_directory("other") as other:
        assert other.endswith("other-0")


def test_build_directory_key_is_validated(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    with pytest.raises(ValidationError, match="key"):
        with standalone_build_directory("../escape"):
            pass
