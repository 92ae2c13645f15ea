"""Data-aware notebook execution: re-run exactly the notebooks whose inputs changed.

Jupyter Book's cache keys a notebook on its code only, so an edited table would reuse
stale outputs. Here each notebook's inputs are recorded as it runs: the package records
every table, file and setting it hands out (:mod:`wgec.session`) and every ``wgec``
module the kernel imported. A notebook is stale when its source, any recorded
input or any module it used changed since its last run. Stale notebooks run in
parallel, one kernel per core; their outputs go into Jupyter Book's own execution cache
(jupyter-cache), from which the book build reads them: Jupyter Book never executes
anything itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from .. import paths, settings
from ..data import DESCRIPTOR
from ..errors import NotebookError
from ..files import sha256, write_json
from .toc import notebooks

RECORD = "executions.json"
UNKNOWN_SECONDS = 3.0  # what a notebook not run before is taken to take
KERNEL_START = 1.5  # seconds of a core that starting one more kernel costs (see pending)
# The two cells the build adds around a notebook's own: the first clears the kernel (it runs
# one notebook after another) and hands it the build's message (wgec.session.begin); the
# last asks what the notebook read.
# (The reset collects garbage: what a warm kernel imported is frozen, WARM_UP_END, so that it
# is not scanned again.)
BEGIN = """
get_ipython().run_line_magic("reset", "-f")
import os, wgec.session
os.chdir({cwd!r})
wgec.session.begin({message!r})
get_ipython().execution_count = 0
del os
"""
REPORT = """
import json, wgec.session
print("WGEC-READS " + json.dumps(wgec.session.report()))
"""
# After a warm kernel's imports: what they made lives as long as the kernel, so the garbage
# collector leaves it alone from then on (each reset's collection took 0.05 s scanning it).
WARM_UP_END = "\nimport gc\ngc.collect()\ngc.freeze()\ndel gc\n"


def _read(path: Path):
    """The notebook exactly as myst-nb reads it, so that its cache key matches."""
    from .read import notebook

    return notebook(path.read_text(encoding="utf-8"), path=f"{path.parent.name}/{path.name}")


def _new_kernel(cwd: str, quiet: bool = False, attempts: int = 3, meanwhile=None):
    """A kernel started and ready (its manager and a client), for nbclient to run notebooks in.

    It is started here, not by nbclient: a kernel that dies as it starts (one that loses a race
    for its ports to a kernel starting in another worker) is started again, and a start that
    fails leaves nothing behind (nbclient's own start left a clean-up at exit that failed with a
    traceback). ``quiet``: the kernel's own output goes nowhere (a warm kernel's, which is not
    the user's). ``meanwhile``: called once while the kernel's process starts (this worker's own
    imports); its result is returned third."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL} if quiet else {}
    given: list = []  # what ``meanwhile`` gave (a kernel started again does not call it again)

    async def start():
        km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel(
            cwd=cwd,
            # As nbclient starts one: no history file, which kernels running at once would
            # share (IPython prints "ERROR! Session/line number was not unique" into a cell).
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            **streams,
        )
        kc = None
        try:  # whatever fails from here on (``meanwhile`` included) leaves no kernel behind
            if meanwhile is not None and not given:
                given.append(meanwhile())
            kc = km.client()
            kc.start_channels()
            # As nbclient's own client: a notebook that asks for input fails at once, naming its
            # cell, instead of waiting for an answer until its timeout.
            kc.allow_stdin = False
            await _ready(km, kc)
        except BaseException:
            if kc is not None:
                kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        return km, kc

    for attempt in range(1, attempts + 1):
        try:
            km, kc = run_sync(start)()
        except RuntimeError as exc:
            if attempt == attempts:
                raise NotebookError(
                    f"the Jupyter kernel 'python3' did not start ({attempts} attempts): {exc}; "
                    "`.venv/bin/jupyter kernelspec list` shows where its kernel.json is"
                ) from None
            continue
        return km, kc, given[0] if given else None


