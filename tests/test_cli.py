"""`wgec check` as a user runs it: a subprocess, its exit code and what it prints."""

import subprocess
import sys
from pathlib import Path

from conftest import edit

WGEC = str(Path(sys.executable).with_name("wgec"))


def run(*args):
    return subprocess.run([WGEC, *args], capture_output=True, text=True, timeout=120)


def test_check_is_clean_on_the_shipped_data(tmp_path):
    result = run("check", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stdout and "no build yet" in result.stdout


def test_check_lists_every_problem_without_a_traceback(data_copy):
    edit(data_copy / "focus_areas.csv", "FA-CON-2,content", "FA-CON-2,contents")
    edit(data_copy / "organization_roles.csv", "content,UNESCO,", "content,UNESCO-X,")
    result = run("check", "--data", str(data_copy))
    assert result.returncode == 1
    assert "2 problems" in result.stderr
    assert "focus_areas.csv, row 7, column 'level': found 'contents'" in result.stderr
    assert "organization_roles.csv, row 6, column 'organization'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_check_on_a_directory_that_does_not_exist(tmp_path):
    result = run("check", "--data", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


def test_debug_shows_the_traceback(data_copy):
    (data_copy / "levels.csv").write_text("")
    result = run("--debug", "check", "--data", str(data_copy))
    assert result.returncode != 0 and "Traceback" in result.stderr
