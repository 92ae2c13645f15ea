"""Every path and output name the project uses, anchored on this file (one place, no guessing
from the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

# The project folder: this checkout, or another one named by $WGEC_PROJECT (the benchmark
# builds scaled copies of the report that way).
ROOT = Path(os.environ.get("WGEC_PROJECT") or Path(__file__).resolve().parent.parent).resolve()
# The package's own folder: an input of every build wherever the project is (the benchmark's
# copies hold no package of their own).
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
BUILD_DIR = ROOT / "_build"
CONFIG_FILE = ROOT / "_config.yml"
TOC_FILE = ROOT / "_toc.yml"
NOTEBOOKS_DIR = ROOT / "notebooks"

# What a build writes, relative to its output folder (the site keeps the same layout).
PDF_NAME = "wgec-report.pdf"
ARCHIVAL_NAME = "wgec-report-archival.pdf"
DOCX_NAME = "wgec-report.docx"
LATEX_NAME = "wgec-report-latex.pdf"  # the LaTeX edition (wgec.editions.latex)
MANIFEST = "manifest.json"
DOWNLOADS = "data"  # the data downloads, inside the HTML output: OUT/html/data/
WORKBOOK = "wgec-report-data.xlsx"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory: the one named (resolved), else the shipped data/."""
    return Path(override).resolve() if override is not None else DATA_DIR
