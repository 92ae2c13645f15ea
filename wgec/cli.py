"""The ``wgec`` command line: check the data, refresh the notebooks, build the report."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from . import paths
from .errors import WgecError


def _check(args) -> int:
    from . import data
    from .pipeline import build, manifest

    tables = data.load(args.data)
    rows = sum(len(frame) for frame in tables.values())
    print(f"{tables.data_dir}: {len(tables)} tables, {rows} rows, no problems")
    out = Path(args.out).resolve()
    recorded = manifest.read(out)
    if recorded is None:
        print(f"{out}: no build yet")
        return 0
    built = sorted({entry.get("kind") for entry in recorded.get("outputs", {}).values()})
    stale, changed = manifest.stale_outputs(tables.data_dir, out, built)
    if stale:
        print(f"stale outputs in {out}: {', '.join(stale)}", file=sys.stderr)
        if changed:
            print(f"changed since the last build: {', '.join(changed)}", file=sys.stderr)
        if set(stale) - set(build.ON_REQUEST):
            print("run `make` (or `wgec build`) to rebuild them", file=sys.stderr)
        for kind in sorted(set(stale) & set(build.ON_REQUEST)):
            print(f"run `{build.ON_REQUEST[kind]}`) to rebuild the {kind} edition", file=sys.stderr)
        return 1
    print(f"{out}: outputs up to date")
    return 0


def _refresh(args) -> int:
    from . import data
    from .book import execute
    from .pipeline import manifest

    data_path = data.load(args.data).data_dir
    before = manifest.files(manifest.inputs(data_path), data_path)
    report = execute.refresh(
        data_path, Path(args.out).resolve() / ".cache", jobs=args.jobs, verbose=True, force=args.force, before=before
    )
    for name in report.executed:
        print(f"executed {name} ({report.why.get(name, '')})")
    print(f"{len(report.executed)} executed, {len(report.reused)} up to date")
    return 0


def _report(args, html: bool, pdf: bool, archival: bool, docx: bool = False, latex: bool = False) -> int:
    from .pipeline import build

    result = build.build(
        args.data,
        args.out,
        html=html,
        pdf=pdf,
        archival=archival,
        variant="pdf/ua-1",
        jobs=getattr(args, "jobs", None),
        docx=docx,
        latex=latex,
    )
    if result["up_to_date"]:
        print(f"{Path(args.out).resolve()}: up to date, nothing to do")
        return 0
    executed = result["executed"]
    print(f"notebooks executed: {', '.join(executed) if executed else 'none (all up to date)'}")
    for what, path in result["written"].items():
        print(f"{what}: {path}")
    return 0


def _html(args) -> int:
    return _report(args, html=True, pdf=False, archival=False)


def _pdf(args) -> int:
    if args.engine == "latex":
        return _report(args, html=False, pdf=False, archival=False, latex=True)
    archival = args.pdf_variant.startswith("pdf/a")
    return _report(args, html=False, pdf=not archival, archival=archival)


def _docx(args) -> int:
    return _report(args, html=False, pdf=False, archival=False, docx=True)


def _build(args) -> int:
    return _report(args, html=True, pdf=True, archival=True)


def _preview(args) -> int:
    from .pipeline import preview

    preview.run(args.data, args.out, port=args.port, jobs=args.jobs)
    return 0


def _links(args) -> int:
    from .pipeline import links

    out = Path(args.out).resolve()
    if not (out / "html").is_dir() and not (out / "pdf").is_dir():
        print(f"wgec links: no built report in {out}; run `wgec build --out {args.out}` first", file=sys.stderr)
        return 1
    result = links.check(out)
    report = result.write_external(out / links.EXTERNAL_REPORT)
    print(
        f"{out}: {result.internal} internal links and anchors checked "
        f"({result.checked['html']} in the HTML, {result.checked['pdf']} in the PDFs)"
    )
    for part, count in sorted(result.unchecked.items()):
        print(f"{count} links into {part}/ not checked: it is not built")
    print(f"{len(result.external)} external links, not fetched, listed in {report}")
    if result.broken:
        print(links.describe(result.broken), file=sys.stderr)
        print(f"wgec links: {len(result.broken)} broken links", file=sys.stderr)
        return 1
    return 0


def _publish(args) -> int:
    from .pipeline import build, publish

    result = publish.publish(args.data, args.out, args.site)
    print(f"published {result['files']} files ({result['bytes'] / 1e6:.1f} MB) to {result['site']}")
    for kind in result["left_out"]:
        print(f"left out: the {kind} edition is stale; run `{build.ON_REQUEST[kind]}`), then publish again")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wgec", description=__doc__)
    top.add_argument("--debug", action="store_true", help="show the Python traceback on errors")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name, func, help, jobs=False):
        p = sub.add_parser(name, help=help)
        p.add_argument("--data", type=Path, default=None, metavar="DIR", help="data directory (default: data/)")
        p.add_argument(
            "--out", type=Path, default=paths.BUILD_DIR, metavar="DIR", help="output directory (default: _build/)"
        )
        if jobs:
            p.add_argument(
                "--jobs", type=int, default=None, metavar="N", help="notebooks executed at once (default: one per core)"
            )
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show the Python traceback on errors"
        )
        p.set_defaults(func=func)
        return p

    command(
        "check", _check, "validate the data, and say whether the outputs in OUT are stale; exit 1 listing every problem"
    )
    refresh = command("refresh", _refresh, "re-execute exactly the notebooks whose inputs changed", jobs=True)
    refresh.add_argument("--force", action="store_true", help="execute every notebook")
    command("html", _html, "build the HTML book into OUT/html", jobs=True)
    pdf = command("pdf", _pdf, "build the PDF into OUT/pdf/wgec-report.pdf", jobs=True)
    pdf.add_argument(
        "--pdf-variant",
        choices=["pdf/ua-1", "pdf/a-3b"],
        default="pdf/ua-1",
        help="pdf/ua-1: tagged, accessible (default); pdf/a-3b: archival, with the data "
        "package attached, written as OUT/pdf/wgec-report-archival.pdf",
    )
    pdf.add_argument(
        "--engine",
        choices=["typst", "latex"],
        default="typst",
        help="typst: the PDF for submission (default); latex: the LaTeX edition, "
        "typeset by xelatex, written as OUT/pdf/wgec-report-latex.pdf (needs TeX Live: "
        "`make deps-latex`)",
    )
    command("docx", _docx, "build the Word edition into OUT/docx/wgec-report.docx (same content as the PDF)", jobs=True)
    command("build", _build, "build everything: HTML book, PDF and archival PDF (what `make` runs)", jobs=True)
    preview = command(
        "preview",
        _preview,
        "build, serve the HTML book on 127.0.0.1, rebuild what changed on every "
        "save and reload the page; the PDFs follow; Ctrl-C stops",
        jobs=True,
    )
    preview.add_argument(
        "--port", type=int, default=8000, metavar="N", help="the port on 127.0.0.1 (default: 8000; 0: any free port)"
    )
    links = sub.add_parser(
        "links",
        help="check, offline, that every link and anchor of the built HTML and "
        "PDFs in OUT resolves; list the external links (never fetched) in "
        "OUT/external-links.json; exit 1 listing every broken link",
    )
    links.add_argument(
        "--out", type=Path, default=paths.BUILD_DIR, metavar="DIR", help="output directory (default: _build/)"
    )
    links.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the Python traceback on errors"
    )
    links.set_defaults(func=_links)
    publish = command(
        "publish",
        _publish,
        "copy the up-to-date build into a static site folder (HTML book, "
        "PDFs, data downloads, manifest, SHA256SUMS); refuses a stale build",
    )
    publish.add_argument(
        "--site",
        type=Path,
        default=None,
        metavar="DIR",
        help="the site folder, replaced as a whole (default: OUT/site)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    return _main(parser().parse_args(argv))


def _main(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except WgecError as exc:  # what the user can fix: said once, with where; anything else is a bug
        if args.debug:
            raise
        print(f"wgec {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a folder that cannot be written, a disk full: the file and the reason
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"wgec {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"wgec {args.command}: interrupted; the previous outputs are unchanged", file=sys.stderr)
        return 130


def run() -> None:
    """The ``wgec`` command: :func:`main`, then an exit without tearing the interpreter down.

    After a build the process holds Sphinx's environment, the doctrees and the tables; freeing
    them one by one at exit took about a second, 10 % of a rebuild after an edit. Everything the
    build writes is closed and in place by then, and its worker processes have stopped, so a
    command that succeeded ends at once after flushing its output (as mypy does). One that
    failed exits as usual: the kernels it started early may still be stopping, and Python's
    exit waits for them. So does the preview, which ends after a Ctrl-C and still holds its
    pool of warm workers (whose semaphores only a normal exit releases). ``main`` stays an
    ordinary function for callers in Python.

    The collector of reference cycles runs less often (every 50,000 new objects, not 700): a
    build makes millions (docutils nodes, each doctree unpickled again for the figure numbers),
    and each full collection scanned everything Sphinx holds. Measured on a one-table edit:
    about 0.9 s of 8.7 s, for 30 MB more at the peak; cycles are still collected."""
    gc.set_threshold(50_000, 50, 100)
    args = parser().parse_args()
    code = _main(args)
    if code or args.command == "preview":
        from .book import execute

        execute.settle()  # the kernels a failed build started early: stopped before the exit
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    run()
