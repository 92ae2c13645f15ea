"""Publish the built report as a static site: copy it to any web server or GitHub Pages.

The site keeps the layout of the output folder, so every relative link of the book
works the same in both: ``html/`` (the book, with its data downloads in ``html/data/``),
``pdf/`` (the PDF and the archival PDF), ``manifest.json``, plus an ``index.html`` that
leads to the book, ``.nojekyll`` (GitHub Pages serves folders starting with ``_`` as they
are) and ``SHA256SUMS`` (``sha256sum -c SHA256SUMS`` checks every other file).

Publishing refuses when the outputs are missing or stale: the manifest must list the
HTML book, the PDF and the archival PDF, built from exactly the current inputs (data,
notebooks, configuration, code, tool versions), and every file must still have the
checksum the manifest recorded. That is enough to know the build's gates passed: a
build records and swaps in its outputs only when every step succeeded (Sphinx with
warnings as errors, the notebooks, the link check, the PDF), so a failed build leaves no
trace in the manifest. The Word and LaTeX editions, built on request, are published when
they are up to date too, and left out (and named) when they are stale. Publishing never
builds: ``make publish`` builds first.

The new site is assembled in a temporary folder next to the old one and put in its
place with two renames; on any failure the previous site is left as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from html import escape
from pathlib import Path

from .. import data, paths, settings
from ..data.downloads import files
from ..errors import PublishError
from ..files import replace_folder, sha256
from . import manifest
from .lock import lock

SITE = "site"  # the default site folder, inside the output folder: _build/site
SUMS = "SHA256SUMS"
KINDS = ("html", "pdf", "archival")


def default_site(out: Path) -> Path:
    return Path(out).resolve() / SITE


def promised(descriptor: dict) -> list[str]:
    """The files a published site must have, besides every other output of the build."""
    return [
        "html/index.html",
        f"pdf/{paths.PDF_NAME}",
        f"pdf/{paths.ARCHIVAL_NAME}",
        *(f"html/{paths.DOWNLOADS}/{f['name']}" for f in files(descriptor)),
    ]


def _check_place(site: Path, out: Path) -> None:
    if out.is_relative_to(site):
        raise PublishError(f"the site folder {site} would contain the build folder {out}; choose another")
    if site.is_relative_to(out) and site.relative_to(out).parts[0] in ("html", "pdf", "docx", ".work", ".cache"):
        raise PublishError(f"the site folder {site} is inside the build's own outputs; choose another")
    if site.exists() and not site.is_dir():
        raise PublishError(f"{site} exists and is not a folder")
    if site.is_dir() and any(site.iterdir()) and not (site / SUMS).is_file():
        raise PublishError(
            f"{site} is not empty and is not a site `wgec publish` wrote (it has no {SUMS}); refusing to replace it"
        )


def sums_line(digest: str, name: str) -> str:
    """One line as `sha256sum` writes it (names with a backslash or newline are escaped)."""
    if "\\" in name or "\n" in name:
        return "\\" + digest + "  " + name.replace("\\", "\\\\").replace("\n", "\\n")
    return f"{digest}  {name}"


def _front(title: str) -> str:
    title = escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{title}</title>\n<meta http-equiv="refresh" content="0; url=html/index.html">\n'
        "</head>\n<body>\n<main>\n"
        f'<p><a href="html/index.html">{title}</a> (<a href="pdf/{paths.PDF_NAME}">PDF</a>)</p>\n'
        "</main>\n</body>\n</html>\n"
    )


def publish(data_dir=None, out=None, site=None) -> dict:
    """Copy the up-to-date outputs of ``out`` into the static site ``site``; return a summary."""
    data_path = paths.data_dir(data_dir)
    out = Path(out or paths.BUILD_DIR).resolve()
    site = Path(site).resolve() if site else default_site(out)
    _check_place(site, out)
    tables = data.load(data_path)  # the data must be valid (a DataError names every problem)
    if manifest.read(out) is None:
        raise PublishError(f"nothing to publish: no build in {out}; run `make publish` (it builds first)")
    with lock(out):
        outputs = (manifest.read(out) or {}).get("outputs", {})
        # The Word and LaTeX editions are built on request; one built before the last change
        # of an input is stale and stays out of the site (a site never serves a stale file).
        extras = sorted({entry.get("kind") for entry in outputs.values()} - set(KINDS))
        stale, changed = manifest.stale_outputs(data_path, out, (*KINDS, *extras))
        left_out = [kind for kind in stale if kind in extras]
        stale = [kind for kind in stale if kind not in extras]
        if stale:
            message = f"the outputs in {out} are stale or missing ({', '.join(stale)})"
            if changed:
                message += f"; changed since the last build: {', '.join(changed)}"
            raise PublishError(message + "; nothing was published. Run `make publish` (it builds first)")
        outputs = {name: entry for name, entry in outputs.items() if entry.get("kind") not in left_out}
        missing = [name for name in promised(tables.descriptor) if name not in outputs]
        if missing:
            raise PublishError(f"the build in {out} lacks {', '.join(missing)}; run `make publish`")
        site.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{site.name}-new-", dir=site.parent))
        try:
            for name in sorted(outputs):
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(out / name, target)
                if sha256(target) != outputs[name]["sha256"]:
                    raise PublishError(f"{out / name} changed while it was being published; try again")
            shutil.copyfile(out / paths.MANIFEST, staging / paths.MANIFEST)
            (staging / "index.html").write_text(_front(settings.book_config().get("title", "")), encoding="utf-8")
            (staging / ".nojekyll").write_bytes(b"")
            # The copies were just checked against the manifest: only the files written here are hashed.
            digests = {name: entry["sha256"] for name, entry in outputs.items()}
            for name in (paths.MANIFEST, "index.html", ".nojekyll"):
                digests[name] = sha256(staging / name)
            names = sorted(digests)
            (staging / SUMS).write_text("".join(sums_line(digests[n], n) + "\n" for n in names), encoding="utf-8")
            staging.chmod(0o755)  # mkdtemp makes it private; a web server must read it
            replace_folder(staging, site)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    return {"site": site, "files": len(names) + 1, "bytes": size, "left_out": left_out}