async def _ready(km, kc, timeout: float = 60) -> None:
    """Wait until the kernel answers, and its output channel is connected: jupyter_client's
    ``wait_for_ready``, without its last step, which waits 0.2 s of silence on that channel
    (twice per notebook run: a tenth of a small notebook's run). The channel is known to be
    connected when the status of one of our requests arrives on it; stray messages from
    before are told apart by nbclient, which reads only those of its own requests. Any of our
    requests' replies will do: one asked a second ago may be answered late, by a kernel slow
    to start, and the next question's answer comes after it."""
    from queue import Empty

    deadline = time.monotonic() + timeout
    asked: set[str] = set()
    while True:
        asked.add(kc.kernel_info())
        try:
            reply = await kc.get_shell_msg(timeout=1)
        except Empty:
            reply = None
        if reply is not None and reply["parent_header"].get("msg_id") in asked:
            try:
                while True:
                    msg = await kc.get_iopub_msg(timeout=0.5)
                    if (
                        msg["parent_header"].get("msg_id") in asked
                        and msg["msg_type"] == "status"
                        and msg["content"].get("execution_state") == "idle"
                    ):
                        return
            except Empty:
                pass  # not connected yet: ask again
        if not await km.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


def _execute_batch(batch: list[str], message: dict, timeout: int, verbose: bool, keep: bool = False) -> list[dict]:
    """Run notebooks one after another in one kernel (in a worker process).

    The kernel starts once and keeps its imported modules (pandas, matplotlib: seconds per
    notebook); before each notebook its namespace, the input record and the execution
    counter are reset, so each notebook's outputs are those of a fresh kernel. With ``keep``
    (the warm workers of :func:`warm_kernels`) the kernel outlives the batch, for the next
    one, unless the package's code changed since it started, or it died.
    """
    import nbformat
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    results, km, kc = [], None, None
    if keep:
        km, kc = _WARM.pop("km", None), _WARM.pop("kc", None)
        if km is not None and (_WARM.get("code") != _package_code() or not run_sync(km.is_alive)()):
            _shut(km, kc)
            km = kc = None
    try:
        for path in map(Path, batch):
            if verbose:
                print(f"wgec: executing notebooks/{path.name}", file=sys.stderr, flush=True)
            nb = _read(path)
            kernelspec = dict(nb.metadata.get("kernelspec", {}))
            nb.cells.insert(0, nbformat.v4.new_code_cell(BEGIN.format(cwd=str(path.parent), message=message)))
            nb.cells.append(nbformat.v4.new_code_cell(REPORT))
            if km is None:
                if keep:
                    _WARM["code"] = _package_code()  # what the new kernel will import
                km, kc, _ = _new_kernel(str(path.parent))
            client = NotebookClient(
                nb,
                km=km,
                timeout=timeout,
                kernel_name="python3",
                record_timing=False,
                resources={"metadata": {"path": str(path.parent)}},
            )
            # The kernel's client (its channels) is kept from notebook to notebook: a new one
            # waits 0.2 s for the kernel's output to fall quiet before it is ready.
            client.kc = kc
            started = time.monotonic()
            try:
                client.execute(cleanup_kc=False)
            except CellExecutionError as exc:
                where = _failed_where(path, nb.cells[1:-1])
                name = getattr(exc, "ename", "error")
                value = getattr(exc, "evalue", "")
                results.append({"path": str(path), "error": f"{where}: {name}: {value}"})
                km, kc = client.km, client.kc
                continue
            except (CellTimeoutError, DeadKernelError) as exc:  # the kernel is gone or stuck: start another
                results.append(
                    {"path": str(path), "error": f"{_failed_where(path, nb.cells[1:-1])}: {type(exc).__name__}: {exc}"}
                )
                _shut(client.km, client.kc)
                km = kc = None
                continue
            km, kc = client.km, client.kc
            nb.cells.pop(0)
            probe = nb.cells.pop()
            # nbclient writes the running kernel's spec into the metadata; the cache key must
            # stay the one myst-nb computes from the source.
            nb.metadata["kernelspec"] = kernelspec
            text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
            recorded = json.loads(text.split("WGEC-READS ", 1)[1])
            stderr = [
                o.get("text", "")
                for c in nb.cells
                for o in c.get("outputs", [])
                if o.get("output_type") == "stream" and o.get("name") == "stderr"
            ]
            results.append(
                {
                    "path": str(path),
                    "notebook": nbformat.writes(nb),
                    "recorded": recorded,
                    "stderr": stderr,
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
    finally:
        if keep and km is not None:
            _WARM["km"], _WARM["kc"] = km, kc
        elif km is not None:
            _shut(km, kc)
    return results


def _shut(km, kc) -> None:
    """Close a kernel's client and shut the kernel down (it may be gone already)."""
    from jupyter_core.utils import run_sync

    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()
    with contextlib.suppress(Exception):
        run_sync(km.shutdown_kernel)(now=True)


# --- warm kernels: one long-lived worker per core, each keeping its kernel between refreshes ---

_WARM: dict = {}  # in a warm worker: its kernel manager, and the package code that kernel imported
_POOL: list = []  # in the process that refreshes: (warm workers, how many), while warm_kernels() is active


def _package_code() -> tuple:
    """What a kernel imports of this package, as file names, sizes and times."""
    root = Path(__file__).resolve().parent.parent
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*.py")))


def _warm_worker() -> None:
    """A warm worker leaves Ctrl-C to the process that started it (its own process group),
    shuts its kernel down when it exits, and exits when that process is gone (killed)."""
    import atexit

    os.setpgrp()
    atexit.register(_stop_kernel)
    parent = os.getppid()

    def orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        _stop_kernel()
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()


def _stop_kernel() -> None:
    km, kc = _WARM.pop("km", None), _WARM.pop("kc", None)
    if km is not None:
        _shut(km, kc)


def _start_kernel(code, timeout: int) -> None:
    """Start this warm worker's kernel now, and run in it the code that ``code`` gives (the
    notebooks' imports: :func:`warm_up_code`, called here, in the worker)."""
    if "km" in _WARM:
        return
    _WARM["code"] = _package_code()

    def meanwhile() -> str:
        # While the kernel's process starts, this worker's own imports: nbclient and nbformat
        # (with jsonschema, 0.3-0.5 s), and the code to warm the kernel up, read with myst-nb's
        # reader, which this worker needs next anyway. This module imports none of them itself,
        # so that the kernel is launched first (this worker's first job, at its start).
        import nbclient  # noqa: F401

        return code()

    # Its output is not the user's: a kernel stopped while it starts (a build that failed on its
    # data) would print a traceback under the build's message.
    km, kc, imports = _new_kernel(str(paths.NOTEBOOKS_DIR), quiet=True, meanwhile=meanwhile)
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(imports + WARM_UP_END)])
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3")
    client.kc = kc
    client.execute(cleanup_kc=False)
    _WARM["km"], _WARM["kc"] = km, kc


