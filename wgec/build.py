"""Build the report: the HTML book (Jupyter Book 1, strictly)."""

from __future__ import annotations

import os
from pathlib import Path

from . import data, paths


class BuildError(RuntimeError):
    user_facing = True


def html(data_dir=None, out=None) -> Path:
    """Build the HTML book from ``data_dir`` into ``out/html``; returns that folder."""
    from jupyter_book.sphinx import build_sphinx

    data_path = paths.data_dir(data_dir)
    data.load(data_path)  # a data error stops here, with its message, before Sphinx starts
    out = Path(out or paths.BUILD_DIR).resolve()
    target = out / "html"
    os.environ[paths.DATA_ENV] = str(data_path)
    status = build_sphinx(
        paths.ROOT, target, path_config=paths.CONFIG_FILE, doctreedir=out / ".doctrees",
        confoverrides={"nitpicky": True, "latex_individualpages": False}, warningiserror=True, keep_going=True, builder="html", noconfig=True,
        freshenv=True,
    )
    if status != 0:
        raise BuildError(f"the HTML build failed (see the messages above); {target} was not updated")
    return target
