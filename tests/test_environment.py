"""The pinned environment: one lock, and environment.yml naming the same versions."""

import re
import tomllib

from wgec import paths


def _pins(text):
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^\s*-?\s*([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_environment_yml_agrees_with_the_lock():
    lock = _pins((paths.ROOT / "requirements.lock").read_text())
    conda = _pins((paths.ROOT / "environment.yml").read_text())
    assert lock and lock == conda


def test_every_direct_dependency_is_locked():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["test"]
    lock = _pins((paths.ROOT / "requirements.lock").read_text())
    for requirement in direct:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        assert name in lock, f"{name} is not pinned in requirements.lock"
