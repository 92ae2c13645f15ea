"""Every path the project uses, anchored on this file (one place, no guessing from the cwd)."""

from __future__ import annotations

import os
from pathlib import Path

# The project folder: this checkout, or another one named by $WGEC_PROJECT (the benchmark
# builds scaled copies of the report that way).
ROOT = Path(os.environ.get("WGEC_PROJECT") or Path(__file__).resolve().parent.parent).resolve()
DATA_DIR = ROOT / "data"
BUILD_DIR = ROOT / "_build"
CONFIG_FILE = ROOT / "_config.yml"
TOC_FILE = ROOT / "_toc.yml"

# The book's notebooks read their data from here; `wgec html --data DIR` sets it.
DATA_ENV = "WGEC_DATA"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory: an explicit argument, else $WGEC_DATA, else the shipped data/."""
    if override is not None:
        return Path(override).resolve()
    env = os.environ.get(DATA_ENV)
    return Path(env).resolve() if env else DATA_DIR
