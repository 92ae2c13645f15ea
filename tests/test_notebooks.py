"""The notebooks are thin MyST Markdown notebooks that also open and run with jupytext."""

import ast

import jupytext
import pytest
from myst_nb.core.read import read_myst_markdown_notebook
from nbclient import NotebookClient

from wgec import paths
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
def test_jupytext_and_the_book_read_the_same_code(path):
    ours = [
        c.source for c in read_myst_markdown_notebook(path.read_text(encoding="utf-8")).cells if c.cell_type == "code"
    ]
    theirs = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    assert ours == theirs


def test_a_notebook_opened_with_jupytext_runs_as_in_jupyterlab():
    path = paths.ROOT / "notebooks" / "02a_scope_and_focus_areas.md"
    nb = jupytext.read(path)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("text/markdown" in o.get("data", {}) for o in outputs)
    assert not any(o.get("output_type") == "error" for o in outputs)
