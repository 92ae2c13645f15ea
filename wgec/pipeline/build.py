"""Build the report: refresh the notebooks, then the HTML book and the PDF, atomically.

The build is the table :data:`STEPS`: each step has a name, the outputs that need it, what
it writes and its function; one loop runs the steps a build needs, in order, and handles
progress, timing and interruption once.

- **Refresh** (:mod:`wgec.book.execute`): exactly the notebooks whose inputs changed run
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
import functools
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from .. import paths, settings
from ..errors import BuildError
from ..files import copy_tree, replace_folder, sha256, write_json
from . import manifest
from .lock import checkpoint, interruptible, lock

ENV_PICKLE = "environment.pickle"  # Sphinx's environment, in OUT/.work/doctrees
STAMP = "stamp.json"  # in OUT/.work: what the work folder was built from, written when a build succeeds
# The editions built on request, and the command that brings each up to date (`make` builds the rest).
ON_REQUEST = {"docx": "make docx` (or `wgec docx", "latex": "make pdf-latex` (or `wgec pdf --engine latex"}
# Each kind of output and the file it is (the HTML book is a folder).
OUTPUT_FILES = {
    "pdf": f"pdf/{paths.PDF_NAME}",
    "archival": f"pdf/{paths.ARCHIVAL_NAME}",
    "docx": f"docx/{paths.DOCX_NAME}",
    "latex": f"pdf/{paths.LATEX_NAME}",
}


def _say(message: str) -> None:
    print(f"wgec: {message}", file=sys.stderr, flush=True)


@dataclass
class Run:
    """One build: what it was asked for, and what its steps have made so far."""

    data_path: Path
    out: Path
    wanted: list[str]
    variant: str
    quiet: bool
    jobs: int | None
    state: dict
    staging: Path | None = None
    tables: object = None
    data_digest: str = ""
    document_settings: dict = field(default_factory=dict)
    cache: Path | None = None
    work: Path | None = None
    stamp: dict = field(default_factory=dict)
    report: object = None
    docs: dict = field(default_factory=dict)
    executions: dict = field(default_factory=dict)  # page -> the digest of its notebook's run in the cache
    title: str = ""  # the book's title, for the print editions
    date: object = None
    concordance: dict = field(default_factory=dict)  # the figures of the check (wgec.book.concordance)
    early: bool = False  # the build started warm kernels before validating (_kernels_early)
    apps: dict = field(default_factory=dict)  # builder -> (Sphinx application, its contexts), set up early (_prepare)
    refreshing: Refreshing | None = None  # the notebooks' refresh, until the first Sphinx build has read the pages
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # closed when the build ends


@dataclass(frozen=True)
class Step:
    name: str  # as the progress line shows it
    needs: frozenset[str]  # the outputs that need this step (empty: every build)
    writes: str  # what it leaves behind, for the reader
    run: Callable[[Run], str | None]  # returns a progress line, or None for the name
    # Runs in a thread beside the steps after it, and is waited for before the outputs are
    # swapped in: a step whose work mostly holds no lock of Python's (Typst's compiler releases
    # it; the downloads are written in a warm worker when there is one) and whose outputs only
    # steps marked ``waits`` read.
    alongside: bool = False
    waits: bool = False  # starts once the steps running alongside have ended (it reads what they write)
    # Runs in a warm worker when there is one: the kernels this build started are let go once it
    # has run (_let_go), or once the notebooks have when no such step is wanted.
    in_worker: bool = False

    def wanted(self, run: Run) -> bool:
        return not self.needs or bool(self.needs & set(run.wanted))


# --- the steps ------------------------------------------------------------------------


def _validate(run: Run) -> None:
    """A data or configuration error stops the build here, with its message, before anything runs."""
    from .. import data

    run.tables = data.load(run.data_path, memo=run.out / ".cache" / "validated.json")
    run.data_digest = data.digest(run.data_path, run.tables.descriptor)
    run.document_settings = settings.document()
    run.date = settings.document_date(run.document_settings)
    run.cache = run.out / ".cache"


class Refreshing:
    """The notebooks' refresh, running in a thread while the first Sphinx build reads the
    pages: each page whose notebook runs is read as soon as that run is kept (in the order the
    runs are expected to finish), the others at once. Sphinx reading a page costs this process
    what a kernel running a notebook costs another core; read one after the other, the pages
    waited for the slowest notebook. Sphinx asks :meth:`order` and :meth:`wait` (wgec.book.sphinx_ext)."""

    def __init__(self, docs: dict[str, str]):
        self.docs = docs  # notebook -> its page
        self.changed = threading.Condition()
        self.expected: list[str] | None = None  # the pages whose notebooks run, as they should finish
        self.kept: dict[str, str | None] = {}  # page -> the digest of its notebook's run (None: it failed)
        self.finished = False
        self.error: BaseException | None = None
        self.report = None
        self.thread: threading.Thread | None = None
        self.interrupted = False  # Ctrl-C came while Sphinx waited for a notebook

    def start(self, refresh: Callable) -> None:
        """``refresh(planned, each)`` in a thread; returns once it knows which notebooks run."""

        def body() -> None:
            try:
                self.report = refresh(self.planned, self.each)
            except BaseException as exc:  # raised by :meth:`join`, in the build's thread
                self.error = exc
            finally:
                with self.changed:
                    self.finished = True
                    self.changed.notify_all()

        self.thread = threading.Thread(target=body, name="wgec-refresh", daemon=True)
        self.thread.start()
        with self.changed:
            self.changed.wait_for(lambda: self.expected is not None or self.finished)
        if self.expected is None:
            self.join()  # the refresh failed before any notebook ran: its error, here
            self.expected = []

    def planned(self, names: list[str]) -> None:
        with self.changed:
            self.expected = [self.docs[n] for n in names if n in self.docs]
            self.changed.notify_all()

    def each(self, name: str, digest: str | None) -> None:
        with self.changed:
            self.kept[self.docs.get(name, name)] = digest
            self.changed.notify_all()

    @property
    def pending(self) -> set[str]:
        """The pages whose notebooks run in this refresh (each is read again)."""
        return set(self.expected or ())

    def order(self, docnames: list[str]) -> None:
        """``docnames`` sorted in place: the pages that wait for no notebook first, then the
        others as their notebooks should finish."""
        position = {doc: n for n, doc in enumerate(self.expected or ())}
        docnames.sort(key=lambda doc: (doc in position, position.get(doc, 0)))

    def wait(self, docname: str) -> str | None:
        """Once the notebook of ``docname`` is kept: the digest of its run (None for a page whose
        notebook does not run). Raises the refresh's error when that notebook failed, once every
        notebook has finished (the error names them all)."""
        if docname not in self.pending:
            return None
        with self.changed:
            while not self.changed.wait_for(lambda: docname in self.kept or self.finished, timeout=0.2):
                try:
                    checkpoint()  # Ctrl-C is not kept waiting
                except KeyboardInterrupt:
                    self.interrupted = True  # while only pages were read (wgec.pipeline.build._sphinx)
                    raise
        if self.kept.get(docname) is None:
            try:
                self.join()
            except BaseException as exc:  # the refresh's own error (a notebook failed, a kernel died)
                raise _NotebookFailed(exc) from None
            raise _NotebookFailed(BuildError(f"{docname}: its notebook's run was not kept"))
        return self.kept[docname]

    def join(self):
        """The refresh's report, once it has ended; its error, raised here. Ctrl-C is not kept waiting."""
        while self.thread is not None and self.thread.is_alive():
            self.thread.join(timeout=0.2)
            checkpoint()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.report


