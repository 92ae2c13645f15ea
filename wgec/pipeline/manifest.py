"""Fingerprints of a build: every input with its SHA-256, the state an output was built from,
and which outputs are stale (``OUT/manifest.json``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import paths, settings
from ..files import sha256

# The project's own files that shape the outputs (besides the data folder).
# _static/: Jupyter Book adds the CSS and scripts a project keeps there to every page.
PROJECT_GLOBS = ("_config.yml", "_toc.yml", "notebooks/*.md", "book/**/*", "_static/**/*", "requirements.lock")


def inputs(data_path: Path) -> dict[str, str]:
    """Every input of the build: the data files and the project's own files, with SHA-256."""
    found = {}
    base = data_path.resolve()
    for path in sorted(data_path.rglob("*")):
        rel = path.relative_to(data_path)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            # A link out of the data directory is never up to date: the validation refuses it.
            inside = path.resolve().is_relative_to(base)
            found[f"data/{rel.as_posix()}"] = sha256(path) if inside else "outside the data directory"
    for pattern in PROJECT_GLOBS:
        for path in sorted(paths.ROOT.glob(pattern)):
            if _source(path):
                found[path.relative_to(paths.ROOT).as_posix()] = sha256(path)
    # The package's code and templates, from where it is (not always in the project: the
    # benchmark's copies, a project beside an installed package), as wgec/...
    for path in sorted(paths.PACKAGE_DIR.rglob("*")):
        if _source(path):
            found[f"{paths.PACKAGE_DIR.name}/{path.relative_to(paths.PACKAGE_DIR).as_posix()}"] = sha256(path)
    return found


def _source(path: Path) -> bool:
    """A file, not Python's compiled cache (which any run may rewrite)."""
    return path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"


def files(found: dict[str, str], data_path: Path) -> dict[Path, str]:
    """:func:`inputs` by file path (``data/…`` is in ``data_path``)."""
    return {_file(k, data_path): v for k, v in found.items()}


def _file(key: str, data_path: Path) -> Path:
    """Where the input named ``key`` is: in the data folder, the package or the project."""
    if key.startswith("data/"):
        return data_path / key[5:]
    if key.startswith(f"{paths.PACKAGE_DIR.name}/"):
        return paths.PACKAGE_DIR.parent / key
    return paths.ROOT / key


def digest(state: dict) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def state(data_path: Path, variant: str) -> dict:
    """What the outputs are a function of: inputs, tool versions, PDF variant, source date."""
    return {
        "inputs": inputs(data_path),
        "tools": settings.tools(),
        "variant": variant,
        "source_date": settings.source_date().date().isoformat(),
    }


def read(out: Path) -> dict | None:
    try:
        return json.loads((out / paths.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stale_outputs(
    data_path: Path, out: Path, wanted=("html", "pdf", "archival"), variant: str = "pdf/ua-1"
) -> tuple[list[str], list[str]]:
    """(stale or missing outputs, inputs changed since they were built) for ``out``."""
    return stale(out, state(data_path, variant), wanted)


def stale(out: Path, now: dict, wanted) -> tuple[list[str], list[str]]:
    """The outputs of ``wanted`` kinds not built from the state ``now`` or changed since."""
    manifest = read(out) or {}
    current = digest(now)
    found = []
    built = manifest.get("outputs", {})
    for kind in wanted:
        files = {name: entry for name, entry in built.items() if entry.get("kind") == kind}
        if not files or any(e.get("state") != current for e in files.values()):
            found.append(kind)
            continue
        for name, entry in files.items():
            target = out / name
            if not target.is_file() or sha256(target) != entry["sha256"]:
                found.append(kind)
                break
    old = manifest.get("inputs", {})
    changed = sorted(k for k in set(old) | set(now["inputs"]) if old.get(k) != now["inputs"].get(k))
    if manifest.get("tools") and manifest["tools"] != now["tools"]:
        changed.append("tool versions")
    return found, changed


def page_inputs(name: str, record: dict, docs: dict, descriptor: dict) -> list[str]:
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
            module = Path(rest)
            package = paths.PACKAGE_DIR.parent
            used.append(module.relative_to(package).as_posix() if module.is_relative_to(package) else rest)
        else:
            used.append(key)
    return sorted(set(used))
