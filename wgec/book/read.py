"""How a notebook is read, by the build's executor and by the book alike.

A notebook's prose is Markdown, and a sentence holds values from the data as ``{eval}`` roles:
``The contribution lists {eval}`areas` ({numref}`tab-focus-areas`).`` In JupyterLab,
jupyterlab-myst evaluates each role in the kernel when the cell is run. For the book, the
reader turns each run of such a Markdown cell (its headings set apart) into a code cell that
fills it in the kernel, at the same point of the notebook, with
:func:`wgec.report.page.markdown`: every value escaped (data is literal text) unless it is the
package's own Markdown (a footnote, a quotation), the rest of the text left as written. The
code cell's output is then the text, as a sentence made with ``page.say`` would be.

The executor and the book read a notebook through this one function (myst-nb's
``nb_custom_formats``), so that the executed notebook in the cache is the one the book looks
up: jupyter-cache keys a notebook on its code cells.
"""

from __future__ import annotations

import copy
import functools
import json
import re

import nbformat

from ..errors import NotebookError
from ..report.words import EVAL

FILL = "__import__('wgec.report.page', fromlist=['markdown']).markdown("  # how a filled cell's code starts
_HEADING = re.compile(r"^(#{1,6}(\s|$)|\(.+\)=\s*$)")  # a heading, or the target line over one
_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})")


def notebook(text: str, path: str | None = None):
    """The notebook of a MyST Markdown file, with its Markdown cells that hold ``{eval}`` roles
    turned into code cells that fill them in (see the module's text). Each call gives a notebook
    of its own (the caller may change it); a long-lived process (``wgec preview``) reads the
    same notebooks on every rebuild, and a text read before is not parsed again."""
    return copy.deepcopy(_parse(text, path))


@functools.lru_cache(maxsize=64)  # a few times the book's notebooks: the executor's reads, and the book's (no path)
def _parse(text: str, path: str | None):
    from myst_nb.core.read import read_myst_markdown_notebook

    nb = read_myst_markdown_notebook(text, add_source_map=True, path=path)
    lines = text.split("\n")
    cells, starts = [], []
    for cell, start in zip(nb.cells, nb.metadata.get("source_map", [0] * len(nb.cells))):
        if cell.cell_type != "markdown" or not EVAL.search(cell.source):
            cells.append(cell)
            starts.append(start)
            continue
        first = _first_line(lines, start, cell.source)
        for chunk, offset, heading in _chunks(cell.source):
            role = EVAL.search(chunk)
            if heading and role:
                where = f"{path}, line {first + offset}" if path else f"line {first + offset}"
                raise NotebookError(
                    f"a heading holds an {{eval}} value ({role.group(0)}): a heading is "
                    "written as it is (the book's contents and the notebook's outline show it)",
                    where=where,
                )
            if role:
                code = f"{FILL}{json.dumps(chunk, ensure_ascii=False)}, line={first + offset})"
                cells.append(nbformat.v4.new_code_cell(code))
            else:
                cells.append(nbformat.v4.new_markdown_cell(chunk))
            starts.append(first - 1 + offset)
    nb.cells = cells
    nb.metadata["source_map"] = starts
    return nb


def filled_line(source: str, expression: str | None = None) -> int | None:
    """The line (in the .md file) of the Markdown a filled cell's code fills in: its first line,
    or the line of the role that evaluates ``expression``; None if the code is a notebook's own."""
    if not source.startswith(FILL):
        return None
    found = re.search(r", line=(\d+)\)$", source)
    if found is None:
        return None
    first = int(found.group(1))
    if expression is not None:
        chunk = json.loads(source[len(FILL) : found.start()])
        at = chunk.find(f"{{eval}}`{expression}`")
        if at >= 0:
            return first + chunk.count("\n", 0, at)
    return first


def _first_line(lines: list[str], start: int, source: str) -> int:
    """The 1-based line of the .md file where a Markdown cell's text begins."""
    head = source.split("\n", 1)[0]
    for i in range(start, len(lines)):
        if lines[i].rstrip() == head.rstrip():
            return i + 1
    return start + 1


def _chunks(source: str):
    """A Markdown cell cut into runs: each heading (with a target line over it) apart, and the
    text between headings; with each run's first line, counted from 0 in the cell, and whether
    it is a heading."""
    run: list[str] = []
    run_start = 0
    fence = ""
    heading_pending = False
    for i, line in enumerate(source.split("\n")):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
        elif opened:
            fence = opened.group(1)
        elif _HEADING.match(line):
            if run and not heading_pending and "".join(run).strip():
                yield "\n".join(run).strip("\n"), run_start, False
                run, run_start = [], i
            if not run:
                run_start = i
            run.append(line)
            heading_pending = not line.startswith("#")  # a target line waits for its heading
            if not heading_pending:
                yield "\n".join(run), run_start, True
                run, run_start = [], i + 1
            continue
        if not run:
            run_start = i
            if not line.strip():
                run_start = i + 1
                continue
        run.append(line)
        heading_pending = False
    if "".join(run).strip():
        yield "\n".join(run).strip("\n"), run_start, False
