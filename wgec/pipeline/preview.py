"""``wgec preview``: build, serve the HTML book on 127.0.0.1, rebuild on save, reload the page.

One long-lived process keeps everything warm between rebuilds: Python's imports (Sphinx,
myst-nb, Typst), Sphinx's environment on disk (only the pages whose notebooks re-ran
are read again), and four warm kernels (more on more cores) with pandas, matplotlib and the package imported
(:func:`wgec.book.execute.warm_kernels`). A save in ``data/``, ``notebooks/``, ``book/``,
``_config.yml`` or ``_toc.yml`` rebuilds the HTML book first (the normal build, refresh
included: exactly the notebooks whose inputs changed run again) and the open page shows it
(its new article in place of the old one when nothing else of the page changed, else a
reload); then, once nothing has changed for a moment, the PDFs follow.

A failed rebuild prints its error and shows it on the page over the last good pages, which
stay served; the next save tries again. The preview holds the output folder's build lock for
as long as it runs, so a ``make`` or ``wgec build`` into the same folder meanwhile is refused
with a message naming it. The server binds 127.0.0.1 only and serves the built ``html/`` and
``pdf/`` folders and nothing else: no path outside them (``..``, an encoded ``%2e%2e``, a
link out) is ever read. Ctrl-C stops it: the server, the watchers and the kernels.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import http.server
import io
import json
import mimetypes
import os
import queue
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from .. import paths
from ..book import execute
from ..errors import BuildError, WgecError
from . import build
from .lock import lock

SERVED = ("html", "pdf", "docx")  # the folders of the build that the preview serves
PREFIX = "/__wgec__/"  # the preview's own endpoints (no folder of the build has this name)
# Warm kernels kept: at least four, so that the few notebooks a one-table edit re-runs each get
# one (a notebook's own run is short, and part of it waits on the kernel's messages).
KERNELS = max(4, os.cpu_count() or 1)
IDLE_BEFORE_PDF = 1.0  # seconds without a change before the PDFs are laid out again
SETTLE = 0.05  # seconds a burst of saves (a spreadsheet writes in pieces) must be quiet

RELOAD_JS = """\
(() => {
  const me = document.currentScript;
  let seen = Number(me.dataset.version);
  const here = () => location.href.split("#")[0];
  // The page as served without its article's content (its frame), to tell whether a rebuild
  // changed only the article: then the new article takes the old one's place (no reload: the
  // reader's scroll position stays, and nothing else of the page is fetched or run again);
  // anything else, a reload.
  const ARTICLE = "article.bd-article";
  const SCRIPTED = "div.highlight, .toggle, .tab-set";  // what the theme's scripts set up at load
  function parts(html) {  // [the frame, the article]
    const doc = new DOMParser().parseFromString(html, "text/html");
    const article = doc.querySelector(ARTICLE);
    if (!article) return null;
    const kept = article.cloneNode(true);
    // The article's own scripts (the theme's configuration of its kernel) ran once, at load:
    // they stay in the frame, so that a new article has to keep them as they were.
    article.replaceChildren(...article.querySelectorAll("script"));
    doc.querySelectorAll("script[data-version]").forEach(s => s.removeAttribute("data-version"));
    return [doc.documentElement.outerHTML, kept];
  }
  let frame = null;
  fetch(here(), {cache: "no-store"}).then(r => r.ok ? r.text() : null).then(t => { frame = t && parts(t)?.[0]; }, () => {});
  async function update(version) {
    try {
      const response = await fetch(here(), {cache: "no-store"});
      const fresh = response.ok && frame ? parts(await response.text()) : null;
      const old = document.querySelector(ARTICLE);
      if (fresh && old && fresh[0] === frame && !fresh[1].querySelector(SCRIPTED)) {
        old.replaceWith(document.adoptNode(fresh[1]));
        seen = version;
        return true;
      }
    } catch (error) {}
    location.reload();
    return false;
  }
  const box = document.createElement("div");
  box.id = "wgec-preview";
  box.setAttribute("role", "status");
  box.style.cssText = "position:fixed;z-index:10000;left:1rem;right:1rem;bottom:1rem;max-height:50vh;" +
    "overflow:auto;padding:.75rem 1rem;font:14px/1.4 monospace;white-space:pre-wrap;display:none;" +
    "border-radius:.4rem;box-shadow:0 2px 12px rgba(0,0,0,.3)";
  document.body.appendChild(box);
  function say(text, failed) {
    box.textContent = text;  // never HTML: an error can quote the data
    box.style.display = text ? "block" : "none";
    box.style.background = failed ? "#fde8e8" : "#eef3fb";
    box.style.color = failed ? "#7a0b0b" : "#10243f";
    box.style.border = failed ? "2px solid #b3261e" : "1px solid #7a8ca6";
  }
  let known = "";
  async function poll() {  // the server answers when something changed (or after 20 s)
    try {
      const state = await (await fetch("PREFIXstatus?known=" + encodeURIComponent(known), {cache: "no-store"})).json();
      known = state.tag;
      if (state.version !== seen && state.state !== "building" && !(await update(state.version))) return;
      if (state.state === "failed") say("The last rebuild failed; this is the last good page.\\n\\n" + state.error, true);
      else if (state.state === "building") say("Rebuilding…", false);
      else say("", false);
      setTimeout(poll, 0);
    } catch (error) {
      say("The preview has stopped (wgec preview is not running).", true);
      setTimeout(poll, 1000);
    }
  }
  poll();
})();
""".replace("PREFIX", PREFIX)


class State:
    """What the page asks for: the version of the served pages, and how the last build went."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.version = 0
        self.state = "building"
        self.error = ""
        self.pdf = "waiting"

    def set(self, **changes) -> None:
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, value)
            self.lock.notify_all()

    def _tag(self) -> str:
        return f"{self.version}-{self.state}-{self.pdf}-{hash(self.error)}"

    def json(self, known: str = "", wait: float = 0) -> bytes:
        """The state; with ``known`` (the tag of the state the page has), once it differs from
        it or ``wait`` seconds have passed (a long poll: the page learns of a change at once)."""
        with self.lock:
            self.lock.wait_for(lambda: self._tag() != known, timeout=wait if known else 0)
            return json.dumps(
                {"version": self.version, "state": self.state, "error": self.error, "pdf": self.pdf, "tag": self._tag()}
            ).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves the built folders of ``server.out`` (read-only), the status and the reload script."""

    server_version = "wgec-preview"
    protocol_version = "HTTP/1.1"  # keep-alive: a reload fetches a page and its assets over one connection

    def log_message(self, *args) -> None:  # no line per request in the terminal
        pass

    def do_HEAD(self) -> None:  # the standard library's names
        self.respond(head=True)

    def do_GET(self) -> None:
        self.respond(head=False)

    def respond(self, head: bool) -> None:
        url = urlsplit(self.path)
        path = url.path
        port = self.server.server_address[1]
        if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            # A page of another site whose name points at 127.0.0.1 (DNS rebinding) reads nothing.
            return self.send(403, b"this server answers requests for 127.0.0.1 only\n", "text/plain", head)
        if path == "/":
            return self.send(302, b"", "text/plain", head, {"Location": "/html/index.html"})
        if path == PREFIX + "status":
            known = parse_qs(url.query).get("known", [""])[0]
            return self.send(200, self.server.state.json(known, wait=20), "application/json", head)
        if path == PREFIX + "reload.js":
            return self.send(200, RELOAD_JS.encode(), "text/javascript", head)
        target = resolve(self.server.out, path)
        if target is None:
            return self.send(403, b"outside the build folder\n", "text/plain", head)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if target.suffix == ".html":  # not built (yet): a page that shows the build's state
                page = (
                    b"<!DOCTYPE html><html lang=en><title>Not built</title><body><p>Not built (yet).</p></body></html>"
                )
                return self.send(404, inject(page, self.server.state.version), "text/html", head)
            return self.send(404, b"not found\n", "text/plain", head)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            return self.send(200, inject(target.read_bytes(), self.server.state.version), kind, head)
        # The theme's scripts, styles and fonts (7 MB): the browser keeps them and asks whether
        # they changed, so a reload after a rebuild fetches the pages only.
        modified = email.utils.formatdate(target.stat().st_mtime, usegmt=True)
        if self.headers.get("If-Modified-Since") == modified:
            return self.send(304, b"", kind, True, {"Last-Modified": modified}, cache="no-cache")
        self.send(200, target.read_bytes(), kind, head, {"Last-Modified": modified}, cache="no-cache")

    def send(
        self, code: int, body: bytes, kind: str, head: bool, headers: dict | None = None, cache: str = "no-store"
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else ""))
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)


def resolve(out: Path, url_path: str) -> Path | None:
    """The file a URL path names inside one of the served folders of ``out``; None for
    anything else (``..`` in any spelling, a backslash, a NUL, a link that leads out)."""
    decoded = unquote(url_path)
    parts = decoded.split("/")
    if "\\" in decoded or "\0" in decoded or any(part in (".", "..") for part in parts):
        return None
    parts = [part for part in parts if part]
    if not parts or parts[0] not in SERVED:
        return None
    base = (out / parts[0]).resolve()
    target = (out / Path(*parts)).resolve()
    return target if target == base or target.is_relative_to(base) else None


def inject(page: bytes, version: int) -> bytes:
    """The page with the reload script before its ``</body>`` (the file itself is untouched)."""
    tag = f'<script src="{PREFIX}reload.js" data-version="{version}"></script>'.encode()
    at = page.rfind(b"</body>")
    return page[:at] + tag + page[at:] if at >= 0 else page + tag


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, out: Path, state: State):
        self.out, self.state = out, state
        super().__init__(("127.0.0.1", port), Handler)

    def handle_error(self, request, client_address) -> None:
        """A browser that drops its connection (a reload, a tab closed while a page waits for
        the status) is no error: nothing is printed. Anything else is, as the standard library does."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