def _refresh(run: Run) -> str:
    """The stale notebooks start running (:class:`Refreshing`); meanwhile the first Sphinx
    build's application is set up (most of a second of this process, which would otherwise
    wait for the kernels), and the first Sphinx build reads each page as its notebook is done."""
    from ..book import execute

    run.work, run.stamp = _work(run.out, run.data_path, run.cache, run.state["inputs"])
    run.docs = {p.stem: f"notebooks/{p.stem}" for p in execute.notebooks()}
    run.executions = {run.docs[n]: digest for n, digest in execute.executions(run.cache).items() if n in run.docs}
    before = manifest.files(run.state["inputs"], run.data_path)
    execute.import_modules()  # here, not in the refresh's thread while Sphinx imports them too
    refreshing = Refreshing(run.docs)
    run.cleanup.callback(_joined, refreshing)  # a build that fails still records what ran
    refreshing.start(
        lambda planned, each: execute.refresh(
            run.data_path,
            run.cache,
            jobs=run.jobs,
            verbose=not run.quiet,
            descriptor=run.tables.descriptor,
            validated=run.data_digest,
            before=before,
            planned=planned,
            each=each,
        )
    )
    run.refreshing = refreshing
    # The first Sphinx build's application (the single page's when there is one).
    first = "singlehtml" if _PRINT & set(run.wanted) else "html" if "html" in run.wanted else None
    if first is not None:
        run.apps[first] = _prepare(first, run, _configs(run).get(first))
        run.cleanup.callback(run.apps[first][1].close)  # if it is never built (a notebook failed)
    else:
        _refreshed(run)
    return f"notebooks refreshing: {len(refreshing.pending)} to run"


