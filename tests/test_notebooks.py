"""The notebooks are thin MyST Markdown notebooks that also open and run with jupytext."""

import ast
import json

import jupytext
import pytest
from nbclient import NotebookClient

from wgec import paths
from wgec.book import read
from wgec.book.toc import notebooks

NOTEBOOKS = notebooks()


def test_every_notebook_of_the_book_is_found():
    assert len(NOTEBOOKS) >= 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_thin(path):
    nb = jupytext.read(path)
    assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook computes something (otherwise it belongs in book/)"
    first = ast.parse(code[0].source)
    assert any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in first.body), "imports come first"
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
                f"{path.name}: definitions belong in the package"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_and_the_book_read_the_same_notebook(path):
    """JupyterLab (jupytext) and the book (wgec.book.read) see the same code cells, and the same
    Markdown: each Markdown cell with {eval} values is, for the book, code cells that fill in its
    text as written, between the cells it stands between."""
    book = read.notebook(path.read_text(encoding="utf-8"))
    lab = jupytext.read(path)
    own = [c.source for c in book.cells if c.cell_type == "code" and read.filled_line(c.source) is None]
    assert own == [c.source for c in lab.cells if c.cell_type == "code"]

    def text(cells) -> list[str]:  # the notebook as a reader meets it: code, and Markdown by words
        out = []
        for c in cells:
            if c.cell_type == "code" and read.filled_line(c.source) is None:
                out.append("code: " + c.source)
            elif c.cell_type == "code":
                out.append(json.loads(c.source[len(read.FILL) : c.source.rindex(", line=")]))
            else:
                out.append(c.source)
        merged, current = [], []
        for piece in out:  # consecutive Markdown as one run of words
            if piece.startswith("code: "):
                merged += [" ".join(" ".join(current).split()), piece] if current else [piece]
                current = []
            else:
                current.append(piece)
        return [*merged, " ".join(" ".join(current).split())] if current else merged

    assert text(book.cells) == text(lab.cells)


def test_a_notebook_opened_with_jupytext_runs_as_in_jupyterlab():
    path = paths.ROOT / "notebooks" / "02a_scope_and_focus_areas.md"
    nb = jupytext.read(path)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("text/markdown" in o.get("data", {}) for o in outputs)
    assert not any(o.get("output_type") == "error" for o in outputs)
