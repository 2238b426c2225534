"""Shared Brian2 plumbing: the persistent standalone build directories."""

import os
from pathlib import Path

import pytest

from spikingml import ValidationError
from spikingml.simulation import standalone_build_directory


def test_build_directory_is_persistent_and_exclusive(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    monkeypatch.setenv("SPIKINGML_FAST_COMPILE", "0")
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
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "0")
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


def test_fast_compile_uses_O0_and_caches_of_its_own(tmp_path, monkeypatch):
    """Unoptimised code is compiled with -O0 into caches that optimised code never uses."""
    import brian2

    from spikingml import simulation

    monkeypatch.setenv("SPIKINGML_CACHE", str(tmp_path))
    monkeypatch.setenv(simulation.CYTHON_CACHE_ENV, "")
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "1")
    with simulation.brian_device("runtime", seed=0):
        assert brian2.prefs.codegen.cpp.extra_compile_args_gcc == ["-w", "-O0"]
        assert brian2.prefs.codegen.runtime.cython.cache_dir == str(tmp_path / "cython-O0")
    with simulation.standalone_build_directory("prog") as directory:
        assert Path(directory).name == "prog-O0-0"
    monkeypatch.setenv(simulation.FAST_COMPILE_ENV, "0")
    with simulation.brian_device("runtime", seed=0):
        assert "-O3" in brian2.prefs.codegen.cpp.extra_compile_args_gcc
        assert brian2.prefs.codegen.runtime.cython.cache_dir is None
    with simulation.standalone_build_directory("prog") as directory:
        assert Path(directory).name == "prog-0"