def _joined(refreshing: Refreshing) -> None:
    with contextlib.suppress(BaseException):  # the build's own error is the one to show
        refreshing.join()


def _refreshed(run: Run) -> None:
    """The refresh ended (its error raised here); what it ran, and each page's present run (the
    runs it kept, over those the build began with)."""

    refreshing, run.refreshing = run.refreshing, None
    if refreshing is None:
        return
    run.report = refreshing.join()
    if not any(step.in_worker and step.wanted(run) for step in STEPS):
        _let_go(run)
    run.executions = {
        **run.executions,
        **{page: digest for page, digest in refreshing.kept.items() if digest is not None},
    }
    if not run.quiet:
        _say(f"notebooks refreshed: {len(run.report.executed)} executed, {len(run.report.reused)} up to date")


def _html(run: Run) -> None:
    _sphinx("html", run)
    # The pages and files that did not change are shared with the served book (out/html, only
    # ever replaced whole): what is staged is never rewritten in place.
    copy_tree(run.work / "html", run.staging / "html", like=run.out / "html", skip=lambda n: n.startswith(".buildinfo"))


def _downloads(run: Run) -> None:
    """The data package's downloads, staged beside the HTML book while it is built: in a warm
    worker when there is one (its kernels are idle by then: those of ``wgec preview``, or those
    this build started, let go once the downloads are written), on the core this process leaves
    free, and without openpyxl (and the numpy it imports) in this process: a quarter of a second
    of it, beside the HTML build."""
    from ..book import execute
    from ..editions import downloads

    folder = run.staging / "html" / paths.DOWNLOADS
    try:
        execute.in_worker(downloads.write, run.data_path, run.tables.descriptor, folder, settings.source_date())
    finally:
        _let_go(run)


def _let_go(run: Run) -> None:
    """The kernels started for this build stop while the book is built, once nothing of the
    build runs in their workers any more (the notebooks, then the steps marked ``in_worker``)."""
    from ..book import execute

    if run.early:
        execute.release()


def _single_page(run: Run) -> None:
    """The single page; its build also writes the report as Typst markup (wgec.editions.typst)."""
    from ..editions import typst

    typst.forget(run.work)
    _sphinx("singlehtml", run, _configs(run)["singlehtml"])
    run.title = settings.book_config().get("title", "")


def _configs(run: Run) -> dict[str, dict]:
    """What a builder's configuration adds for this build: only the Word edition reads the
    single page's HTML (without it the singlehtml builder only assembles the report)."""
    return {"singlehtml": {"wgec_single_page_html": "docx" in run.wanted}}


def _word(run: Run) -> None:
    """The Word edition: the single page as one print document, through pandoc."""
    from ..editions import docx

    document = docx.assemble(run.work / "singlehtml", run.document_settings, run.title, run.date)
    docx.write(document, run.work, run.staging / OUTPUT_FILES["docx"], run.date)


def _pdf(run: Run) -> None:
    """Typst sets both PDFs from OUT/.work/typst (the archival one with the data package attached)."""
    from .. import data
    from ..editions import typst

    targets = []
    if "pdf" in run.wanted:
        targets.append((run.staging / OUTPUT_FILES["pdf"], run.variant, []))
    if "archival" in run.wanted:
        files = [(run.data_path / r["path"], r["path"]) for r in run.tables.descriptor["resources"]]
        files.append((run.data_path / data.DESCRIPTOR, data.DESCRIPTOR))
        targets.append((run.staging / OUTPUT_FILES["archival"], "pdf/a-3b", files))
    typst.render_all(run.work, targets, run.document_settings, run.title, run.date)


