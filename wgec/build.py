"""Build the report: the HTML book (Jupyter Book 1, strictly) and the PDF (WeasyPrint).

One build reads and executes the notebooks once: the HTML builder and, for the PDF, the
singlehtml builder share the same Sphinx environment. Everything is built in a fresh
staging folder inside the output directory; the previous ``html/`` and ``pdf/`` are
replaced only when the whole build succeeded, so a failed build leaves the last good
outputs untouched and no file of an older build lingers.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import config, data, paths

PDF_NAME = "wgec-report.pdf"
ARCHIVAL_NAME = "wgec-report-archival.pdf"


class BuildError(RuntimeError):
    user_facing = True


def _sphinx(builder: str, outdir: Path, doctrees: Path, fresh: bool, quiet: bool) -> None:
    from jupyter_book.sphinx import build_sphinx

    status = build_sphinx(
        paths.ROOT, outdir, path_config=paths.CONFIG_FILE, doctreedir=doctrees, noconfig=True,
        confoverrides={"nitpicky": True, "latex_individualpages": False},
        warningiserror=True, keep_going=True, builder=builder, freshenv=fresh, quiet=quiet,
    )
    if status != 0:
        raise BuildError(f"the {builder} build failed (see the messages above)")


def build(data_dir=None, out=None, html: bool = True, pdf: bool = True, archival: bool = False,
          variant: str = "pdf/ua-1", quiet: bool | None = None) -> dict[str, Path]:
    """Build the requested outputs from ``data_dir`` into ``out``; returns what was written."""
    data_path = paths.data_dir(data_dir)
    tables = data.load(data_path)  # a data error stops here, with its message, before Sphinx starts
    settings = config.document()  # so does a configuration error
    out = Path(out or paths.BUILD_DIR).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if quiet is None:
        quiet = not sys.stdout.isatty()  # progress on a terminal, quiet in CI logs
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    os.environ[paths.DATA_ENV] = str(data_path)  # the notebooks' kernels read it
    written: dict[str, Path] = {}
    try:
        doctrees = staging / ".doctrees"
        if html:
            _sphinx("html", staging / "html", doctrees, fresh=True, quiet=quiet)
        if pdf or archival:
            from . import pdf as typeset

            _sphinx("singlehtml", staging / "singlehtml", doctrees, fresh=not html, quiet=quiet)
            date = config.document_date(settings)
            title = config.book_config().get("title", "")
            document = typeset.assemble(staging / "singlehtml", settings, title, date)
            if pdf:
                typeset.render(document, staging, staging / "pdf" / PDF_NAME, settings, date, variant)
            if archival:
                files = [(data_path / r["path"], r["path"]) for r in tables.descriptor["resources"]]
                files.append((data_path / data.DESCRIPTOR, data.DESCRIPTOR))
                inside = staging / "attachments"
                inside.mkdir()
                copies = []
                for path, name in files:
                    shutil.copyfile(path, inside / name)
                    copies.append((inside / name, name))
                typeset.render(document, staging, staging / "pdf" / ARCHIVAL_NAME, settings, date,
                               "pdf/a-3b", attachments=copies)
        if html:
            replace(staging / "html", out / "html")
            written["html"] = out / "html" / "index.html"
        if (staging / "pdf").is_dir():
            (out / "pdf").mkdir(exist_ok=True)
            for made in sorted((staging / "pdf").iterdir()):
                os.replace(made, out / "pdf" / made.name)  # atomic per file
                written[made.stem] = out / "pdf" / made.name
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def replace(new: Path, target: Path) -> None:
    """Put ``new`` in the place of ``target`` with two renames (no half-written folder is ever seen)."""
    old = target.with_name(f".old-{target.name}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
