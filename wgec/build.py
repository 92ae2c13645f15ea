"""Build the report: the HTML book with Jupyter Book 1, strictly.

Each build goes to a fresh staging folder inside the output directory and replaces the
previous ``html/`` only when it succeeded, so a failed build leaves the last good book
untouched and no file of an older build lingers.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import config, data, paths


class BuildError(RuntimeError):
    user_facing = True


def html(data_dir=None, out=None, quiet: bool | None = None) -> Path:
    """Build the HTML book from ``data_dir`` into ``out/html``; returns that folder."""
    from jupyter_book.sphinx import build_sphinx

    data_path = paths.data_dir(data_dir)
    data.load(data_path)  # a data error stops here, with its message, before Sphinx starts
    config.document()  # so does a configuration error
    out = Path(out or paths.BUILD_DIR).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if quiet is None:
        quiet = not sys.stdout.isatty()  # progress on a terminal, quiet in CI logs
    staging = Path(tempfile.mkdtemp(prefix=".staging-html-", dir=out))
    os.environ[paths.DATA_ENV] = str(data_path)  # the notebooks' kernels read it
    try:
        status = build_sphinx(
            paths.ROOT, staging / "html", path_config=paths.CONFIG_FILE, doctreedir=staging / ".doctrees",
            noconfig=True, confoverrides={"nitpicky": True, "latex_individualpages": False},
            warningiserror=True, keep_going=True, builder="html", freshenv=True, quiet=quiet,
        )
        if status != 0:
            raise BuildError(f"the HTML build failed (see the messages above); {out / 'html'} was left as it was")
        replace(staging / "html", out / "html")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / "html"


def replace(new: Path, target: Path) -> None:
    """Put ``new`` in the place of ``target`` with two renames (no half-written folder is ever seen)."""
    old = target.with_name(f".old-{target.name}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
