"""Small file operations every stage shares: a file's SHA-256, JSON written atomically, and a
folder replaced by another without a half-written state ever being seen."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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