def _latex(run: Run) -> None:
    from ..editions import latex

    _sphinx("latex", run)
    latex.typeset(run.work / "latex", run.staging / OUTPUT_FILES["latex"], run.data_path)


def _links(run: Run) -> None:
    """Gate: every link and anchor of the site resolves (offline, ~0.1 s)."""
    from . import links

    broken = links.check(run.staging, elsewhere=run.out, pdf=False, memo=run.cache / "links.json").broken
    if broken:
        raise BuildError(f"{len(broken)} broken links; the previous output is unchanged:\n" + links.describe(broken))


_PRINT = frozenset({"pdf", "archival", "docx"})
# The single page comes first, so that Typst lays out the PDFs on the other core while this
# one builds the HTML book (a second of a build's 2 cores that was spent waiting).
STEPS = (
    Step("data valid", frozenset(), "nothing (the validated tables, in memory)", _validate),
    Step("notebooks refreshed", frozenset(), "OUT/.cache: executed notebooks and what each read", _refresh),
    Step(
        "single page built", _PRINT, "the single page, and the report as Typst markup (OUT/.work/typst)", _single_page
    ),
    Step("PDF typeset", frozenset({"pdf", "archival"}), "the PDF and the archival PDF", _pdf, alongside=True),
    Step(
        "data downloads written",
        frozenset({"html"}),
        "html/data/: CSV, XLSX, datapackage.json",
        _downloads,
        alongside=True,
        in_worker=True,
    ),
    Step("HTML built", frozenset({"html"}), "the HTML book, staged", _html),
    Step("Word edition written", frozenset({"docx"}), OUTPUT_FILES["docx"], _word),
    Step("LaTeX edition typeset", frozenset({"latex"}), OUTPUT_FILES["latex"], _latex),
    # The gate reads the PDFs too: the HTML pages link to them.
    Step("links checked", frozenset({"html"}), "nothing (a gate)", _links, waits=True),
)


# --- the build ----------------------------------------------------------------------


def build(
    data_dir=None,
    out=None,
    html: bool = True,
    pdf: bool = True,
    archival: bool = False,
    variant: str = "pdf/ua-1",
    quiet: bool | None = None,
    jobs: int | None = None,
    docx: bool = False,
    latex: bool = False,
    locked: bool = False,
    warm: bool = False,
) -> dict:
    """Build the requested outputs from ``data_dir`` into ``out``; returns a summary.

    ``locked``: the caller holds :func:`~wgec.pipeline.lock.lock` on ``out`` already (the preview).
    ``warm``: every step runs even when the outputs are up to date (each finds nothing to do, and
    the outputs are written again with the same bytes), so that a long-lived process has loaded
    what a rebuild needs: the preview's first build, which otherwise returned at once when it
    started on a current book, and left its first rebuild after a save to import Sphinx, the
    data package's validator and Typst and to set up Sphinx for the first time (about 1.5 s
    more than the next ones)."""
    data_path = paths.data_dir(data_dir)
    out = Path(out or paths.BUILD_DIR).resolve()
    wanted = [
        k for k, on in (("html", html), ("pdf", pdf), ("archival", archival), ("docx", docx), ("latex", latex)) if on
    ]
    check_output_folder(out)
    if quiet is None:
        quiet = not sys.stdout.isatty()  # progress on a terminal, quiet in CI logs
    with contextlib.nullcontext() if locked else lock(out), interruptible(), _source_date():
        state = manifest.state(data_path, variant)
        stale, _ = manifest.stale(out, state, wanted) if data_path.is_dir() else (wanted, [])
        if not stale and not warm:
            return {"up_to_date": True, "executed": [], "written": {}}
        run = Run(data_path, out, wanted, variant, quiet, jobs, state)
        with _kernels_early(run):
            _run_steps(run)
    where = {"html": out / "html" / "index.html"} | {kind: out / name for kind, name in OUTPUT_FILES.items()}
    return {"up_to_date": False, "executed": run.report.executed, "written": {k: where[k] for k in wanted}}


