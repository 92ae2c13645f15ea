"""The ``wgec`` command line: check the data, build the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import data, paths


def _check(args) -> int:
    tables = data.load(args.data)
    rows = sum(len(frame) for frame in tables.values())
    print(f"{tables.data_dir}: {len(tables)} tables, {rows} rows, no problems")
    return 0


def _report(args, html: bool, pdf: bool, archival: bool) -> int:
    from . import build

    written = build.build(args.data, args.out, html=html, pdf=pdf, archival=archival,
                          variant=getattr(args, "pdf_variant", "pdf/ua-1"))
    for what, path in written.items():
        print(f"{what}: {path}")
    return 0


def _html(args) -> int:
    return _report(args, html=True, pdf=False, archival=False)


def _pdf(args) -> int:
    archival = args.pdf_variant.startswith("pdf/a")
    return _report(args, html=False, pdf=not archival, archival=archival)


def _build(args) -> int:
    return _report(args, html=True, pdf=True, archival=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wgec", description=__doc__)
    top.add_argument("--debug", action="store_true", help="show the Python traceback on errors")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name, func, help, writes=False):
        p = sub.add_parser(name, help=help)
        p.add_argument("--data", type=Path, default=None, metavar="DIR",
                       help="data directory (default: data/)")
        if writes:
            p.add_argument("--out", type=Path, default=paths.BUILD_DIR, metavar="DIR",
                           help="output directory (default: _build/)")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the Python traceback on errors")
        p.set_defaults(func=func)
        return p

    command("check", _check, "validate the data; exit 1 listing every problem")
    command("html", _html, "build the HTML book into OUT/html", writes=True)
    pdf = command("pdf", _pdf, "build the PDF into OUT/pdf/wgec-report.pdf", writes=True)
    pdf.add_argument("--pdf-variant", choices=["pdf/ua-1", "pdf/a-3b"], default="pdf/ua-1",
                     help="pdf/ua-1: tagged, accessible (default); pdf/a-3b: archival, with the data "
                          "package attached, written as OUT/pdf/wgec-report-archival.pdf")
    command("build", _build, "build everything: HTML book, PDF and archival PDF", writes=True)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except data.DataError as exc:
        if args.debug:
            raise
        print(f"wgec {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"wgec {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the user gets the cause, --debug gives the trace
        if args.debug or not getattr(exc, "user_facing", False):
            raise
        print(f"wgec {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
