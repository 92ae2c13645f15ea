"""`wgec publish`: the static site, complete, checked by SHA256SUMS, refused when the build is stale;
and the GitHub Pages workflow that runs it."""

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest
import yaml
from conftest import edit, run_wgec

from wgec import data, paths, settings
from wgec.editions import downloads
from wgec.pipeline import publish

WORKFLOW = paths.ROOT / ".github" / "workflows" / "publish.yml"


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def site(built, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("published") / "site"
    result = run_wgec("publish", "--out", built, "--site", target)
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    return target


def pages(site: Path):
    """Every page of the book (not Jupyter Book's redirect at html/index.html)."""
    from bs4 import BeautifulSoup

    for page in sorted((site / "html").rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        if soup.find("main"):
            yield page, soup


def resolve(site: Path, page: Path, href: str) -> Path:
    path, _ = urldefrag(href)
    target = (page.parent / unquote(path)).resolve() if path else page.resolve()
    assert target.is_relative_to(site.resolve()), f"{page.name}: {href} leaves the site"
    return target


@pytest.mark.slow
def test_site_has_every_promised_file(site, built):
    manifest = json.loads((site / "manifest.json").read_text())
    assert (site / "manifest.json").read_bytes() == (built / "manifest.json").read_bytes()
    for name in [*publish.promised(data.load().descriptor), "index.html", ".nojekyll", "SHA256SUMS"]:
        assert (site / name).is_file(), name
    for name, entry in manifest["outputs"].items():  # the whole build, byte for byte
        assert hashlib.sha256((site / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert (site / ".nojekyll").read_bytes() == b""
    front = (site / "index.html").read_text()
    assert 'href="html/index.html"' in front and (site / "html" / "index.html").is_file()


@pytest.mark.slow
def test_sha256sums_covers_every_file_and_checks(site):
    result = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=site, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    listed = {line.split("  ", 1)[1] for line in (site / "SHA256SUMS").read_text().splitlines()}
    assert listed == set(tree(site)) - {"SHA256SUMS"}


@pytest.mark.slow
def test_every_page_links_to_the_pdfs_and_the_data(site):
    seen = 0
    for page, soup in pages(site):
        footer = soup.select_one("p.wgec-downloads")
        assert footer is not None, page
        targets = {resolve(site, page, a["href"]): a for a in footer.find_all("a")}
        assert site / "pdf" / "wgec-report.pdf" in targets, page
        assert site / "pdf" / "wgec-report-archival.pdf" in targets, page
        assert site / "html" / downloads.FOLDER / downloads.WORKBOOK in targets, page
        for target, link in targets.items():
            assert target.is_file(), f"{page}: {link['href']}"
            assert len(link.get_text(strip=True)) > 5, "link text says where it leads"
        annex = [resolve(site, page, a["href"]) for a in footer.find_all("a") if a["href"].endswith("#data-downloads")]
        assert annex == [site / "html" / "notebooks" / "annex1_data_tables.html"], page
        seen += 1
    assert seen >= 10


@pytest.mark.slow
def test_front_page_names_the_edition_of_the_manifest(site):
    from bs4 import BeautifulSoup

    redirect = (site / "html" / "index.html").read_text()
    front = site / "html" / re.search(r"url=([^\"]+)\"", redirect).group(1)
    soup = BeautifulSoup(front.read_text(encoding="utf-8"), "html.parser")
    text = soup.select_one(".un-edition").get_text(" ", strip=True)
    edition = json.loads((site / "manifest.json").read_text())["edition"]
    assert edition["data_sha256"] in text
    tables = data.load()
    assert edition["data_sha256"] == data.digest(tables.data_dir, tables.descriptor)
    assert settings.un_date(__import__("datetime").date.fromisoformat(edition["date"])) in text
    date = settings.un_date(__import__("datetime").date.fromisoformat(edition["date"]))
    assert (
        f"symbol {edition['symbol']}, {date}" if edition["symbol"] else f"draft of {date}, no document symbol"
    ) in text


@pytest.mark.slow
def test_publish_refuses_a_stale_build_and_keeps_the_old_site(site, built, data_copy):
    before = tree(site)
    edit(data_copy / "focus_areas.csv", "Ensuring connectivity", "Ensuring reliable connectivity")
    result = run_wgec("publish", "--data", data_copy, "--out", built, "--site", site)
    assert result.returncode == 1
    assert "stale" in result.stderr and "data/focus_areas.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(site) == before
    assert not list(site.parent.glob(".site-*")), "no half-made site left behind"


@pytest.mark.slow
def test_publish_replaces_the_site_as_a_whole(site, built):
    (site / "stray.txt").write_text("left from an old edition")
    result = run_wgec("publish", "--out", built, "--site", site)
    assert result.returncode == 0, result.stderr
    assert not (site / "stray.txt").exists()
    assert subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=site).returncode == 0


def test_a_stale_edition_built_on_request_stays_out_of_the_site(built, tmp_path):
    """A Word or LaTeX edition in the build is published when current, left out when stale."""
    out = tmp_path / "out"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns(".lock", "site"))
    manifest = json.loads((out / "manifest.json").read_text())
    current = manifest["outputs"]["pdf/wgec-report.pdf"]["state"]
    for name, kind, state in (
        ("docx/wgec-report.docx", "docx", "built from older inputs"),
        ("pdf/wgec-report-latex.pdf", "latex", current),
    ):
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_bytes(kind.encode())
        manifest["outputs"][name] = {
            "kind": kind,
            "sha256": hashlib.sha256(kind.encode()).hexdigest(),
            "state": state,
            "from": ["*"],
        }
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = run_wgec("publish", "--out", out, "--site", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "left out: the docx edition is stale; run `make docx`" in result.stdout
    assert not (tmp_path / "site" / "docx").exists()
    assert (tmp_path / "site" / "pdf" / "wgec-report-latex.pdf").read_bytes() == b"latex"
    sums = (tmp_path / "site" / "SHA256SUMS").read_text()
    assert "pdf/wgec-report-latex.pdf" in sums and "docx/" not in sums
    # `wgec check` names the stale edition and the one command that rebuilds it.
    check = run_wgec("check", "--out", out)
    assert check.returncode == 1
    assert "stale outputs in" in check.stderr and ": docx" in check.stderr
    assert "run `make docx` (or `wgec docx`) to rebuild the docx edition" in check.stderr
    assert "wgec build" not in check.stderr, "the book and the PDFs are current"


def test_publish_refuses_without_a_build(tmp_path):
    result = run_wgec("publish", "--out", tmp_path / "nothing", "--site", tmp_path / "site")
    assert result.returncode == 1
    assert "no build" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "site").exists()


def test_publish_never_replaces_a_folder_it_did_not_write(tmp_path):
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious")
    result = run_wgec("publish", "--out", tmp_path / "out", "--site", mine)
    assert result.returncode == 1 and "refusing to replace it" in result.stderr
    assert (mine / "thesis.txt").read_text() == "precious"
    result = run_wgec("publish", "--out", tmp_path / "out", "--site", tmp_path)
    assert result.returncode == 1 and "would contain the build folder" in result.stderr


# --- the GitHub Pages workflow ----------------------------------------------------------


def test_workflow_is_valid():
    checker = Path(__import__("sys").executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_builds_tests_publishes_and_deploys_the_site_folder():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"]
    build = workflow["jobs"]["build"]["steps"]
    runs = [s["run"].strip() for s in build if "run" in s]
    assert [r for r in runs if r.startswith("make")] == ["make", "make test", "make publish"]
    uses = [s["uses"] for s in build if "uses" in s] + [s["uses"] for s in workflow["jobs"]["deploy"]["steps"]]
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", u) for u in uses), "actions pinned to a commit"
    upload = next(s for s in build if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    site = publish.default_site(paths.BUILD_DIR).relative_to(paths.ROOT)
    assert Path(upload["with"]["path"]) == site
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in workflow["jobs"]["deploy"]["steps"])
    assert workflow["jobs"]["deploy"]["needs"] == "build"
    # `make publish` writes exactly there: OUT defaults to _build and SITE to $(OUT)/site.
    makefile = (paths.ROOT / "Makefile").read_text()
    assert re.search(r"^OUT\s*\?=\s*_build$", makefile, re.M) and re.search(
        r"^SITE\s*\?=\s*\$\(OUT\)/site$", makefile, re.M
    )
    assert "wgec publish --data $(DATA) --out $(OUT) --site $(SITE)" in makefile
