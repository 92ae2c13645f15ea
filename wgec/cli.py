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


def _html(args) -> int:
    from . import build

    out = build.html(args.data, args.out)
    print(f"HTML book: {out / 'index.html'}")
    return 0


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

    command("check", _check, "validate the data; exit 1 listing every problem")
    command("html", _html, "build the HTML book into OUT/html", writes=True)
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