# --- watching ------------------------------------------------------------------------


def watched(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """(folders watched with their subfolders, files watched in the project folder)."""
    folders = [
        data_dir,
        paths.ROOT / "notebooks",
        paths.ROOT / "book",
        paths.ROOT / "_static",  # (a project's own CSS and scripts, when it has them)
        Path(__file__).resolve().parent.parent,
    ]
    return [f for f in folders if f.is_dir()], [paths.CONFIG_FILE, paths.TOC_FILE]


def watch(data_dir: Path, changes: queue.Queue, stop: threading.Event) -> list[threading.Thread]:
    """Threads that put every batch of changed paths into ``changes`` until ``stop`` is set.

    watchfiles (inotify through Rust's notify) reports a save at once and gathers the
    writes of one save into one batch. The two files of the project folder are watched
    through the folder, not recursively: an editor that saves by renaming a new file over
    the old one would leave a watch on the file itself looking at the old one."""
    import logging

    import watchfiles

    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # no line per change in the terminal
    folders, files = watched(data_dir)
    names = {f.name for f in files}

    class Ignore(watchfiles.DefaultFilter):
        ignore_dirs = (*watchfiles.DefaultFilter.ignore_dirs, ".ipynb_checkpoints", "_build")

    def loop(targets, recursive, keep) -> None:
        for batch in watchfiles.watch(
            *targets,
            watch_filter=Ignore(),
            recursive=recursive,
            stop_event=stop,
            debounce=1000,
            step=int(SETTLE * 1000),
            raise_interrupt=False,
        ):
            kinds: dict[Path, set] = {}
            for change, name in batch:
                kinds.setdefault(Path(name), set()).add(change)
            # A file written and removed within the save (an editor's temporary copy) is no change.
            kept = {
                path
                for path, seen in kinds.items()
                if keep(path)
                and not ({watchfiles.Change.added, watchfiles.Change.deleted} <= seen and not path.exists())
            }
            if kept:
                changes.put(kept)

    threads = [
        threading.Thread(target=loop, args=(folders, True, lambda p: True), daemon=True),
        threading.Thread(target=loop, args=([paths.ROOT], False, lambda p: p.name in names), daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def describe(changed: set[Path], data_dir: Path) -> str:
    shown = []
    for path in sorted(changed):
        for base, label in ((data_dir, "data"), (paths.ROOT, "")):
            if path.is_relative_to(base):
                rel = path.relative_to(base).as_posix()
                shown.append(f"{label}/{rel}" if label else rel)
                break
    return ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")


# --- the build loop ------------------------------------------------------------------


class Tee(io.TextIOBase):
    """stderr as it is, and a copy of its last lines (Sphinx's warnings and errors)."""

    def __init__(self, stream):
        self.stream, self.lines = stream, []

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.lines.extend(text.splitlines())
        del self.lines[:-60]
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


class Preview:
    def __init__(self, data_dir: Path, out: Path, state: State, jobs: int | None, say):
        self.data_dir, self.out, self.state, self.jobs, self.say = data_dir, out, state, jobs, say
        self.pdf_due = False
        self.collect_due = False
        # The first HTML and PDF builds run every step even when the book is current (a preview
        # started again on the same folder): they load and set up what the rebuilds use, before
        # the first save rather than after it (wgec.pipeline.build.build's ``warm``).
        self.unwarmed = {"html", "pdf"}

    def collect(self) -> None:
        """Free what the last build left (Sphinx's application, environment and doctrees are
        reference cycles), while nothing waits on the preview: left to the collector, they piled
        up, and a collection during a rebuild took a second (0.1-1.1 s measured, a third of it).
        What is left after the first build (imports, the kernels' pool) is moved out of the
        collector's sight for good (gc.freeze), so that the later collections are short."""
        import gc

        self.collect_due = False
        gc.collect()
        if not gc.get_freeze_count():
            gc.freeze()

    def attempt(self, what: str, **kinds) -> dict | None:
        """One build; its result, or None when it failed (the error is printed and shown)."""
        tee = Tee(sys.stderr)
        started = time.monotonic()
        self.collect_due = True  # what the build leaves is freed once the preview is idle
        try:
            with contextlib.redirect_stderr(tee):
                result = build.build(self.data_dir, self.out, quiet=True, locked=True, jobs=self.jobs, **kinds)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # any failure is shown, and the preview goes on
            message = str(exc) if isinstance(exc, WgecError) else "".join(traceback.format_exception(exc))
            details = [line for line in tee.lines if line.strip() and line.strip() not in message]
            if details and "see the messages above" in message:
                message += "\n" + "\n".join(details[-25:])
            self.say(f"{what} failed after {time.monotonic() - started:.1f} s:\n{message}")
            return {"error": message}
        result["seconds"] = time.monotonic() - started
        return result

    def html(self, why: str) -> None:
        self.state.set(state="building")
        self.say(f"rebuilding ({why})")
        result = self.attempt("the HTML book", html=True, pdf=False, archival=False, warm="html" in self.unwarmed)
        if "error" in result:
            self.state.set(state="failed", error=result["error"])
            return
        self.unwarmed.discard("html")
        ran = ", ".join(result["executed"]) or "none"
        self.state.set(state="ready", error="", version=self.state.version + 1, pdf="waiting")
        self.say(f"HTML ready in {result['seconds']:.1f} s (notebooks re-run: {ran}); the page reloads")
        self.pdf_due = True

    def pdf(self) -> None:
        self.pdf_due = False
        self.state.set(pdf="building")
        result = self.attempt("the PDF", html=False, pdf=True, archival=True, warm="pdf" in self.unwarmed)
        if "error" in result:
            self.state.set(pdf="failed")
            return
        self.unwarmed.discard("pdf")
        self.state.set(pdf="ready")
        if not result["up_to_date"]:
            self.say(f"PDFs ready in {result['seconds']:.1f} s: {self.out / 'pdf'}")


def run(
    data_dir=None, out=None, port: int = 8000, jobs: int | None = None, say=None, ready: threading.Event | None = None
) -> None:
    """Serve and rebuild until interrupted (Ctrl-C). ``ready`` is set once the server listens."""
    data_path = paths.data_dir(data_dir)
    out = Path(out or paths.BUILD_DIR).resolve()
    jobs = jobs or KERNELS
    say = say or (lambda text: print(f"wgec preview: {text}", file=sys.stderr, flush=True))
    state = State()
    stops = _stop_on_signals()
    holder = (
        f"`wgec preview` (process {os.getpid()}), which rebuilds it on every save; stop it with "
        "Ctrl-C, or build into another folder with --out"
    )
    build.check_output_folder(out)
    with lock(out, holder=holder):
        try:
            server = Server(port, out, state)
        except OSError as exc:
            raise BuildError(
                f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another port with --port"
            ) from None
        stop = threading.Event()
        changes: queue.Queue = queue.Queue()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            with execute.warm_kernels(jobs, start=functools.partial(execute.warm_up_code, charts=True)):
                watch(data_path, changes, stop)
                say(
                    f"serving {url} (the book in {out / 'html'}); watching data, notebooks, book, "
                    f"{paths.CONFIG_FILE.name} and {paths.TOC_FILE.name}; Ctrl-C stops"
                )
                if ready is not None:
                    ready.set()
                preview = Preview(data_path, out, state, jobs, say)
                preview.html("first build")
                loop(preview, changes, data_path, say)
        except KeyboardInterrupt:  # Ctrl-C: the way to stop
            say("stopping (the kernels shut down)")
        finally:
            state.set(state="stopped")  # answers the pages' waiting requests
            stop.set()
            server.shutdown()
            server.server_close()
            for sig, handler in stops.items():
                signal.signal(sig, handler)
    say("stopped")


def _stop_on_signals() -> dict:
    """Ctrl-C and SIGTERM stop the preview cleanly (as KeyboardInterrupt), even when it was
    started with SIGINT ignored; returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}


def loop(preview: Preview, changes: queue.Queue, data_path: Path, say) -> None:
    """Wait for saves; rebuild the HTML for each burst; lay out the PDFs when all is quiet."""
    package = Path(__file__).resolve().parent.parent
    while True:
        try:
            changed = changes.get(timeout=IDLE_BEFORE_PDF if preview.pdf_due else 0.5)
        except queue.Empty:
            if preview.collect_due:
                preview.collect()
            if preview.pdf_due:
                preview.pdf()
            continue
        while not changes.empty():  # the other watcher's part of the same save
            changed |= changes.get_nowait()
        code = {p for p in changed if p.is_relative_to(package)}
        if code:
            say(f"the package changed ({describe(code, data_path)}): restart the preview to use the new code")
            changed -= code
        if changed:
            preview.html(describe(changed, data_path) + " changed")