@contextlib.contextmanager
def warm_kernels(jobs: int | None = None, start=None, timeout: int = 300):
    """While active, :func:`refresh` runs the notebooks in long-lived workers whose kernels
    stay up between refreshes (pandas, matplotlib and the package imported once): what a
    long-running process such as ``wgec preview`` uses. A kernel is started again when the
    package's code changed since it started, or when it died. ``start``: a function that gives
    the code to run at once in each worker's new kernel (its imports: :func:`warm_up_code`),
    called in the workers, so that the first refresh finds them warm too."""
    workers = max(1, jobs or os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_warm_worker)
    _POOL.append((pool, workers))
    if start is not None:  # one job per worker (each takes one while it is busy starting its kernel)
        for _ in range(workers):
            pool.submit(_start_kernel, start, timeout)
    try:
        yield pool
    except BaseException:
        # A failed build (a data error found while the kernels start) says so at once: the
        # workers are not waited for; each stops its kernel and exits once its job is done.
        release(pool)
        raise
    finally:
        if (pool, workers) in _POOL:
            _POOL.remove((pool, workers))
            pool.shutdown(wait=True, cancel_futures=True)


def release(pool=None) -> None:
    """Let warm workers go (``pool``, or the innermost) without waiting for them: a build that
    started them early no longer needs them once its notebooks have run (they stop while the
    book is built)."""
    for entry in reversed(_POOL):
        if pool is None or entry[0] is pool:
            _POOL.remove(entry)
            # Shut down in a thread of its own, which settle() can wait for: a pool shut down
            # without waiting forgets its manager thread, so a second shutdown(wait=True)
            # returned at once, and the exit raced that thread closing its pipe.
            stopping = threading.Thread(
                target=entry[0].shutdown, kwargs={"wait": True, "cancel_futures": True}, name="wgec-release"
            )
            stopping.start()
            _RELEASED.append(stopping)
            return