def check_output_folder(out: Path) -> None:
    """The output folder is a folder, and not one that holds the project (the build would read
    its own outputs as sources, and write its folders among the project's files)."""
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: expected an output folder, but this is a file")
    if paths.ROOT.is_relative_to(out):
        raise BuildError(
            f"{out}: this folder holds the project ({paths.ROOT}), so it cannot be the output folder; "
            "choose one inside the project (such as _build, the default) or outside it"
        )


def _kernels_early(run: Run):
    """When notebooks will run, their kernels start now, and import what the notebooks import,
    while this process validates the data and loads Jupyter Book: a second or two of each
    kernel's start is no longer waited for. Not when warm kernels are there already (the preview)."""
    from ..book import execute

    if execute.warm():
        return contextlib.nullcontext()
    workers = execute.pending(run.data_path, run.out / ".cache", run.jobs)
    if not workers:
        return contextlib.nullcontext()
    run.early = True
    return execute.warm_kernels(workers, start=execute.warm_up_code)  # read in the workers, not here


@contextlib.contextmanager
def _source_date():
    """The build's date for the tools it runs (Sphinx, xelatex, the kernels), for this build only."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    if before is None:
        os.environ["SOURCE_DATE_EPOCH"] = str(int(settings.source_date().timestamp()))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def _run_steps(run: Run) -> None:
    """Every step the build needs, in order; then the outputs swapped in and recorded."""
    started = time.monotonic()
    for leftover in [*run.out.glob(".staging-*"), *run.out.glob(".old-*")]:  # from a build that was killed
        shutil.rmtree(leftover, ignore_errors=True)
    run.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=run.out))
    beside = run.cleanup.enter_context(ThreadPoolExecutor(max_workers=2, thread_name_prefix="wgec-step"))
    running = []  # the steps started alongside, and their futures

    def done(step: Step, said: str | None) -> None:
        if not run.quiet:  # progress on a terminal: each step and the time so far
            _say(f"{said or step.name} ({time.monotonic() - started:.1f} s)")

    def wait() -> None:  # a failure of a step run alongside is raised here, as any step's
        while running:
            step, future = running.pop(0)
            done(step, future.result())
            checkpoint()

    try:
        for step in STEPS:
            if not step.wanted(run):
                continue
            if step.alongside:
                running.append((step, beside.submit(step.run, run)))
                continue
            if step.waits:
                wait()
            done(step, step.run(run))
            checkpoint()
        wait()
        _swap_in(run)
    finally:
        run.cleanup.close()  # waits for a step still running alongside (a later step failed)
        shutil.rmtree(run.staging, ignore_errors=True)


def _swap_in(run: Run) -> None:
    """Everything built: swap the outputs in, then record them in the manifest."""
    from ..book import execute

    out, staging = run.out, run.staging
    outputs = (manifest.read(out) or {}).get("outputs", {})
    current = manifest.digest(run.state)
    if "html" in run.wanted:
        replace_folder(staging / "html", out / "html")
        outputs = {k: v for k, v in outputs.items() if v.get("kind") != "html"}
        record = json.loads((run.cache / execute.RECORD).read_text())
        for path in sorted((out / "html").rglob("*")):
            if path.is_file():
                name = path.relative_to(out).as_posix()
                outputs[name] = {
                    "kind": "html",
                    "sha256": sha256(path),
                    "state": current,
                    "from": manifest.page_inputs(name, record, run.docs, run.tables.descriptor),
                }
    for kind, name in OUTPUT_FILES.items():
        if kind in run.wanted:
            (out / name).parent.mkdir(exist_ok=True)
            os.replace(staging / name, out / name)
            outputs[name] = {"kind": kind, "sha256": sha256(out / name), "state": current, "from": ["*"]}
    edition = {
        "symbol": run.document_settings["symbol"],
        "date": run.date.isoformat(),
        "data_sha256": run.data_digest,
    }  # what the front page says (notebooks/00_front_matter.md)
    report = run.report
    write_json(
        out / paths.MANIFEST,
        {
            "source_date": run.state["source_date"],
            "tools": run.state["tools"],
            "edition": edition,
            "concordance": run.concordance,
            "inputs": run.state["inputs"],
            "outputs": outputs,
            "last_refresh": {"executed": report.executed, "reused": report.reused, "why": report.why},
        },
    )
    write_json(run.work / STAMP, run.stamp)


# --- the work folder and Sphinx --------------------------------------------------------


def _work(out: Path, data_path: Path, cache: Path, inputs_now: dict[str, str]) -> tuple[Path, dict]:
    """Sphinx's incremental work folder; wiped when it may not match (code changed, failed build)."""
    work = out / ".work"
    stamp = work / STAMP
    code = {k: v for k, v in inputs_now.items() if not k.startswith(("data/", "notebooks/"))}
    expected = {"code": manifest.digest(code), "data_dir": str(data_path), "cache": str(cache)}
    try:
        current = json.loads(stamp.read_text())
    except (OSError, ValueError):
        current = None
    if current != expected:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    return work, expected


