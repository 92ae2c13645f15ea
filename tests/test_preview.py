"""`wgec preview` as a user runs it: it builds, serves on 127.0.0.1, rebuilds on save, shows a
failed rebuild's error over the last good page, refuses a concurrent `make`, serves nothing
outside the build folder, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import csv
import fcntl
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import WGEC, edit, edit_quote
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from wgec import paths
from wgec.pipeline import preview

PAGE = "/html/notebooks/02c_characteristics.html"


# --- the parts, on their own ---------------------------------------------------------


def test_only_the_served_folders_resolve(tmp_path):
    out = tmp_path / "out"
    (out / "html" / "notebooks").mkdir(parents=True)
    (out / "html" / "notebooks" / "a.html").write_text("x")
    (out / "secret.txt").write_text("s")
    (out / "html" / "link").symlink_to(out / "secret.txt")
    assert preview.resolve(out, "/html/notebooks/a.html") == (out / "html/notebooks/a.html").resolve()
    for path in (
        "/secret.txt",
        "/html/../secret.txt",
        "/html/%2e%2e/secret.txt",
        "/html/..%2fsecret.txt",
        "/html/link",
        "/.lock",
        "/manifest.json",
        "/.cache/executions.json",
        "/html/a%5c..%5csecret.txt",
        "/html/%00",
        "//etc/passwd",
        "/html/./notebooks/a.html",
    ):
        assert preview.resolve(out, path) is None, path


def test_the_reload_script_goes_before_the_end_of_the_body():
    page = preview.inject(b"<html><body><p>x</p></body></html>", 7)
    assert page.endswith(b'<script src="/__wgec__/reload.js" data-version="7"></script></body></html>')


# --- the real preview ----------------------------------------------------------------


def request(port: int, path: str, method: str = "GET", host: str | None = None) -> tuple[int, bytes]:
    """One request with the path exactly as given (http.client does not normalize it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def status(port: int) -> dict:
    return json.loads(request(port, "/__wgec__/status")[1])


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def descendants(pid: int) -> set[int]:
    """Every living process started by ``pid``, and theirs (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Running:
    def __init__(self, data: Path, out: Path):
        self.data, self.out = data, out
        self.process = subprocess.Popen(
            [WGEC, "preview", "--data", str(data), "--out", str(out), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self.read, daemon=True).start()
        found = wait_for(
            lambda: next(
                (m for line in self.lines if (m := re.search(r"serving http://127\.0\.0\.1:(\d+)/", line))), None
            ),
            300,
            "the preview to listen",
        )
        self.port = int(found.group(1))

    def read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    import shutil

    base = tmp_path_factory.mktemp("preview")
    shutil.copytree(paths.DATA_DIR, base / "data")
    live = Running(base / "data", base / "out")
    try:
        wait_for(
            lambda: (
                (status(live.port)["version"] >= 1 and status(live.port)["state"] == "ready")
                or status(live.port)["state"] == "failed"
            ),
            900,
            "the first build",
        )
        assert status(live.port)["state"] == "ready", live.log
        yield live
    finally:
        if live.process.poll() is None:
            for pid in descendants(live.process.pid):
                os.kill(pid, signal.SIGKILL)
            live.process.kill()
            live.process.wait()


def first_characteristic(running) -> bytes:
    """A text the characteristics page prints from the data: its first high-level characteristic."""
    with open(running.data / "characteristics.csv", encoding="utf-8", newline="") as handle:
        return next(csv.DictReader(handle))["text"].encode()


@pytest.mark.slow
def test_the_preview_serves_the_book_on_loopback_with_the_reload_script(running):
    code, page = request(running.port, PAGE)
    assert code == 200 and first_characteristic(running) in page and b"/__wgec__/reload.js" in page
    assert b"/__wgec__/" not in (running.out / PAGE.lstrip("/")).read_bytes(), "the built file is left as built"
    code, _ = request(running.port, "/")
    assert code == 302
    listening = [
        line
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1].endswith(f":{running.port:04X}") and line.split()[3] == "0A"
    ]
    assert listening and all(line.split()[1].startswith("0100007F:") for line in listening), "127.0.0.1 only"


@pytest.mark.slow
def test_the_previews_book_is_the_builds_byte_for_byte(running, built):
    """Its kernels are kept warm (imports kept, a chart drawn and glued as they start) and its
    staged book shares the served one's files: what it serves (before the script it adds to a
    page as it sends it) is still exactly what `wgec build` makes of the same data."""

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    ours, theirs = files(running.out / "html"), files(built / "html")
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [
        "/html/../../../../etc/passwd",
        "/html/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/html/..%2f..%2f..%2fetc%2fpasswd",
        "/../manifest.json",
        "/manifest.json",
        "/.cache/executions.json",
        "/.work/stamp.json",
        "/etc/passwd",
        "/html%2f..%2f.lock",
    ],
)
def test_a_path_outside_the_build_folder_is_refused(running, path):
    code, body = request(running.port, path)
    assert code == 403 and b"root:" not in body and b"sha256" not in body


@pytest.mark.slow
def test_a_request_for_another_host_name_is_refused(running):
    assert request(running.port, PAGE, host=f"localhost:{running.port}")[0] == 200
    code, body = request(running.port, PAGE, host=f"rebinding.example:{running.port}")
    assert code == 403 and first_characteristic(running) not in body


@pytest.mark.slow
def test_a_link_out_of_the_build_folder_is_not_followed(running, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("SECRET-CONTENT-42")
    link = running.out / "html" / "leak.txt"
    link.symlink_to(outside)
    try:
        code, body = request(running.port, "/html/leak.txt")
        assert code == 403 and b"SECRET-CONTENT-42" not in body
    finally:
        link.unlink()


@pytest.mark.slow
def test_a_connection_dropped_by_the_browser_prints_nothing(running):
    import socket
    import struct

    for request_line in (b"", b"GET /html/index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
        connection = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        connection.sendall(request_line)
        time.sleep(0.2)
        # Closed with a reset (SO_LINGER 0), as a browser's dropped connection often is.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    time.sleep(0.5)
    assert request(running.port, PAGE)[0] == 200, "the server still answers"
    assert "Traceback" not in running.log and "Connection" not in running.log, running.log[-3000:]


@pytest.mark.slow
def test_a_concurrent_make_is_refused_naming_the_preview(running):
    before = (running.out / "html" / PAGE.split("/html/")[1]).read_bytes()
    result = subprocess.run(
        ["make", "-s", f"OUT={running.out}", f"DATA={running.data}"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "in use by `wgec preview`" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert (running.out / "html" / PAGE.split("/html/")[1]).read_bytes() == before


@pytest.mark.slow
@pytest.mark.browser
def test_an_edit_reaches_the_open_page_and_a_bad_edit_shows_its_error_over_the_last_good_page(running, browser):
    table = running.data / "characteristics.csv"
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{running.port}{PAGE}")
        assert "collaborative" in page.inner_text("main").lower()
        page.wait_for_load_state("load")
        page.evaluate("window.scrollTo(0, 300); window.wgecSamePage = true")
        scrolled = page.evaluate("window.scrollY")
        edit_quote(running.data, "characteristics.csv", 164, "Collaborative", "Collaborative and open")
        try:
            page.wait_for_function(
                "(document.querySelector('main')?.innerText || '').includes('Collaborative and open')", timeout=120_000
            )  # the page reloaded by itself
        except PlaywrightTimeout:
            served = b"Collaborative and open" in request(running.port, PAGE)[1]
            raise AssertionError(
                f"the open page never showed the edit (served: {served}; status: {status(running.port)}); "
                f"the preview said:\n{running.log[-3000:]}"
            ) from None
        assert b"Collaborative and open" in request(running.port, PAGE)[1]
        # Only the article changed: it took the old one's place, without a reload, where the reader was.
        assert page.evaluate("[window.wgecSamePage, window.scrollY]") == [True, scrolled]

        good = table.read_text(encoding="utf-8")
        edit(table, "HLC-2,2,", "HLC-2,two,")
        page.wait_for_function(
            "(document.getElementById('wgec-preview') || {}).innerText?.includes('row 3')", timeout=120_000
        )
        shown = page.inner_text("#wgec-preview")
        assert "characteristics.csv, row 3, column 'position': found 'two'" in shown, shown
        assert status(running.port)["state"] == "failed"
        assert "characteristics.csv, row 3" in running.log, "the error is in the terminal too"
        code, body = request(running.port, PAGE)
        assert code == 200 and b"Collaborative and open" in body, "the last good page is still served"
        assert running.process.poll() is None

        table.write_text(good, encoding="utf-8")
        wait_for(lambda: status(running.port)["state"] == "ready", 120, "the rebuild after the fix")
        page.wait_for_function(
            "!document.getElementById('wgec-preview') || "
            "getComputedStyle(document.getElementById('wgec-preview')).display === 'none'",
            timeout=60_000,
        )

        # A page whose frame changed (here its title, as served when it was opened) reloads whole.
        served = running.out / PAGE.lstrip("/")
        title = page.title()
        served.write_text(served.read_text(encoding="utf-8").replace("<title>", "<title>Changed: ", 1), "utf-8")
        page.reload()
        assert page.title().startswith("Changed: ")
        page.evaluate("window.wgecSamePage = true")
        edit_quote(running.data, "characteristics.csv", 164, "Collaborative and open", "Collaborative and shared")
        page.wait_for_function(
            "(document.querySelector('main')?.innerText || '').includes('Collaborative and shared')", timeout=120_000
        )
        assert page.evaluate("window.wgecSamePage === undefined") and page.title() == title
    finally:
        page.close()


@pytest.mark.slow
def test_ctrl_c_stops_the_server_the_watchers_and_the_kernels(running):
    started = descendants(running.process.pid)
    assert started, "the warm kernels run while the preview does"
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=120) == 0
    time.sleep(0.5)
    assert "stopped" in running.log and "Traceback" not in running.log, running.log[-3000:]
    wait_for(lambda: not any(alive(pid) for pid in started), 30, "every process of the preview to end")
    with pytest.raises(OSError):
        request(running.port, "/__wgec__/status")
    with open(running.out / ".lock", "a+") as handle:  # the build lock is free again
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
