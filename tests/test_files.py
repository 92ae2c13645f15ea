"""The staged HTML book shares the served book's unchanged files and never Sphinx's work files."""

from __future__ import annotations

import os

from wgec import files


def tree(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make(root, contents: dict[str, str]) -> None:
    for name, text in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_a_staged_copy_takes_the_served_files_it_shares_and_copies_the_rest(tmp_path):
    work, served, staged = tmp_path / "work", tmp_path / "served", tmp_path / "staged"
    make(work, {"same.html": "same", "sub/changed.html": "new", "sub/added.css": "added", ".buildinfo": "x"})
    make(served, {"same.html": "same", "sub/changed.html": "old", "gone.html": "gone"})
    files.copy_tree(work, staged, like=served, skip=lambda name: name.startswith(".buildinfo"))
    assert tree(staged) == {"same.html": b"same", "sub/added.css": b"added", "sub/changed.html": b"new"}
    assert os.path.samefile(staged / "same.html", served / "same.html")  # shared: no bytes written
    assert not os.path.samefile(staged / "sub/changed.html", served / "sub/changed.html")
    # Sphinx's next build rewrites its work folder in place: nothing staged changes with it.
    for path in work.rglob("*"):
        if path.is_file():
            path.write_text("rewritten", encoding="utf-8")
    assert tree(staged) == {"same.html": b"same", "sub/added.css": b"added", "sub/changed.html": b"new"}
    assert tree(served) == {"gone.html": b"gone", "same.html": b"same", "sub/changed.html": b"old"}


def test_where_the_file_system_refuses_links_the_files_are_copied(tmp_path, monkeypatch):
    work, served, staged = tmp_path / "work", tmp_path / "served", tmp_path / "staged"
    make(work, {"same.html": "same", "sub/page.html": "page"})
    make(served, {"same.html": "same", "sub/page.html": "page"})

    def refuse(src, dst, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse)
    files.copy_tree(work, staged, like=served)
    assert tree(staged) == tree(work)
    assert not os.path.samefile(staged / "same.html", served / "same.html")


def test_a_staged_copy_into_a_folder_with_other_files_keeps_them(tmp_path):
    """The data downloads are written into the staged book while Sphinx builds it."""
    work, served, staged = tmp_path / "work", tmp_path / "served", tmp_path / "staged"
    make(work, {"index.html": "index"})
    served.mkdir()
    make(staged, {"data/table.csv": "a,b"})
    files.copy_tree(work, staged, like=served)
    assert tree(staged) == {"data/table.csv": b"a,b", "index.html": b"index"}