_RELEASED: list = []  # the threads shutting released pools down: settle() waits for them


def settle() -> None:
    """Wait for the warm workers let go (:func:`release`) to stop. A process that exits while a
    pool's manager thread is still closing its pipe can die at exit with a traceback (CPython
    3.11's ``concurrent.futures`` wakes every manager at exit, racing the close): a failed
    build calls this after saying what failed."""
    while _RELEASED:
        _RELEASED.pop().join()


def in_worker(function, *args):
    """``function(*args)`` (picklable) in a warm worker while :func:`warm_kernels` is active (a
    process of its own, on a core the kernels leave idle once the notebooks have run), else in
    this process; its result, or its exception raised here."""
    if not _POOL:
        return function(*args)
    return _POOL[-1][0].submit(function, *args).result()


def warm() -> bool:
    """Whether :func:`refresh` would use warm workers now (inside :func:`warm_kernels`)."""
    return bool(_POOL)


def _record(cache_dir: Path) -> dict:
    """What each notebook read when it last ran (empty before the first refresh)."""
    path = cache_dir / RECORD
    return json.loads(path.read_text()) if path.is_file() else {}


def executions(cache_dir: Path) -> dict[str, str]:
    """Each executed notebook's present run, as a digest (it changes whenever the notebook runs
    again): what a page was read from, so that any build, not only the one whose refresh ran
    the notebook, knows to read the page again (wgec.book.sphinx_ext)."""
    return {Path(name).stem: _run_digest(entry) for name, entry in _record(cache_dir).items()}


