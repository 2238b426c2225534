"""Optional test dependencies: skipped where they are missing, an error in CI.

Some tests need packages of an extra (``hypothesis``, ``distributed``, ``pynwb``,
``elephant``; ``selenium`` for the documentation check). A developer without them sees
those tests skipped; CI installs them, so there a missing one is a broken environment
and must fail, not pass quietly as a skip (as NEST does with ``SPIKINGML_REQUIRE_NEST``).

CI is recognised by the environment variable ``CI`` (set by GitHub Actions, GitLab CI
and most others) or ``SPIKINGML_REQUIRE_OPTIONAL=1`` (``.ci/run`` sets it);
``SPIKINGML_REQUIRE_OPTIONAL=0`` turns the requirement off even in CI.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

#: Environment variable that makes a missing optional dependency an error ("1") or a
#: skip ("0"); unset, the variable ``CI`` decides.
REQUIRE_ENV = "SPIKINGML_REQUIRE_OPTIONAL"


def optional_required() -> bool:
    """Whether a missing optional test dependency fails the tests (CI) instead of skipping."""
    explicit = os.environ.get(REQUIRE_ENV)
    if explicit is not None and explicit.strip() != "":
        return explicit.strip() == "1"
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` for a test; skip without it, fail instead where it is required.

    Use it in place of :func:`pytest.importorskip`, in a test, a fixture or at module level.

    Parameters
    ----------
    module : str
        Module to import (``"elephant.statistics"``).
    extra : str
        The extra of ``pyproject.toml`` that installs it, named in the message.

    Returns
    -------
    module
        The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = f"{module} is missing (pip install 'spikingml[{extra}]'): {exc}"
        if optional_required():
            pytest.fail(
                f"{hint}; a test dependency, required here ({REQUIRE_ENV}=1 or CI is set)",
                pytrace=False,
            )
        pytest.skip(hint, allow_module_level=True)
