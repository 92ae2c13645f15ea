"""A notebook's session: what the build hands a kernel, and the one record of what it read.

The build starts each notebook with one call, ``begin({...})``, holding the data folder, the
digest of the data it has validated already and the source date: an explicit message, not
environment variables that would outlive the build. Run in JupyterLab, no one calls it, and
the notebook reads the shipped ``data/``, validates it and dates the report as a build would.

Every access to an input goes through :func:`record` (the tables of
:class:`wgec.data.Tables`, the source text, the settings, the date, the tool versions), so
the build can ask the kernel afterwards, with :func:`report`, exactly what the notebook
used: it runs again when one of those inputs changed, and only then.
"""

from __future__ import annotations

import sys
from pathlib import Path

_RECORD: set[str] = set()
_GIVEN: dict = {}
_STARTS = [0]  # how many notebooks this kernel has begun (the build runs several in one kernel)


def begin(message: dict | None = None) -> None:
    """Start a notebook: forget what was read before, and take the build's message
    (``data_dir``, ``validated``: the data's digest, ``source_epoch``: seconds)."""
    _RECORD.clear()
    _GIVEN.clear()
    _GIVEN.update(message or {})
    _STARTS[0] += 1


def started() -> int:
    """Which notebook of this kernel is running (0 in JupyterLab, where no one calls :func:`begin`):
    what a notebook numbers (its footnotes) starts again at each one, so its outputs are the same
    whichever notebooks the kernel ran before."""
    return _STARTS[0]


def record(key: str) -> None:
    """Note one input as read: ``table:NAME``, ``file:PATH`` (in the data folder), a project
    file's name, ``source-date`` or ``tools``."""
    _RECORD.add(key)


def report() -> dict:
    """What this session read, and the files of every ``wgec`` module it imported."""
    modules = sorted(
        m.__file__
        for n, m in list(sys.modules.items())
        if (n == "wgec" or n.startswith("wgec.")) and getattr(m, "__file__", None)
    )
    return {"reads": sorted(_RECORD), "modules": modules}


def data_dir() -> Path | None:
    """The data folder the build named, if any."""
    given = _GIVEN.get("data_dir")
    return Path(given) if given else None


def validated() -> str | None:
    """The digest of the data files the build has validated (the kernel need not again)."""
    return _GIVEN.get("validated")


def source_epoch() -> int | None:
    """The build's source date, in seconds since 1970 (UTC)."""
    return _GIVEN.get("source_epoch")
