import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from wgec import paths


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of the shipped data directory."""
    target = tmp_path / "data"
    shutil.copytree(paths.DATA_DIR, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a data file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def append(path: Path, **row) -> None:
    """Add one row to a data table, in its columns' order."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with open(path, "a", newline="", encoding="utf-8") as f:
        csv.DictWriter(f, fieldnames=header, lineterminator="\n").writerow(row)


SOURCE = Path("sources") / "contribution-wgec4.txt"  # the contribution, in a data folder
# (table, column) of the data every edition prints in full: the contribution's passages as the
# report quotes them, and the organizations' names.
PRINTED = [
    ("focus_areas", "text"),
    ("organizations", "acronym"),
    ("organizations", "name"),
    ("characteristics", "text"),
    ("recommendations", "text"),
    ("statements", "text"),
]


def edit_line(data: Path, line: int, old: str, new: str) -> None:
    """Replace text in one line of the contribution's source text, failing loudly if it is not there."""
    path = data / SOURCE
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], f"{old!r} not in line {line}: {lines[line - 1]!r}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def edit_quote(data: Path, table: str, line: int, old: str, new: str) -> None:
    """Change a passage of the contribution as a user does who edits a contribution: in its table
    and in the source text it is quoted from (the build refuses a quotation its source does not
    hold: wgec.book.concordance)."""
    edit(data / table, old, new)
    edit_line(data, line, old, new)


def data_with_organizations(target: Path, names: dict[str, str]) -> Path:
    """A copy of the shipped data with one more organization per (language, name), each with a
    role at the content level (in the contribution's table, line 197, as in its data), so that
    names in other scripts reach the text and the tables."""
    shutil.copytree(paths.DATA_DIR, target)
    for i, (language, name) in enumerate(names.items(), start=1):
        acronym = f"ORG-{language.upper()}"
        append(target / "organizations.csv", acronym=acronym, name=name, source_lines="197", note="")
        append(
            target / "organization_roles.csv",
            level="content",
            organization=acronym,
            column="UN agencies",
            position=str(10 + i),
            source_lines="197",
        )
    edit_line(target, 197, "UNCTAD,", "UNCTAD, " + ", ".join(f"ORG-{language.upper()}" for language in names) + ",")
    return target


WGEC = str(Path(__import__("sys").executable).with_name("wgec"))


def run_wgec(*args, timeout=1800):
    import subprocess

    return subprocess.run([WGEC, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The real report (HTML, PDF, archival PDF), built once per test session as a user builds it."""
    out = tmp_path_factory.mktemp("book")
    result = run_wgec("build", "--out", out)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def built_book(built) -> Path:
    return built / "html"


OUTPUT = Path(__file__).with_name("output")  # renders for a person to look at (git-ignored)


# --- a real browser: Debian's Chromium, driven by Playwright, reads the built site over HTTP ---
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site(built_book):
    """The built site served over HTTP on a free local port; its base URL."""
    handler = functools.partial(QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make deps` (as root) or `apt-get install chromium`")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def project_copy(target: Path, data: bool = False) -> Path:
    """A copy of the project's book sources (and, with ``data``, of data/), for $WGEC_PROJECT."""
    target.mkdir()
    for name in ("_config.yml", "_toc.yml", "notebooks", "book", *(["data"] if data else [])):
        source = paths.ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target / name)
    return target