def _sphinx(builder: str, run: Run, config: dict | None = None) -> None:
    """Build with ``builder`` (the application :func:`_prepare` set up, or one set up now with
    ``config`` too)."""
    app, contexts = run.apps.pop(builder, None) or _prepare(builder, run, config)
    with contexts:  # docutils' registries as Sphinx set them, until this build ends
        # Each notebook's present run: a page read from another run of its notebook is read
        # again, and written again by each builder that wrote it before (wgec.book.sphinx_ext),
        # whichever build ran the notebook (`wgec pdf`, then `wgec html`).
        app.config.wgec_executions = dict(run.executions)
        refreshing = run.refreshing
        app.wgec_refresh = refreshing  # while notebooks run, their pages are read as each is done
        # Stopped while Sphinx waits for a notebook, the build has only read pages (and Sphinx
        # drops its environment): the environment as it was, which names the runs those pages
        # were read from (the next build reads them again, as read from another run), and the
        # work folder kept as good.
        environment = run.work / "doctrees" / ENV_PICKLE
        waits = refreshing is not None and bool(refreshing.pending)
        kept = environment.read_bytes() if waits and environment.is_file() else None

        def keep_work() -> None:
            if kept is not None:
                environment.write_bytes(kept)
            write_json(run.work / STAMP, run.stamp)

        # From here on the work folder changes: its stamp is written again only when this build
        # succeeds (a failed one leaves a clean start to the next; a failed notebook does not).
        (run.work / STAMP).unlink(missing_ok=True)
        try:
            _sphinx_call(builder, app, app.build, False, [])
        except _NotebookFailed as failed:
            keep_work()
            raise failed.error from None
        except KeyboardInterrupt:
            if waits and refreshing.interrupted:
                keep_work()
            raise
        finally:
            app.wgec_refresh = None
        _refreshed(run)
        status = app.statuscode
    if status != 0:
        raise BuildError(f"the {builder} build failed (see the messages above)")
    if not run.concordance:  # after the first Sphinx build of a run: the gate before any output is kept
        _concordance(run)


