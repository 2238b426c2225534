"""Small file-system chores done one way everywhere: atomic writes and JSON output.

Every file spikingml writes is first written under a fresh hidden name next to its
destination and then moved into place with :func:`os.replace`, so a reader never sees
a half-written file and an interrupted write never clobbers the previous one. The
temporary name is unique per call (two processes writing the same file do not collide),
keeps the destination's suffix (pynwb and savefig look at it), and is removed if the
write fails. The file is created by the writer itself, so it gets the permissions of the
process's umask, as a plain ``open`` would give it (``tempfile.mkstemp`` would create it
with mode 0600, which ``os.replace`` carries over).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_path", "write_atomically", "write_json", "write_text", "jsonable"]


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path next to ``path`` that is moved to ``path`` when the block ends.

    Write the file at the yielded path inside the ``with`` block; on normal exit it
    replaces ``path`` in one :func:`os.replace`; on an exception (Ctrl-C included) the
    temporary file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> with atomic_path("table.csv") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("a,b\\n")
    """
    path = Path(path)
    tmp = _temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomically(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp)`` with a temporary file name, then move that file to ``path``.

    Returns ``path`` as a :class:`~pathlib.Path`.
    """
    with atomic_path(path) as tmp:
        write(str(tmp))
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types; non-finite numbers become ``None``.

    Brian2 quantities become text in ``--set`` syntax (``"20. ms"``), NumPy scalars and
    arrays plain numbers and lists; anything else unknown its ``str``.
    """
    from brian2.units.fundamentalunits import Quantity

    from spikingml.params import quantity_to_str

    if isinstance(value, Quantity):
        return jsonable(quantity_to_str(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    return str(value)


def write_json(path: str | os.PathLike, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON with sorted keys (NaN as ``null``), atomically."""
    text = json.dumps(jsonable(data), indent=2, sort_keys=True, allow_nan=False)
    return write_text(path, text + "\n")
