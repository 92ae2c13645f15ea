"""Build the report: refresh the notebooks, then the HTML book and the PDF, atomically.

- **Refresh** (:mod:`wgec.refresh`): exactly the notebooks whose inputs changed run
  again, in parallel, into Jupyter Book's execution cache; Sphinx only reads from it.
- **Up to date**: when no input changed and every output is intact (hashes in
  ``manifest.json``), the build returns at once, without starting Sphinx or Typst.
- **Incremental**: Sphinx keeps its environment in ``OUT/.work`` and re-reads only the
  pages whose notebook was refreshed or whose source changed; the HTML and singlehtml
  builders share it, so each notebook is read once.
- **Atomic**: outputs are assembled in a staging folder and swapped in at the end; a
  failed or interrupted build leaves the last good ``html/`` and PDFs as they were, and
  marks the work folder for a clean start next time. A lock refuses a second build of
  the same output folder while one is running.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import threading
import tempfile
from importlib import metadata
from pathlib import Path

from . import paths
from .refresh import sha256 as _sha

PDF_NAME = "wgec-report.pdf"
ARCHIVAL_NAME = "wgec-report-archival.pdf"
DOCX_NAME = "wgec-report.docx"
LATEX_NAME = "wgec-report-latex.pdf"  # the LaTeX edition (wgec/latex.py)
# The editions built on request, and the command that brings each up to date (`make` builds the rest).
ON_REQUEST = {"docx": "make docx` (or `wgec docx", "latex": "make pdf-latex` (or `wgec pdf --engine latex"}
MANIFEST = "manifest.json"
TOOLS = ("jupyter-book", "sphinx", "myst-nb", "matplotlib", "pandas", "frictionless", "typst",
         "openpyxl", "pypandoc-binary")
PROJECT_GLOBS = ("_config.yml", "_toc.yml", "notebooks/*.md", "book/**/*", "wgec/*.py", "wgec/editions/*",
                 "wgec/docx.*", "wgec/reference.docx", "requirements.lock")


class BuildError(RuntimeError):
    user_facing = True


def _say(message: str) -> None:
    print(f"wgec: {message}", file=sys.stderr, flush=True)


# --- fingerprints -------------------------------------------------------------------

def inputs(data_path: Path) -> dict[str, str]:
    """Every input of the build: the data files and the project's own files, with SHA-256."""
    found = {}
    base = data_path.resolve()
    for path in sorted(data_path.rglob("*")):
        rel = path.relative_to(data_path)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            # A link out of the data directory is never up to date: the validation refuses it.
            inside = path.resolve().is_relative_to(base)
            found[f"data/{rel.as_posix()}"] = _sha(path) if inside else "outside the data directory"
    for pattern in PROJECT_GLOBS:
        for path in sorted(paths.ROOT.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                found[path.relative_to(paths.ROOT).as_posix()] = _sha(path)
    return found


def tools() -> dict[str, str]:
    """The versions of the tools that make the outputs (recorded in the manifest and annex)."""
    from . import config

    config.READS.add("tools")
    return {name: metadata.version(name) for name in TOOLS} | {"python": sys.version.split()[0]}


def _digest(state: dict) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def _state(data_path: Path, variant: str) -> dict:
    from . import config

    return {"inputs": inputs(data_path), "tools": tools(), "variant": variant,
            "source_date": config.source_date().date().isoformat()}


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stale_outputs(data_path: Path, out: Path, wanted=("html", "pdf", "archival"),
                  variant: str = "pdf/ua-1") -> tuple[list[str], list[str]]:
    """(stale or missing outputs, inputs changed since they were built) for ``out``."""
    return _stale(out, _state(data_path, variant), wanted)


def _stale(out: Path, state: dict, wanted) -> tuple[list[str], list[str]]:
    manifest = read_manifest(out) or {}
    digest = _digest(state)
    stale, changed = [], []
    built = manifest.get("outputs", {})
    for kind in wanted:
        files = {name: entry for name, entry in built.items() if entry.get("kind") == kind}
        if not files or any(e.get("state") != digest for e in files.values()):
            stale.append(kind)
            continue
        for name, entry in files.items():
            target = out / name
            if not target.is_file() or _sha(target) != entry["sha256"]:
                stale.append(kind)
                break
    old = manifest.get("inputs", {})
    changed = sorted(k for k in set(old) | set(state["inputs"]) if old.get(k) != state["inputs"].get(k))
    if manifest.get("tools") and manifest["tools"] != state["tools"]:
        changed.append("tool versions")
    return stale, changed


# --- locking and the work folder ----------------------------------------------------

@contextlib.contextmanager
def _lock(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / ".lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BuildError(f"another build of {out} is running; wait for it to finish") from None
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _work(out: Path, data_path: Path, cache: Path, inputs_now: dict[str, str]) -> tuple[Path, dict]:
    """Sphinx's incremental work folder; wiped when it may not match (code changed, failed build)."""
    work = out / ".work"
    stamp = work / "stamp.json"
    code = {k: v for k, v in inputs_now.items() if not k.startswith(("data/", "notebooks/"))}
    expected = {"code": _digest(code), "data_dir": str(data_path), "cache": str(cache)}
    try:
        current = json.loads(stamp.read_text())
    except (OSError, ValueError):
        current = None
    if current != expected:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)  # written again only when this build succeeds
    return work, expected


def _sphinx(builder: str, work: Path, cache: Path, quiet: bool) -> None:
    from jupyter_book.sphinx import build_sphinx

    status = build_sphinx(
        paths.ROOT, work / builder, path_config=paths.CONFIG_FILE, doctreedir=work / "doctrees", noconfig=True,
        confoverrides={"nitpicky": True, "latex_individualpages": False, "nb_execution_mode": "cache",
                       "nb_execution_cache_path": str(cache / "jupyter_cache"),
                       # _config.yml's html.use_download_button does not reach the theme in Jupyter
                       # Book 1 (jupyter-book#1186): each page linked to a source it does not copy.
                       "html_theme_options": {"use_download_button": False}},
        warningiserror=True, keep_going=True, builder=builder, freshenv=False, quiet=quiet,
    )
    if status != 0:
        raise BuildError(f"the {builder} build failed (see the messages above)")


# --- the build ----------------------------------------------------------------------

def build(data_dir=None, out=None, html: bool = True, pdf: bool = True, archival: bool = False,
          variant: str = "pdf/ua-1", quiet: bool | None = None, jobs: int | None = None,
          docx: bool = False, latex: bool = False) -> dict:
    """Build the requested outputs from ``data_dir`` into ``out``; returns a summary."""
    data_path = paths.data_dir(data_dir)
    out = Path(out or paths.BUILD_DIR).resolve()
    wanted = [k for k, on in (("html", html), ("pdf", pdf), ("archival", archival), ("docx", docx),
                              ("latex", latex)) if on]
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: expected an output folder, but this is a file")
    if quiet is None:
        quiet = not sys.stdout.isatty()  # progress on a terminal, quiet in CI logs
    with _lock(out), _interruptible():
        state = _state(data_path, variant)
        stale, _ = _stale(out, state, wanted) if data_path.is_dir() else (wanted, [])
        if not stale:
            return {"up_to_date": True, "executed": [], "written": {}}
        return _build(data_path, out, wanted, variant, quiet, jobs, state)


_INTERRUPTED: list[int] = []


@contextlib.contextmanager
def _interruptible():
    """Ctrl-C (or SIGTERM) stops the build at the next step boundary, before anything is
    swapped in. (A KeyboardInterrupt raised anywhere can be swallowed by a library's
    clean-up code; a flag checked between the steps cannot.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _INTERRUPTED.clear()
    previous = {sig: signal.signal(sig, lambda signum, frame: _INTERRUPTED.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _checkpoint() -> None:
    if _INTERRUPTED:
        raise KeyboardInterrupt


def _build(data_path: Path, out: Path, wanted: list[str], variant: str, quiet: bool, jobs, state: dict) -> dict:
    import time

    from . import config, data, refresh

    started = time.monotonic()

    def step(what: str) -> None:  # progress on a terminal: each step and the time so far
        if not quiet:
            _say(f"{what} ({time.monotonic() - started:.1f} s)")

    for leftover in [*out.glob(".staging-*"), *out.glob(".old-*")]:  # from a build that was killed
        shutil.rmtree(leftover, ignore_errors=True)

    tables = data.load(data_path)  # a data error stops here, with its message, before anything runs
    data_digest = data.digest(data_path, tables.descriptor)
    os.environ[data.VALIDATED_ENV] = data_digest  # kernels need not validate again
    settings = config.document()  # so does a configuration error
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(int(config.source_date().timestamp())))
    cache = out / ".cache"
    step("data valid")
    report = refresh.refresh(data_path, cache, jobs=jobs, verbose=not quiet, descriptor=tables.descriptor)
    step(f"notebooks refreshed: {len(report.executed)} executed, {len(report.reused)} up to date")
    _checkpoint()
    work, stamp = _work(out, data_path, cache, state["inputs"])
    os.environ[paths.DATA_ENV] = str(data_path)
    docs = {p.stem: f"notebooks/{p.stem}" for p in refresh.notebooks()}
    os.environ["WGEC_REFRESHED"] = ",".join(docs[name] for name in report.executed)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    manifest = read_manifest(out) or {}
    outputs = manifest.get("outputs", {})
    digest = _digest(state)
    try:
        if "html" in wanted:
            _sphinx("html", work, cache, quiet)
            step("HTML built")
            _checkpoint()
            shutil.copytree(work / "html", staging / "html", ignore=shutil.ignore_patterns(".buildinfo*"))
            from . import downloads

            downloads.write(data_path, tables.descriptor, staging / "html" / downloads.FOLDER)
            step("data downloads written")
        if {"pdf", "archival", "docx"} & set(wanted):
            from .editions import typst as typeset  # the singlehtml build writes its Typst source

            typeset.forget(work)
            _sphinx("singlehtml", work, cache, quiet)
            step("single page built")
            _checkpoint()
            date = config.document_date(settings)
            title = config.book_config().get("title", "")
        if "docx" in wanted:  # the Word edition: the same print document, through pandoc
            from . import docx as word

            document = word.assemble(work / "singlehtml", settings, title, date)

            word.write(document, work, staging / "docx" / DOCX_NAME, date)
            step("Word edition written")
            _checkpoint()
        if "pdf" in wanted or "archival" in wanted:
            targets = []
            if "pdf" in wanted:
                targets.append((staging / "pdf" / PDF_NAME, variant, []))
            if "archival" in wanted:
                files = [(data_path / r["path"], r["path"]) for r in tables.descriptor["resources"]]
                files.append((data_path / data.DESCRIPTOR, data.DESCRIPTOR))
                targets.append((staging / "pdf" / ARCHIVAL_NAME, "pdf/a-3b", files))
            typeset.render_all(work, targets, settings, title, date)  # Typst, from OUT/.work/typst
            step("PDF typeset")
        if "latex" in wanted:
            from . import latex as tex

            _sphinx("latex", work, cache, quiet)
            step("LaTeX written")
            _checkpoint()
            tex.typeset(work / "latex", staging / "pdf" / LATEX_NAME, data_path)
            step("LaTeX edition typeset")
        _checkpoint()
        if "html" in wanted:  # gate: every link and anchor of the site resolves (offline, ~0.1 s)
            from . import links

            broken = links.check(staging, elsewhere=out, pdf=False).broken
            if broken:
                raise BuildError(f"{len(broken)} broken links; the previous output is unchanged:\n"
                                 + links.describe(broken))
        # Everything built: swap the outputs in, then record them.
        if "html" in wanted:
            _replace(staging / "html", out / "html")
            outputs = {k: v for k, v in outputs.items() if v.get("kind") != "html"}
            record = json.loads((cache / refresh.RECORD).read_text())
            for path in sorted((out / "html").rglob("*")):
                if path.is_file():
                    name = path.relative_to(out).as_posix()
                    outputs[name] = {"kind": "html", "sha256": _sha(path), "state": digest,
                                     "from": _page_inputs(name, record, docs, tables.descriptor)}
        for kind, folder, name in (("pdf", "pdf", PDF_NAME), ("archival", "pdf", ARCHIVAL_NAME),
                                   ("docx", "docx", DOCX_NAME), ("latex", "pdf", LATEX_NAME)):
            if kind in wanted:
                (out / folder).mkdir(exist_ok=True)
                os.replace(staging / folder / name, out / folder / name)
                outputs[f"{folder}/{name}"] = {"kind": kind, "sha256": _sha(out / folder / name), "state": digest,
                                               "from": ["*"]}
        edition = {"symbol": settings["symbol"], "date": config.document_date(settings).isoformat(),
                   "data_sha256": data_digest}  # what the front page says (wgec.narrative.edition)
        _write_json(out / MANIFEST, {"source_date": state["source_date"], "tools": state["tools"], "edition": edition,
                                     "inputs": state["inputs"], "outputs": outputs,
                                     "last_refresh": {"executed": report.executed, "reused": report.reused,
                                                      "why": report.why}})
        _write_json(work / "stamp.json", stamp)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    where = {"html": out / "html" / "index.html", "pdf": out / "pdf" / PDF_NAME, "archival": out / "pdf" / ARCHIVAL_NAME,
             "docx": out / "docx" / DOCX_NAME, "latex": out / "pdf" / LATEX_NAME}
    return {"up_to_date": False, "executed": report.executed, "written": {k: where[k] for k in wanted}}


def _page_inputs(name: str, record: dict, docs: dict, descriptor: dict) -> list[str]:
    """The inputs a page of the book came from: its notebook and the data it read; else all."""
    stem = Path(name).stem
    if not name.startswith("html/notebooks/") or stem not in docs:
        return ["*"]
    record = record.get(f"{stem}.md", {})
    used = [f"notebooks/{stem}.md"]
    files = {r["name"]: r["path"] for r in descriptor["resources"]}
    for key in record.get("inputs", {}):
        kind, _, rest = key.partition(":")
        if kind == "table":
            used.append(f"data/{files.get(rest, rest)}")
        elif kind == "file":
            used.append(f"data/{rest}")
        elif kind == "module":
            used.append(f"wgec/{Path(rest).name}")
        else:
            used.append(key)
    return sorted(set(used))


def _write_json(path: Path, content: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _replace(new: Path, target: Path) -> None:
    """Put ``new`` in the place of ``target`` with two renames (no half-written folder is ever seen)."""
    old = target.with_name(f".old-{target.name}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
