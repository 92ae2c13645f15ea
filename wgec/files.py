"""Small file operations every stage shares: a file's SHA-256, JSON written atomically, a folder
copied sharing the files it has in common with another, and a folder replaced by another without
a half-written state ever being seen."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, content: dict) -> None:
    """JSON (sorted keys, UTF-8) written to a temporary file, then renamed into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` in the place of ``target`` with two renames (no half-written folder is ever seen)."""
    old = target.with_name(f".old-{target.name}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def copy_tree(src: Path, dst: Path, like: Path, skip: Callable[[str], bool] = lambda name: False) -> None:
    """Copy the folder ``src`` to ``dst`` (a new folder, or one that holds none of the names
    ``src`` has), except the entries whose name ``skip`` is true of; a file with the same bytes
    at the same place under ``like`` is hard-linked from there instead of copied. ``like`` is a
    folder that is only ever replaced whole (:func:`replace_folder`), never written in place, so
    ``dst`` can take its unchanged files at no cost (a rebuild that changed four pages of 180
    files copied 8 MB), and no file of ``dst`` is a link to ``src`` (which is rewritten in place
    by its next build). A file of ``dst`` may be one of ``like``'s: replace it, never rewrite it
    in place."""
    dst.mkdir(exist_ok=True)
    with os.scandir(src) as entries:
        for entry in entries:
            if skip(entry.name):
                continue
            source, target, old = Path(entry.path), dst / entry.name, like / entry.name
            if entry.is_dir(follow_symlinks=False):
                copy_tree(source, target, old, skip)
            elif not (_same(entry, old) and _link(old, target)):
                shutil.copy2(source, target, follow_symlinks=False)


def _same(entry: os.DirEntry, old: Path) -> bool:
    """Whether the file ``old`` holds the bytes of ``entry`` (a regular file)."""
    try:
        if not entry.is_file(follow_symlinks=False) or old.is_symlink() or old.stat().st_size != entry.stat().st_size:
            return False
        return old.read_bytes() == Path(entry.path).read_bytes()
    except OSError:
        return False


def _link(old: Path, target: Path) -> bool:
    """Hard-link ``old`` as ``target``; False where the file system refuses (then it is copied)."""
    try:
        os.link(old, target)
    except OSError:
        return False
    return True