def _run_digest(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()


def pending(data_dir: Path, cache_dir: Path, jobs: int | None = None) -> int:
    """How many kernels a refresh would best run its notebooks in, judged before the data are
    validated (from the descriptor as written): 0 when none is stale (or when that cannot be
    told, and the build finds out as usual); else one per ``KERNEL_START`` seconds of the stale
    notebooks' last runs (rounded down: at least one), and at most ``jobs`` (one per core) or
    one per notebook. A kernel's start costs a core more than a second and a half (the process, then pandas,
    matplotlib and the package): for a second or so of notebooks, a second kernel only takes
    that core from the rest of the build (measured on 2 cores: a one-table edit's build 5.9 s
    with two kernels, 5.3 s with one)."""
    try:
        descriptor = json.loads((data_dir / DESCRIPTOR).read_text(encoding="utf-8-sig"))
        record = _record(cache_dir)
        seen: dict[str, str | None] = {}
        todo = [path for path in notebooks() if stale(record, path, data_dir, descriptor, seen) is not None]
    except Exception:  # a broken descriptor or record: validation will say what is wrong
        return 0
    if not todo:
        return 0
    seconds = sum(record.get(path.name, {}).get("seconds", UNKNOWN_SECONDS) for path in todo)
    worth = max(1, math.floor(seconds / KERNEL_START))
    return min(worth, len(todo), max(1, jobs or os.cpu_count() or 1))


def warm_up_code(charts: bool = False) -> str:
    """The imports of the notebooks' first code cells: run once in each warm kernel at start,
    so that even the first notebook finds pandas, matplotlib and the package imported. With
    ``charts``, a throwaway chart is also drawn and rendered as the book's are (its output is
    not kept): what a kernel kept warm for many refreshes (``wgec preview``) pays once, so that
    no edit's first chart pays for matplotlib's fonts and glue's first imports (a build's kernels
    would only pay it sooner)."""
    import ast

    from myst_nb.core.read import read_myst_markdown_notebook

    found: dict[str, None] = {}
    for path in notebooks():
        nb = read_myst_markdown_notebook(path.read_text(encoding="utf-8"))
        code = next((c.source for c in nb.cells if c.cell_type == "code"), "")
        with contextlib.suppress(SyntaxError):
            for node in ast.parse(code).body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found[ast.unparse(node)] = None
    if charts:  # drawn, rendered and glued as the notebooks' figures are (glue imports nbformat)
        found[
            "import wgec.report.charts\nimport wgec.report.page\nwgec.report.page.figure("
            "wgec.report.charts.sample(), name='wgec-warm-up', caption='Warm-up', alt='Warm-up')"
        ] = None
    return "\n".join(found)


def _failed_where(path: Path, cells) -> str:
    """Where the error was raised, as the author finds it: line of the .md file, and which code cell."""
    import re

    from .read import filled_line

    code = [c for c in cells if c.cell_type == "code"]
    failed = next(
        (n for n, c in enumerate(code, start=1) if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
        None,
    )
    if failed is None:
        return "a cell"
    cell = code[failed - 1]
    if filled_line(cell.source) is not None:  # a Markdown cell's {eval}: its line, from the role named
        value = next((o.get("evalue", "") for o in cell.outputs if o.get("output_type") == "error"), "")
        role = re.match(r"\{eval\}`([^`]+)`", value)
        return f"line {filled_line(cell.source, role.group(1) if role else None)} (a Markdown cell)"
    failed -= sum(filled_line(c.source) is not None for c in code[: failed - 1])  # the file's own code cells
    where = f"code cell {failed}"
    trace = "\n".join(line for o in cell.outputs if o.get("output_type") == "error" for line in o.get("traceback", []))
    found = re.search(
        r"(?:Cell In\[\d*\]|<cell line: \d+>|input-\d+-\w+>), line (\d+)", re.sub(r"\x1b\[[0-9;]*m", "", trace)
    )
    if found is None:
        return where
    line = int(found.group(1))
    text = path.read_text(encoding="utf-8")
    fences = [m.end() for m in re.finditer(r"^(?:`{3,}|~{3,})\s*\{code-cell\}.*$", text, re.MULTILINE)]
    start = text.find(cell.source, fences[failed - 1]) if len(fences) >= failed and cell.source else -1
    if start < 0:
        return f"{where}, line {line} of the cell"
    return f"line {text.count(chr(10), 0, start) + line} ({where}, line {line} of the cell)"


def _seconds(path: Path, record: dict) -> float:
    """How long a notebook is expected to take: its last run's time."""
    return record.get(path.name, {}).get("seconds", UNKNOWN_SECONDS)


def _longest_first(todo: list[Path], record: dict) -> list[Path]:
    return sorted(todo, key=lambda p: -_seconds(p, record))


def _batches(todo: list[Path], jobs: int, record: dict) -> list[list[Path]]:
    """Split the notebooks over the workers, longest first, each to the least loaded."""
    loads = [[0.0, []] for _ in range(jobs)]
    for path in _longest_first(todo, record):
        least = min(loads, key=lambda load: load[0])
        least[0] += _seconds(path, record)
        least[1].append(path)
    return [batch for _, batch in loads if batch]


def _finishing_order(batches: list[list[Path]], jobs: int, record: dict) -> list[str]:
    """The notebooks' names in the order they are expected to finish: the batches handed, in
    order, to the first of ``jobs`` kernels free, each notebook taking its last run's time."""
    free = [0.0] * jobs
    finish = {}
    for batch in batches:
        at = min(range(jobs), key=free.__getitem__)
        for path in batch:
            free[at] += _seconds(path, record)
            finish[path.stem] = free[at]
    return sorted(finish, key=finish.__getitem__)


@dataclass
class Report:
    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)


def current_value(key: str, data_dir: Path, descriptor: dict, known: dict | None = None) -> str | None:
    """The current fingerprint of one recorded input (None if it no longer exists); ``known``:
    fingerprints of files taken earlier (see :func:`refresh`), used for those files."""
    kind, _, name = key.partition(":")
    if kind == "table":
        resource = next((r for r in descriptor["resources"] if r["name"] == name), None)
        path = data_dir / resource["path"] if resource else None
    elif kind == "file":
        path = data_dir / name
    elif kind == "module":
        path = Path(name)
    elif key == "source-date":
        return settings.source_date().date().isoformat()
    elif key == "tools":
        return hashlib.sha256(json.dumps(settings.tools(), sort_keys=True).encode()).hexdigest()
    else:  # a configuration file of the project
        path = paths.ROOT / key
    if known is not None and path in known:
        return known[path]
    return sha256(path) if path is not None and path.is_file() else None


def _fingerprints(keys, data_dir: Path, descriptor: dict, known: dict) -> dict[str, str | None]:
    return {key: current_value(key, data_dir, descriptor, known) for key in keys}


def stale(record: dict, path: Path, data_dir: Path, descriptor: dict, seen: dict | None = None) -> str | None:
    """Why the notebook must run again (None when its last outputs are still right). ``seen``:
    the fingerprints taken so far in this pass over the notebooks (each input's is taken once:
    a dozen notebooks share the same twenty modules and tables)."""
    entry = record.get(path.name)
    if entry is None:
        return "never executed"
    if entry["source"] != sha256(path):
        return "notebook changed"
    seen = {} if seen is None else seen
    for key, value in entry["inputs"].items():
        if key not in seen:
            seen[key] = current_value(key, data_dir, descriptor)
        if seen[key] != value:
            return f"{key.split(':', 1)[-1]} changed"
    return None


_REFRESH_IMPORTS = (
    "docutils.parsers.rst.directives.body",  # the directives the notebooks' cells name
    "docutils.parsers.rst.directives.misc",
    "jupyter_cache.base",
    "jupyter_cache.cache.main",
    "myst_nb.core.read",
    "myst_parser.parsers.directives",
    "myst_parser.parsers.options",
    "nbformat",
    "sqlalchemy.dialects.sqlite",  # the cache's database
    "sqlite3",
    "wgec.book.read",  # the notebooks as myst-nb reads them (their cache keys)
)


def import_modules() -> None:
    """What :func:`refresh` imports, imported in the calling thread before it runs in another.
    Two threads importing one package for the first time at once can deadlock in Python's
    import locks (one holds the package, running its ``__init__``, and waits for a submodule;
    the other holds that submodule and waits for the package: Python 3.11 raises
    ``_DeadlockError``), and the book build imports the same packages (myst-nb's reader,
    markdown-it, jupyter-cache) meanwhile."""
    import importlib

    for name in _REFRESH_IMPORTS:
        importlib.import_module(name)


def refresh(
    data_dir: Path,
    cache_dir: Path,
    jobs: int | None = None,
    timeout: int = 300,
    verbose: bool = False,
    force: bool = False,
    descriptor: dict | None = None,
    validated: str | None = None,
    before: dict[Path, str] | None = None,
    meanwhile=None,
    planned=None,
    each=None,
) -> Report:
    """Execute the stale notebooks into the jupyter cache at ``cache_dir``; return what ran.

    ``descriptor``: the data package descriptor, when the caller has validated the data
    already; ``validated``: the digest of the data it validated (the kernels need not again).
    ``before``: the fingerprints of the input files taken before anything ran (the build's
    inputs, :func:`wgec.pipeline.manifest.files`): what the notebooks read is recorded as it
    was then, so that a file saved while they ran (an edit during a build, or during the
    preview's first build) makes them run again next time, instead of being recorded as read.
    ``meanwhile``: a function called while the notebooks run (once they are handed to the
    kernels), whether any is stale or not.

    ``planned``: called once it is known which notebooks run, with their names in the order
    they are expected to finish (so that the book can read each page as soon as its notebook is
    done); ``each``: called as each notebook's run is kept, with its name and the digest of its
    run (:func:`executions`), or None when it failed. Both are called from the thread that
    called this function. With warm kernels each notebook goes to the first kernel free.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from .. import data

    descriptor = descriptor or data.load(data_dir).descriptor
    cache_dir.mkdir(parents=True, exist_ok=True)
    record_file = cache_dir / RECORD
    record = _record(cache_dir)
    cache = get_cache(str(cache_dir / "jupyter_cache"))
    # Its database made now, before the book build (reading pages while the notebooks run, in
    # another thread) opens it: two first openings at once both create its tables, and one fails.
    cache.get_cache_limit()
    report = Report()
    todo = []
    seen: dict[str, str | None] = {}
    for path in notebooks():
        reason = "forced" if force else stale(record, path, data_dir, descriptor, seen)
        if reason is None:
            try:
                cache.match_cache_notebook(_read(path))
            except KeyError:
                reason = "not in the cache"
        if reason is None:
            report.reused.append(path.stem)
        else:
            report.why[path.stem] = reason
            todo.append(path)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    warm, workers = _POOL[-1] if _POOL else (None, jobs)
    jobs = min(jobs, workers)
    # Warm kernels take one notebook at a time (a kernel that is free takes the next); a pool
    # started here, one batch each (each batch starts its kernel).
    batches = [[p] for p in _longest_first(todo, record)] if warm else _batches(todo, jobs, record)
    if planned is not None:
        planned(_finishing_order(batches, jobs, record))
    if not todo:
        if meanwhile is not None:
            meanwhile()
        return report

    errors: list[str] = []

    def keep(result: dict) -> str | None:
        """One notebook's run into the cache and the record (as its batch comes back, while
        the other batches still run); the digest of the run kept, None when it failed."""
        path = Path(result["path"])
        if "error" in result:
            errors.append(f"notebooks/{path.name}, {result['error']}")
            return None
        if result["stderr"]:
            errors.append(f"notebooks/{path.name} wrote to stderr: {''.join(result['stderr'])[:500]}")
            return None
        nb = nbformat.reads(result["notebook"], as_version=4)
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(path), data={"execution_seconds": result["seconds"]}),
            check_validity=False,
            overwrite=True,
        )
        try:  # the book build must find it, or it would execute the notebook itself
            cache.match_cache_notebook(_read(path))
        except KeyError:
            raise NotebookError(
                f"notebooks/{path.name}: executed, but its cache key does not match the one the book build computes"
            ) from None
        keys = set(result["recorded"]["reads"]) | {f"file:{DESCRIPTOR}"}
        keys |= {f"module:{m}" for m in result["recorded"]["modules"]}
        record[path.name] = {
            "source": sha256(path),
            "inputs": _fingerprints(sorted(keys), data_dir, descriptor, before or {}),
            "seconds": result["seconds"],
        }
        report.executed.append(path.stem)
        return _run_digest(record[path.name])

    with (
        contextlib.nullcontext(warm)
        if warm
        else ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool
    ):
        message = {
            "data_dir": str(data_dir),
            "validated": validated,
            "source_epoch": int(settings.source_date().timestamp()),
        }
        futures = [
            pool.submit(_execute_batch, [str(p) for p in batch], message, timeout, verbose, warm is not None)
            for batch in batches
        ]
        failed = None
        if meanwhile is not None:
            try:
                meanwhile()
            except Exception as exc:  # raised once the notebooks' runs are recorded
                failed = exc
        try:
            for future in as_completed(futures):
                for result in future.result():
                    kept = keep(result)
                    if each is not None:
                        each(Path(result["path"]).stem, kept)
        finally:
            # Save what did run, even when another notebook failed (or a kept run could not be
            # recorded): it need not run again, and a page read from it is known to be.
            write_json(record_file, record)
    if errors:
        # In the notebooks' order, whichever came back first (each message starts with its name).
        raise NotebookError("a notebook failed:\n" + "\n".join(f"  - {e}" for e in sorted(errors)))
    if failed is not None:
        raise failed
    report.executed.sort(key=[p.stem for p in notebooks()].index)
    return report