def _prepare(builder: str, run: Run, config: dict | None = None):
    """The Sphinx application of ``builder`` set up (extensions, configuration, the pickled
    environment), as Jupyter Book's ``build_sphinx`` sets it up, without building yet (the
    build sets up the HTML one while the notebooks run); and the contexts that keep docutils'
    registries as it set them, to be closed once it has built (before another is set up)."""
    from jupyter_book.pdf import update_latex_documents
    from sphinx.application import Sphinx
    from sphinx.util import logging as sphinx_logging
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    from ..book import sphinx_ext, toc

    sphinx_ext.use_app_listeners()
    sphinx_config, meta = _final_config(
        run,
        {
            "nitpicky": True,
            "latex_individualpages": False,
            "nb_execution_mode": "cache",
            "nb_execution_cache_path": str(run.cache / "jupyter_cache"),
            # The pages that are not notebooks are not executed (wgec.book.toc.other_pages).
            "nb_execution_excludepatterns": toc.other_pages(),
            # _config.yml's html.use_download_button does not reach the theme in Jupyter
            # Book 1 (jupyter-book#1186): each page linked to a source it does not copy.
            "html_theme_options": {"use_download_button": False},
        },
    )
    # Set after, as plain values (the same for each builder): the notebooks' present runs
    # (they change with every rebuild) and the builder's own settings (_configs).
    sphinx_config.update({"wgec_executions": run.executions, **(config or {})})
    # No hidden folder is a source: .git, and the .cache and .work of an output folder in the
    # project other than this build's (one of an earlier `--out`): Sphinx read the executed
    # notebooks kept there as pages, and the build failed on their labels ("duplicate label").
    excluded = [*sphinx_config.get("exclude_patterns", []), ".*", "**/.*"]
    if run.out.is_relative_to(paths.ROOT):  # an output folder in the project is not read as its sources
        excluded.append(run.out.relative_to(paths.ROOT).as_posix())
    sphinx_config["exclude_patterns"] = excluded
    contexts = contextlib.ExitStack()
    contexts.enter_context(patch_docutils(None))
    contexts.enter_context(docutils_namespace())

    def setup():
        app = Sphinx(
            srcdir=paths.ROOT,
            confdir=None,
            outdir=run.work / builder,
            doctreedir=run.work / "doctrees",
            buildername=builder,
            confoverrides=sphinx_config,
            status=None if run.quiet else sys.stdout,
            warning=sys.stderr,
            freshenv=False,
            warningiserror=True,
            keep_going=True,
        )
        # Sphinx sets its logger to DEBUG whatever the verbosity, and its handlers drop what is
        # below it: a record was made for every event emitted (a thousand in a rebuild).
        logging.getLogger(sphinx_logging.NAMESPACE).setLevel(sphinx_logging.VERBOSITY_MAP[app.verbosity])
        app.config.latex_documents = update_latex_documents(app.config.latex_documents, meta["latex_doc_overrides"])
        if app.builder.name == "singlehtml":
            app.set_html_assets_policy("always")
        if app.config["use_multitoc_numbering"]:
            import yaml

            if "external_toc_path" not in app.config or "numbered: true" in yaml.dump(
                app.config.external_site_map.as_json()
            ):
                app.setup_extension("sphinx_multitoc_numbering")
        return app

    try:
        return _sphinx_call(builder, None, setup), contexts
    except BaseException:
        contexts.close()
        raise


def _final_config(run: Run, cli_config: dict) -> tuple[dict, dict]:
    """Jupyter Book's Sphinx configuration of _config.yml with ``cli_config`` (and its meta), a
    copy of its own for each caller: worked out once for the same project files and settings in
    a process (the code digest of the work folder's stamp covers _config.yml, _toc.yml, book/
    and _static/). Jupyter Book parses its default configuration (pure-Python YAML) and
    validates _config.yml each time, 0.2 s of each Sphinx application's set-up (two or three in
    a build, one in each preview rebuild)."""
    import copy

    return copy.deepcopy(_jupyter_book_config(run.stamp["code"], json.dumps(cli_config, sort_keys=True)))


@functools.lru_cache(maxsize=1)
def _jupyter_book_config(code: str, cli_config: str) -> tuple[dict, dict]:
    """:func:`_final_config`'s result for the project files whose digest is ``code``."""
    from jupyter_book.config import get_final_config

    return get_final_config(
        user_yaml=paths.CONFIG_FILE, cli_config=json.loads(cli_config), sourcedir=paths.ROOT, use_external_toc=True
    )


class _NotebookFailed(BuildError):
    """A page's notebook failed while Sphinx waited to read it; ``error`` is the refresh's."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def _sphinx_call(builder: str, app, call, *args):
    """``call``, with Sphinx's own report of an error it raises (as ``sphinx-build`` prints it);
    a notebook that failed while Sphinx waited for it raises :class:`_NotebookFailed`."""
    from sphinx.cmd.build import handle_exception

    try:
        return call(*args)
    except Exception as exc:
        if isinstance(exc.__cause__, _NotebookFailed):  # raised by Refreshing.wait, in a Sphinx event
            raise exc.__cause__ from None
        handle_exception(app, SimpleNamespace(pdb=False, verbosity=0, traceback=False), exc, sys.stderr)
        raise BuildError(f"the {builder} build failed (see the messages above)") from None


def _concordance(run: Run) -> None:
    """Gate: the report says what the contribution says — every quotation verbatim after the
    corrections, under its part, in order, and every passage quoted or listed as not reproduced."""
    from ..book import concordance

    result = concordance.verify(run.work / "doctrees", run.tables)
    if result.problems:
        raise BuildError(concordance.describe(result))
    run.concordance = result.figures()
