"""The document's settings (one place: the `wgec_document` block of _config.yml) and its date."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import subprocess
from pathlib import Path

import yaml

from . import paths, session
from .errors import ConfigError

DEFAULTS = {
    "parent_organ": "Economic and Social Council",
    "organ": "Commission on Science and Technology for Development",
    "body": "Working Group on Enhanced Cooperation",
    "symbol": "",
    "distribution": "",  # none set: the masthead has no distribution line
    "date": "",
    "original": "English",
    "meeting": None,
    "agenda_item": "",
    "reproduced_without_formal_editing": False,
    "disclaimer": "",
}
DISTRIBUTIONS = ("General", "Limited", "Restricted")
# The packages that make the outputs (their versions are recorded in the manifest and annex IV).
TOOLS = (
    "jupyter-book",
    "sphinx",
    "myst-nb",
    "matplotlib",
    "pandas",
    "frictionless",
    "typst",
    "openpyxl",
    "pypandoc-binary",
)


def book_config(path: Path | None = None) -> dict:
    """The whole of _config.yml, read with the safe loader."""
    path = path or paths.CONFIG_FILE
    session.record(path.name)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(path.name, exc)) from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path.name}: expected a mapping of settings at the top level")
    return loaded


def yaml_problem(name: str, exc: yaml.YAMLError) -> str:
    """One line saying where the YAML is wrong and why (PyYAML's own message spans several)."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{name}, line {mark.line + 1}, column {mark.column + 1}" if mark else name
    problem = getattr(exc, "problem", None) or str(exc)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start and mark and start.line != mark.line:
        problem += f" ({context} that starts at line {start.line + 1})"
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
        # The safe loader builds plain data only: a Python object tag is refused, never run.
        problem += " (only plain YAML values are allowed: the file is read with the safe loader)"
    return f"{where}: not valid YAML: {problem}"


def document(path: Path | None = None) -> dict:
    """The `sphinx.config.wgec_document` settings, checked, with defaults filled in."""
    name = (path or paths.CONFIG_FILE).name
    raw = book_config(path)
    for key in ("sphinx", "config"):
        raw = raw.get(key) or {}
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{name}: {'sphinx' if key == 'sphinx' else 'sphinx.config'}: expected a mapping "
                f"of settings, found {raw!r}"
            )
    return check_document(raw.get("wgec_document") or {}, name)


def check_document(raw: dict, name: str = "_config.yml") -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: wgec_document: expected a mapping of settings, found {raw!r}")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"{name}: wgec_document: unknown setting {unknown[0]!r}; expected one of {', '.join(DEFAULTS)}"
        )
    settings = {**DEFAULTS, **raw}
    for key, default in DEFAULTS.items():
        value = settings[key]
        if value is None:
            settings[key] = default
        elif key == "meeting":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{name}: wgec_document.meeting: expected a meeting number, found {value!r}")
        elif key == "reproduced_without_formal_editing":
            if not isinstance(value, bool):
                raise ConfigError(f"{name}: wgec_document.{key}: expected true or false, found {value!r}")
        elif not isinstance(value, str):
            raise ConfigError(f"{name}: wgec_document.{key}: expected text, found {value!r}")
    if settings["distribution"] and settings["distribution"] not in DISTRIBUTIONS:
        raise ConfigError(
            f"{name}: wgec_document.distribution: expected one of {', '.join(DISTRIBUTIONS)}, "
            f"found {settings['distribution']!r}"
        )
    if settings["date"]:
        try:
            dt.date.fromisoformat(settings["date"])
        except ValueError:
            raise ConfigError(
                f"{name}: wgec_document.date: expected a date written YYYY-MM-DD, found {settings['date']!r}"
            ) from None
    return settings


def source_date() -> dt.datetime:
    """The build's date: the one the build handed this kernel, else $SOURCE_DATE_EPOCH, else the
    last commit's time, else now (UTC)."""
    session.record("source-date")
    given = session.source_epoch()
    epoch = str(given) if given is not None else os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        try:
            epoch = subprocess.run(
                ["git", "log", "-1", "--format=%ct"], cwd=paths.ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            epoch = ""
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC)


def document_date(settings: dict) -> dt.date:
    return dt.date.fromisoformat(settings["date"]) if settings["date"] else source_date().date()


def tools() -> dict[str, str]:
    """The versions of the tools that make the outputs (recorded in the manifest and annex IV)."""
    session.record("tools")
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    """Looked up once a process: a process runs the tools it imported, whatever is installed
    meanwhile. Read from the names of the installed packages' ``NAME-VERSION.dist-info``
    folders (the wheel's normalized name and version, one listing of each folder of the path);
    a tool installed otherwise is asked of importlib.metadata, which reads and parses every
    package's metadata file (40 ms of the 0.1 s a build of a current book takes)."""
    import re
    import sys

    def normal(name: str) -> str:  # a distribution's name as its folder spells it (PEP 503, 427)
        return re.sub(r"[-_.]+", "_", name).lower()

    wanted = {normal(name): name for name in TOOLS}
    found: dict[str, str] = {}
    for folder in reversed(sys.path):  # the first on the path, the one imported, is kept
        with contextlib.suppress(OSError):
            for entry in os.listdir(folder or "."):
                name, dash, version = entry.removesuffix(".dist-info").partition("-")
                if entry.endswith(".dist-info") and dash and "-" not in version and normal(name) in wanted:
                    found[wanted[normal(name)]] = version
    missing = [name for name in TOOLS if name not in found]
    if missing:
        from importlib import metadata

        found |= {name: metadata.version(name) for name in missing}
    return {name: found[name] for name in TOOLS} | {"python": sys.version.split()[0]}


def un_date(day: dt.date) -> str:
    """A date as UN documents write it: 25 September 2017."""
    return f"{day.day} {day:%B %Y}"
