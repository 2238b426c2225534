"""Shared Brian2 plumbing: the persistent standalone build directories."""

import os
from pathlib import Path

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


def test_check_seed():
    import numpy as np
    import pytest

    from spikingml import ValidationError
    from spikingml.simulation import check_seed

    assert check_seed(np.int64(3)) == 3 and isinstance(check_seed(np.int64(3)), int)
    for bad in (-1, True, 1.5, "2"):
        with pytest.raises(ValidationError, match="seed"):
            check_seed(bad)


def test_pearson_is_nan_for_a_constant():
    import numpy as np

    from spikingml.analysis.stats import pearson

    assert pearson([1, 2, 3], [2, 4, 6.5]) > 0.99
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_private_cython_cache_starts_warm_and_shares_back(tmp_path, monkeypatch):
    """A worker's private cache links the shared modules in and its own ones back."""
    import brian2

    from spikingml import simulation

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "_cython_magic_a.so").write_bytes(b"compiled a")
    (shared / "_cython_magic_a.pyx").write_text("source, not linked")
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(simulation, "_PRIVATE_CACHE", {})
    monkeypatch.setenv(simulation.CYTHON_CACHE_ENV, "")  # restored (unset) afterwards
    brian2.prefs.codegen.runtime.cython.cache_dir = str(shared)
    try:
        private = simulation.use_private_cython_cache()
    finally:
        brian2.prefs.codegen.runtime.cython.cache_dir = None
    assert private.startswith(str(tmp_path / "cache" / "cython" / "worker-"))
    assert os.environ[simulation.CYTHON_CACHE_ENV] == private
    assert simulation.use_private_cython_cache() == private  # once per process
    assert (Path(private) / "_cython_magic_a.so").read_bytes() == b"compiled a"
    assert not (Path(private) / "_cython_magic_a.pyx").exists()
    # brian_device points Brian2 at the private directory
    with simulation.brian_device("runtime", seed=1):
        assert brian2.prefs.codegen.runtime.cython.cache_dir == private
    # what this process compiles is offered to the shared cache (and only once)
    (Path(private) / "_cython_magic_b.so").write_bytes(b"compiled b")
    assert simulation.share_private_cython_cache() == 1
    assert (shared / "_cython_magic_b.so").read_bytes() == b"compiled b"
    assert simulation.share_private_cython_cache() == 0
