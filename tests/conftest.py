import shutil
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
