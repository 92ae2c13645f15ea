"""Builds you can trust: stale-proof refresh, no-op rebuilds, same bytes, atomic, locked."""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import WGEC, edit, edit_quote, project_copy, run_wgec

from wgec import paths

pytestmark = pytest.mark.slow


def hashes(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for sub in ("html", "pdf")
        for p in sorted((out / sub).rglob("*"))
        if p.is_file()
    }


def executions(out: Path) -> dict:
    return json.loads((out / ".cache" / "executions.json").read_text())


def dependents(out: Path, table: str) -> set[str]:
    """The notebooks whose recorded inputs include a table."""
    return {Path(nb).stem for nb, entry in executions(out).items() if f"table:{table}" in entry["inputs"]}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A data copy and an output folder with one good build in it."""
    root = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(paths.DATA_DIR, root / "data")
    result = run_wgec("build", "--data", root / "data", "--out", root / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def test_the_manifest_lists_every_input_and_output(workspace):
    out = workspace / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in hashes(out).items():
        assert manifest["outputs"][name]["sha256"] == digest
    assert set(manifest["outputs"]) == set(hashes(out))
    assert (
        manifest["inputs"]["data/focus_areas.csv"]
        == hashlib.sha256((workspace / "data" / "focus_areas.csv").read_bytes()).hexdigest()
    )
    assert {"notebooks/02a_scope_and_focus_areas.md", "_config.yml", "wgec/report/narrative.py"} <= set(
        manifest["inputs"]
    )
    page = manifest["outputs"]["html/notebooks/02a_scope_and_focus_areas.html"]["from"]
    assert "data/focus_areas.csv" in page and "data/wgec_meetings.csv" not in page
    assert {"jupyter-book", "sphinx", "typst"} <= set(manifest["tools"])
    # The versions recorded (and printed in annex IV) are those installed, as the packages' own
    # metadata gives them (the build reads them from the folders' names: wgec.settings).
    from importlib import metadata

    from wgec import settings

    assert {k: v for k, v in manifest["tools"].items() if k != "python"} == {
        name: metadata.version(name) for name in settings.TOOLS
    }
    assert manifest["tools"]["python"] == sys.version.split()[0]
    text = json.dumps(manifest)
    assert str(workspace) not in text and str(paths.ROOT) not in text  # no absolute paths of this machine
    assert not [k for k in manifest["inputs"] if "__pycache__" in k or k.endswith(".pyc")]


def test_compiled_python_in_the_project_is_no_input(tmp_path, monkeypatch):
    """Python's compiled cache (any run may rewrite it) is no input, in the package or beside the
    book's own files (book/ may hold an extension with its __pycache__); the source beside it is."""
    from conftest import project_copy

    from wgec.pipeline import manifest

    project = project_copy(tmp_path / "project", data=True)
    (project / "book" / "ext").mkdir()
    (project / "book" / "ext" / "helper.py").write_text("X = 1\n")
    (project / "book" / "ext" / "__pycache__").mkdir()
    (project / "book" / "ext" / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\x00compiled")
    monkeypatch.setattr(paths, "ROOT", project)
    found = manifest.inputs(project / "data")
    assert "book/ext/helper.py" in found and "notebooks/01_introduction.md" in found
    assert not [k for k in found if "__pycache__" in k or k.endswith(".pyc")]
    assert (
        manifest.files(found, project / "data")[project / "book" / "ext" / "helper.py"] == found["book/ext/helper.py"]
    )


def test_a_projects_own_static_files_are_inputs(tmp_path, monkeypatch):
    """Jupyter Book adds the CSS and scripts of a project's _static/ to every page: a file there is
    an input (a change makes the outputs stale, and Jupyter Book's configuration is worked out again)."""
    from conftest import project_copy

    from wgec.pipeline import manifest

    project = project_copy(tmp_path / "project", data=True)
    monkeypatch.setattr(paths, "ROOT", project)
    before = manifest.inputs(project / "data")
    (project / "_static" / "css").mkdir(parents=True)
    (project / "_static" / "css" / "custom.css").write_text("main { color: black; }\n")
    after = manifest.inputs(project / "data")
    assert set(after) - set(before) == {"_static/css/custom.css"}


def test_the_book_build_executes_nothing_and_the_cache_holds_only_the_refreshs_runs(workspace):
    """Only the refresh runs notebooks: the execution cache holds one run per notebook and none of
    a page that is not one (book/about.md, which myst-nb executed in a kernel of its own, while
    the refresh wrote the cache from another thread)."""
    from jupyter_cache import get_cache

    from wgec.book import execute

    cache = get_cache(str(workspace / "out" / ".cache" / "jupyter_cache"))
    cached = sorted(Path(record.uri).name for record in cache.list_cache_records())
    assert cached == sorted(p.name for p in execute.notebooks())


def test_a_rebuild_with_nothing_changed_does_nothing(workspace):
    out = workspace / "out"
    before = hashes(out)
    manifest = (out / "manifest.json").read_bytes()
    result = run_wgec("build", "--data", workspace / "data", "--out", out)
    assert result.returncode == 0 and "up to date" in result.stdout
    assert hashes(out) == before and (out / "manifest.json").read_bytes() == manifest
    check = run_wgec("check", "--data", workspace / "data", "--out", out)
    assert check.returncode == 0 and "up to date" in check.stdout


def test_an_edited_table_is_never_stale(workspace):
    out, data = workspace / "out", workspace / "data"
    expected = dependents(out, "wgec_meetings")
    assert "01_introduction" in expected and "02a_scope_and_focus_areas" not in expected
    old_html = (out / "html/notebooks/01_introduction.html").read_text()
    old_figure = hashes(out)
    edit(data / "wgec_meetings.csv", "2018-01-31", "2018-02-01")

    check = run_wgec("check", "--data", data, "--out", out)
    assert check.returncode == 1
    assert "stale" in check.stderr and "data/wgec_meetings.csv" in check.stderr

    result = run_wgec("build", "--data", data, "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["last_refresh"]["executed"]) == expected  # the execution record, not timing
    new_html = (out / "html/notebooks/01_introduction.html").read_text()
    assert "31 January 2018" in old_html and "1 February 2018" in new_html
    assert "1 February 2018" in subprocess.run(
        ["pdftotext", str(out / "pdf/wgec-report.pdf"), "-"], capture_output=True, text=True
    ).stdout.replace("\n", " ")
    changed = {k for k, v in hashes(out).items() if old_figure.get(k) != v}
    assert any(k.startswith("html/_images/") for k in changed)  # the timeline figure was redrawn


def test_a_page_is_never_stale_whichever_command_ran_its_notebook(workspace):
    """`wgec refresh` (or `wgec pdf`, or the preview's PDF step) runs the notebooks an edit made
    stale; the next `wgec html` finds none to run, and must still show their new outputs."""
    out, data = workspace / "out", workspace / "data"
    page = out / "html/notebooks/01_introduction.html"
    assert "Palais des Nations" in page.read_text() and "(Room XX)" not in page.read_text()
    edit(data / "wgec_meetings.csv", "Palais des Nations", "Palais des Nations (Room XX)")
    refreshed = run_wgec("refresh", "--data", data, "--out", out)
    assert refreshed.returncode == 0 and "01_introduction" in refreshed.stdout, refreshed.stderr[-3000:]
    pdf = run_wgec("pdf", "--data", data, "--out", out)
    assert pdf.returncode == 0 and "none" in pdf.stdout, pdf.stderr[-3000:]
    html = run_wgec("html", "--data", data, "--out", out)
    assert html.returncode == 0 and "none" in html.stdout, html.stderr[-3000:]
    assert "Palais des Nations (Room XX)" in page.read_text()
    assert "(Room XX)" in subprocess.run(
        ["pdftotext", str(out / "pdf/wgec-report.pdf"), "-"], capture_output=True, text=True
    ).stdout.replace("\n", " ")


def test_a_build_starts_as_many_kernels_as_its_stale_notebooks_are_worth(workspace, tmp_path):
    """None when no notebook is stale; one for a second or so of notebooks (a second kernel's
    start would take its core from the rest of the build); one per core for a long refresh."""
    from wgec.book import execute

    data, cache = tmp_path / "data", tmp_path / "cache"
    shutil.copytree(workspace / "data", data)
    shutil.copytree(workspace / "out" / ".cache", cache)
    assert execute.pending(data, cache, jobs=2) == 0
    with (data / "wgec_meetings.csv").open("a", encoding="utf-8") as table:
        table.write("\n")  # a table's bytes changed: its notebooks are stale
    record = json.loads((cache / "executions.json").read_text())
    stale = [name for name, entry in record.items() if "table:wgec_meetings" in entry["inputs"]]
    assert len(stale) >= 2
    for seconds, kernels in ((0.1, 1), (60.0, 2)):
        for entry in record.values():
            entry["seconds"] = seconds
        (cache / "executions.json").write_text(json.dumps(record))
        assert execute.pending(data, cache, jobs=2) == kernels
    assert execute.pending(data, cache, jobs=1) == 1
    (cache / "executions.json").unlink()  # never run: every notebook is stale, of unknown length
    assert execute.pending(data, cache, jobs=2) == 2


def test_a_killed_build_leaves_the_last_good_outputs(workspace):
    out, data = workspace / "out", workspace / "data"
    before = hashes(out)
    edit_quote(data, "characteristics.csv", 159, "Inclusive", "Inclusive of all")
    process = subprocess.Popen(
        [WGEC, "build", "--data", str(data), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob(".staging-*")):
        time.sleep(0.2)
    time.sleep(1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert hashes(out) == before
    result = run_wgec("build", "--data", data, "--out", out)  # and the next build just works
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Inclusive of all" in (out / "html/notebooks/02c_characteristics.html").read_text()


def test_an_interrupted_build_says_so_and_changes_nothing(workspace):
    out, data = workspace / "out", workspace / "data"
    before = hashes(out)
    edit_quote(data, "characteristics.csv", 164, "Collaborative", "Collaborative work")
    leftovers = set(out.glob(".staging-*"))
    process = subprocess.Popen(
        [WGEC, "build", "--data", str(data), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not set(out.glob(".staging-*")) - leftovers:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert hashes(out) == before


def test_warm_workers_let_go_early_have_stopped_once_settled():
    """A failed build lets its warm workers go while it reports, then settles before it exits: by
    then every thread that manages them has ended (one still closing its pipe as the interpreter
    exited died with a traceback under the build's message, OSError: Bad file descriptor)."""
    from wgec.book import execute

    before = set(threading.enumerate())
    for _ in range(3):
        with execute.warm_kernels(jobs=2) as pool:
            assert pool.submit(os.getpid).result(timeout=120) != os.getpid()
            execute.release(pool)
        execute.settle()
        left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
        assert left == [], f"still running after settle(): {left}"


def test_a_second_build_at_once_is_refused(workspace):
    out = workspace / "out"
    with open(out / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_wgec("build", "--data", workspace / "data", "--out", out)
    assert result.returncode == 1
    assert "another build" in result.stderr and "Traceback" not in result.stderr


def test_two_builds_in_different_folders_give_the_same_bytes(built, tmp_path):
    """The session's build of the shipped data, and another from a copy of it elsewhere."""
    shutil.copytree(paths.DATA_DIR, tmp_path / "elsewhere" / "data")
    result = run_wgec("build", "--data", tmp_path / "elsewhere" / "data", "--out", tmp_path / "second")
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = hashes(built), hashes(tmp_path / "second")
    assert first.keys() == second.keys()
    differing = sorted(k for k in first if first[k] != second[k])
    assert differing == []


def built_copy(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A copy of the project (with its data) as $WGEC_PROJECT, at the source date of this
    checkout, built into ``tmp_path/out``: (the project, the output folder)."""
    from wgec import settings

    project = project_copy(tmp_path / "project", data=True)
    monkeypatch.setenv("WGEC_PROJECT", str(project))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(settings.source_date().timestamp())))
    out = tmp_path / "out"
    result = run_wgec("build", "--data", project / "data", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    return project, out


def test_an_earlier_output_folder_inside_the_project_is_not_read_as_sources(tmp_path, monkeypatch):
    """A project that holds the output folder of an earlier build (``--out old``) builds into
    another one: the executed notebooks that folder keeps (.cache) and its work folder (.work)
    are not pages of the book (Sphinx read them, and failed on their labels)."""
    project, out = built_copy(tmp_path, monkeypatch)
    shutil.copytree(out, project / "old")
    assert list((project / "old" / ".cache").rglob("*.ipynb"))
    result = run_wgec("html", "--data", project / "data", "--out", tmp_path / "again")
    assert result.returncode == 0, result.stderr[-3000:]
    again = tmp_path / "again" / "html"
    pages = sorted(p.relative_to(again).as_posix() for p in again.rglob("*.html"))
    assert "notebooks/01_introduction.html" in pages
    assert pages == sorted(p.relative_to(out / "html").as_posix() for p in (out / "html").rglob("*.html"))


def test_an_incremental_build_gives_the_bytes_of_a_cold_build(tmp_path, monkeypatch):
    """A paragraph added to the introduction moves the numbers of every later paragraph, and
    annex III's links to them; one table edited changes one page. The incremental build writes
    again what that changes (pages not read again included), and nothing differs from a cold
    build of the same sources."""
    project, out = built_copy(tmp_path, monkeypatch)
    before = hashes(out)

    edit(
        project / "notebooks" / "01_introduction.md",
        "## The contribution\n",
        "## The contribution\n\nAn added paragraph.\n",
    )
    edit(project / "data" / "wgec_meetings.csv", "Palais des Nations", "Palais des Nations (Room XX)")
    result = run_wgec("build", "--data", project / "data", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    executed = json.loads((out / "manifest.json").read_text())["last_refresh"]["executed"]
    assert "annex3_source_text" not in executed and "03_recommendations" not in executed  # not read again
    result = run_wgec("build", "--data", project / "data", "--out", tmp_path / "cold")
    assert result.returncode == 0, result.stderr[-3000:]

    incremental, cold = hashes(out), hashes(tmp_path / "cold")
    assert sorted(k for k in cold if incremental.get(k) != cold[k]) == []
    assert incremental.keys() == cold.keys()
    changed = {k for k in cold if before.get(k) != cold[k]}
    assert {
        "html/notebooks/01_introduction.html",
        "html/notebooks/03_recommendations.html",
        "html/notebooks/annex3_source_text.html",
    } <= changed
    assert "An added paragraph." in (out / "html/notebooks/01_introduction.html").read_text()


def test_a_notebook_failing_while_the_pages_are_read_keeps_the_last_good_book_and_the_next_build_is_right(
    tmp_path, monkeypatch
):
    """The first Sphinx build reads each page as soon as its notebook is done. A notebook that
    fails after other pages were read fails the build with its own message (no traceback of
    Sphinx's), changes no output, and does not cost the next build a clean start; the build
    after the fix reads the pages read in the failed one again, and gives the bytes of a cold build."""
    project, out = built_copy(tmp_path, monkeypatch)
    before = hashes(out)

    provenance = project / "notebooks" / "annex4_provenance.md"  # the shortest: it runs last
    good = provenance.read_text(encoding="utf-8")
    failing = '\n```{code-cell} ipython3\nraise ValueError("the provenance annex fails")\n```\n'
    provenance.write_text(good + failing, encoding="utf-8")
    edit(project / "data" / "wgec_meetings.csv", "Palais des Nations", "Palais des Nations (Room XX)")
    result = run_wgec("build", "--data", project / "data", "--out", out)
    assert result.returncode != 0
    assert "notebooks/annex4_provenance.md" in result.stderr and "the provenance annex fails" in result.stderr
    assert "Traceback" not in result.stderr and "Exception occurred" not in result.stderr
    assert hashes(out) == before
    assert (out / ".work" / "stamp.json").is_file() and (out / ".work" / "doctrees" / "environment.pickle").is_file()
    # The other notebooks' runs of the edited table were kept (and their pages read, then dropped).
    ran = json.loads((out / ".cache" / "executions.json").read_text())
    meetings = hashlib.sha256((project / "data" / "wgec_meetings.csv").read_bytes()).hexdigest()
    kept = {name for name, entry in ran.items() if entry["inputs"].get("table:wgec_meetings") == meetings}
    assert {"00_front_matter.md", "01_introduction.md", "annex1_data_tables.md"} <= kept

    provenance.write_text(good, encoding="utf-8")
    result = run_wgec("build", "--data", project / "data", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    executed = json.loads((out / "manifest.json").read_text())["last_refresh"]["executed"]
    assert executed == ["annex4_provenance"]  # the others' runs were kept by the failed build
    assert "Room XX" in (out / "html/notebooks/01_introduction.html").read_text()
    result = run_wgec("build", "--data", project / "data", "--out", tmp_path / "cold")
    assert result.returncode == 0, result.stderr[-3000:]
    incremental, cold = hashes(out), hashes(tmp_path / "cold")
    assert incremental.keys() == cold.keys()
    assert sorted(k for k in cold if incremental[k] != cold[k]) == []


WARM_BUILD = """
import json, sys
from wgec.pipeline import build
result = build.build(sys.argv[1], sys.argv[2], html=True, pdf=True, archival=True, quiet=True, warm=True)
print(json.dumps({"result": result["up_to_date"], "executed": result["executed"], "modules": sorted(sys.modules)}))
"""


def test_a_warm_build_of_a_current_book_runs_every_step_and_writes_the_same_bytes(tmp_path, monkeypatch):
    """The preview's first build, on a book that is already current, runs every step (so that the
    first rebuild after a save finds Sphinx, the validator and Typst loaded and set up; pandas is
    the kernels' alone): no notebook runs, and every output keeps its bytes; a normal build then
    has nothing to do."""
    project, out = built_copy(tmp_path, monkeypatch)
    before = hashes(out)
    result = subprocess.run(
        [sys.executable, "-c", WARM_BUILD, str(project / "data"), str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["result"] is False and report["executed"] == []
    assert {"sphinx.application", "frictionless", "typst", "wgec.book.sphinx_ext"} <= set(report["modules"])
    assert "pandas" not in report["modules"]
    assert hashes(out) == before
    result = run_wgec("build", "--data", project / "data", "--out", out)
    assert result.returncode == 0 and "up to date" in result.stdout + result.stderr, result.stderr[-3000:]
    # The copy holds no package of its own: the package's files, where it is, are inputs all
    # the same (the PDF's template changed, the PDF was up to date), named as in the checkout.
    manifest = json.loads((out / "manifest.json").read_text())
    template = paths.PACKAGE_DIR / "editions" / "un.typ"
    assert manifest["inputs"]["wgec/editions/un.typ"] == hashlib.sha256(template.read_bytes()).hexdigest()
    assert "wgec/report/charts.py" in manifest["outputs"]["html/notebooks/01_introduction.html"]["from"]


def test_the_themes_templates_are_compiled_once_and_an_edited_template_reaches_every_page(tmp_path, monkeypatch):
    """Jinja keeps the templates' bytecode in the work folder (a build does not compile them again);
    a template edited in book/_templates is in every page of the next build all the same."""
    project = project_copy(tmp_path / "project", data=True)
    monkeypatch.setenv("WGEC_PROJECT", str(project))
    out = tmp_path / "out"
    result = run_wgec("html", "--data", project / "data", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((out / ".work" / "jinja" / "html").glob("__jinja2_*.cache"))) >= 10
    marker = "Colour scheme of the page"
    edit(project / "book" / "_templates" / "theme-switcher.html", "{{ _('Color mode') }}", marker)
    result = run_wgec("html", "--data", project / "data", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = sorted((out / "html" / "notebooks").glob("*.html"))
    assert len(pages) == 12 and all(f'aria-label="{marker}"' in page.read_text() for page in pages)


def test_a_sentence_edited_in_a_notebooks_markdown_reaches_the_book_and_the_pdf(tmp_path, monkeypatch):
    """The prose is the notebook's Markdown: a writer edits a sentence there, its {eval} value still
    comes from the data, literal, and the edit is in the HTML page and in the PDF."""
    from conftest import project_copy

    from wgec.data import load

    project = project_copy(tmp_path / "project", data=True)
    monkeypatch.setenv("WGEC_PROJECT", str(project))
    notebook = project / "notebooks" / "02c_characteristics.md"
    written = "Under this heading the contribution lists {eval}`characteristics`:"
    assert written in notebook.read_text(encoding="utf-8")
    edit(notebook, written, "The contribution enumerates {eval}`characteristics`, in its words:")
    result = run_wgec("build", "--data", project / "data", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    from wgec.report import words

    count = words.count(len(load(project / "data").characteristics), "characteristic")
    page = (tmp_path / "out" / "html" / "notebooks" / "02c_characteristics.html").read_text(encoding="utf-8")
    assert f"The contribution enumerates {count}, in its words:" in page
    assert "{eval}" not in page and "Under this heading the contribution lists" not in page
    pdf = subprocess.run(
        ["pdftotext", str(tmp_path / "out" / "pdf" / "wgec-report.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert f"The contribution enumerates {count}, in its words:" in " ".join(pdf.split())


def test_the_pdf_laid_out_beside_the_html_fails_the_build_as_any_step_and_is_waited_for(workspace, monkeypatch):
    """Typst lays out the PDFs in a thread while the HTML book is built. The link check, which
    reads the PDFs the pages link to, waits for it; its failure fails the build with its own
    message; a later step's failure waits for it to end; either way the last good outputs stay
    as they were and no staging folder is left."""
    from wgec.editions import typst
    from wgec.errors import BuildError, WgecError
    from wgec.pipeline import build, links

    out, data = workspace / "out", workspace / "data"
    render_all = typst.render_all
    ended = []

    def slow(*args, **kwargs):
        time.sleep(2)  # ends after the HTML book
        render_all(*args, **kwargs)
        ended.append(True)

    monkeypatch.setattr(typst, "render_all", slow)
    edit(data / "wgec_meetings.csv", "Palais des Nations", "Palais des Nations (Room XXII)")
    build.build(data, out, archival=True, quiet=True)
    assert ended == [True]
    assert "Room XXII" in (out / "html/notebooks/01_introduction.html").read_text(encoding="utf-8")
    for pdf in ("wgec-report.pdf", "wgec-report-archival.pdf"):  # the PDFs of this build, swapped in
        text = subprocess.run(["pdftotext", str(out / "pdf" / pdf), "-"], capture_output=True, text=True).stdout
        assert "Room XXII" in text.replace("\n", " "), pdf

    def fails(*args, **kwargs):
        time.sleep(1)  # still running when the HTML book is built
        raise typst.TypstBuildError("Typst could not set the PDF: a test's failure")

    monkeypatch.setattr(typst, "render_all", fails)
    edit(data / "wgec_meetings.csv", "Room XXII", "Room XXI")
    before = hashes(out)
    with pytest.raises(WgecError, match="a test's failure"):
        build.build(data, out, archival=True, quiet=True)
    assert hashes(out) == before and not list(out.glob(".staging-*"))

    ended.clear()
    monkeypatch.setattr(typst, "render_all", slow)
    monkeypatch.setattr(links, "check", lambda *a, **k: links.Result(broken=[links.Broken("a.html", "#x", "no id")]))
    with pytest.raises(BuildError, match="1 broken links"):
        build.build(data, out, archival=True, quiet=True)
    assert ended == [True]  # the PDFs were laid out before the build said it failed
    assert hashes(out) == before and not list(out.glob(".staging-*"))


def test_an_output_folder_inside_the_project_builds_and_one_holding_it_is_refused(tmp_path, monkeypatch):
    """`--out` inside the project (not _build): the build does not read its own outputs as pages
    (the executed notebooks of its cache had been duplicates of every page). A folder that
    holds the project is refused, by the build and by the preview, before anything is written."""
    project = project_copy(tmp_path / "project", data=True)
    monkeypatch.setenv("WGEC_PROJECT", str(project))
    result = run_wgec("html", "--data", project / "data", "--out", project / "output")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "output" / "html" / "notebooks" / "01_introduction.html").is_file()
    assert not list((project / "output" / "html").rglob("base.html"))  # no page made of the cache
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for command, where in (("build", project), ("html", tmp_path), ("preview", project)):
        result = run_wgec(command, "--data", project / "data", "--out", where, timeout=120)
        assert result.returncode == 1, (command, result.stderr[-2000:])
        assert f"{where}: this folder holds the project" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_work_handed_to_a_warm_worker_runs_there_and_its_error_is_raised_here():
    """The data downloads are written in an idle warm worker while the preview builds the book."""
    from wgec.book import execute

    assert execute.in_worker(os.getpid) == os.getpid()  # no warm workers: here
    with execute.warm_kernels(jobs=1):
        assert execute.in_worker(os.getpid) != os.getpid()
        with pytest.raises(ValueError, match="invalid literal"):
            execute.in_worker(int, "not a number")
    execute.settle()


@pytest.fixture(scope="module")
def imports_of_a_build(tmp_path_factory):
    """Each module a `wgec build` process imports (its own process: not its workers' or
    kernels'), with the thread that imported it, as (thread, module) rows."""
    tmp_path = tmp_path_factory.mktemp("imports")
    log = tmp_path / "imports.tsv"
    script = (
        "import sys, threading\n"
        f"log = open({str(log)!r}, 'w', buffering=1)\n"
        "def hook(event, args):\n"
        "    if event == 'import' and args[0] not in sys.modules:\n"
        "        log.write(threading.current_thread().name + '\\t' + args[0] + '\\n')\n"
        "sys.addaudithook(hook)\n"
        "from wgec.cli import run\n"
        f"sys.argv = ['wgec', 'build', '--out', {str(tmp_path / 'out')!r}]\n"
        "run()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "out" / "html" / "notebooks" / "01_introduction.html").is_file()
    assert (tmp_path / "out" / "pdf" / "wgec-report.pdf").is_file()
    return [line.split("\t") for line in log.read_text().splitlines() if "\t" in line]


def test_the_refresh_thread_imports_nothing_the_book_build_imports_beside_it(imports_of_a_build):
    """The notebooks' refresh runs in a thread while Sphinx sets up in the build's own: two
    threads importing one package for the first time at once can deadlock in Python's import
    locks (CI once failed so: ``_DeadlockError`` on ``markdown_it.common.utils``). Every module
    the refresh needs is imported before its thread starts; in that thread only codecs (the
    stdlib's ``encodings``, imported whole at start-up) are looked up."""
    rows = imports_of_a_build
    threads = {thread for thread, _ in rows}
    assert any(t.startswith("wgec-step") for t in threads), threads  # the hook sees the build's threads
    in_refresh = sorted(m for thread, m in rows if thread == "wgec-refresh" and not m.startswith("encodings."))
    assert in_refresh == [], in_refresh
    assert any(thread == "MainThread" and m.startswith("myst_nb") for thread, m in rows)  # the book build's


def test_the_build_process_leaves_dataframes_and_workbooks_to_its_workers(imports_of_a_build):
    """The build's own process validates the tables and checks the book against them from their
    cells (wgec.data.load.Tables.records), and never imports pandas (a third of a second of
    every build, on the path of the one-table edit; the kernels still get DataFrames); the data
    downloads are written in the worker whose kernel ran the notebooks, so openpyxl and the
    numpy it imports are not loaded beside the HTML build either."""
    modules = {m.split(".")[0] for _, m in imports_of_a_build}
    assert {"frictionless", "sphinx", "typst"} <= modules  # the hook saw the validation and the book's build
    assert not modules & {"pandas", "numpy", "openpyxl"}


def test_a_warm_worker_launches_its_kernel_before_it_imports_the_notebook_libraries():
    """A build's warm worker starts by importing wgec.book.execute (its initializer lives there),
    then launches its kernel: the module imports neither nbformat (and jsonschema, with its
    format checkers) nor nbclient nor myst-nb, which the worker imports while the kernel's
    process starts. They took 0.3-0.5 s before each kernel was launched, in the worker and
    in the build's own process before it spawned the worker (the one-table edit's critical
    path: 3.9 -> 3.6 s)."""
    script = "import sys, wgec.book.execute; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = {m.split(".")[0] for m in result.stdout.split()}
    assert "wgec" in loaded
    assert not loaded & {"nbformat", "jsonschema", "nbclient", "myst_nb", "markdown_it", "jupyter_client"}


def test_an_edit_of_the_book_configuration_reaches_the_next_build_in_the_same_process(tmp_path):
    """The preview builds again and again in one process, and Jupyter Book's reading of
    _config.yml is kept between its builds (wgec.pipeline.build): a changed _config.yml is
    read again, and its new value is on the pages of the next build."""
    from conftest import project_copy

    project = project_copy(tmp_path / "project", data=True)
    script = tmp_path / "two_builds.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from wgec.pipeline import build\n"
        "if __name__ == '__main__':  # (the kernels' workers are spawned: they import this file)\n"
        "    project, out, pages = (Path(a) for a in sys.argv[1:])\n"
        "    config = project / '_config.yml'\n"
        "    seen = []\n"
        "    for author in (None, 'An edited author'):\n"
        "        if author:\n"
        "            text = config.read_text().replace('author: \"WGEC Report\"', f'author: \"{author}\"', 1)\n"
        "            config.write_text(text)\n"
        "        build.build(project / 'data', out, html=True, pdf=False, archival=False, quiet=True)\n"
        "        seen.append((out / 'html' / 'notebooks' / '01_introduction.html').read_text())\n"
        "    pages.write_text('\\n=====\\n'.join(seen))\n"
    )
    assert 'author: "WGEC Report"' in (project / "_config.yml").read_text()
    result = subprocess.run(
        [sys.executable, str(script), str(project), str(tmp_path / "out"), str(tmp_path / "pages.txt")],
        env={**os.environ, "WGEC_PROJECT": str(project)},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    before, after = (tmp_path / "pages.txt").read_text().split("\n=====\n")
    assert "By WGEC Report" in before and "edited" not in before
    assert "By An edited author" in after and "WGEC Report" not in after
