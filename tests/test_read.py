"""The book's reader (wgec.book.read): a Markdown cell with ``{eval}`` values becomes code cells
that fill it in the kernel (wgec.report.page.markdown), its headings kept as Markdown, the
notebook's own code cells as myst-nb reads them; and what that code puts on the page."""

from __future__ import annotations

import ast

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from myst_nb.core.read import read_myst_markdown_notebook
from traitlets.config import Config

from wgec.book import read
from wgec.book.toc import notebooks
from wgec.errors import NotebookError
from wgec.report import jupyter, page
from wgec.report.words import EVAL

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A section
"""


def notebook_text(body: str) -> str:
    """A MyST notebook as the project writes them: jupytext's header, a heading, then ``body``."""
    return HEADER + body


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` that holds ``needle``."""
    found = [n for n, line in enumerate(text.split("\n"), 1) if needle in line]
    assert found, f"{needle!r} not in the text"
    return found[0]


def filled(cell) -> tuple[str, int]:
    """The Markdown a filled cell's code passes to page.markdown, and its ``line``, read from the
    code as Python reads it."""
    call = ast.parse(cell.source).body[0].value
    assert isinstance(call, ast.Call) and call.func.attr == "markdown"
    (text,) = (ast.literal_eval(a) for a in call.args)
    (line,) = (ast.literal_eval(k.value) for k in call.keywords if k.arg == "line")
    return text, line


def without_ids(cells) -> list[dict]:
    """Cells without their ids (new at each reading; jupyter-cache does not hash them)."""
    return [{k: v for k, v in c.items() if k != "id"} for c in cells]


def is_filled(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(read.FILL)


# --- the reader ----------------------------------------------------------------------------

MIXED = notebook_text(
    """
```{code-cell} ipython3
from wgec.report import page

areas = 21
```

The contribution names its areas ({numref}`tab-x`).[^n]
A *second* line, with `code` and {{ not_a_value }}.

[^n]: A note.

+++

The contribution gives {eval}`areas` areas ({numref}`tab-x`).{eval}`note`

```{code-cell} ipython3
:tags: [remove-input]
note = ""
```
"""
)


def test_a_markdown_cell_without_eval_stays_markdown_as_written():
    ours = read.notebook(MIXED)
    theirs = read_myst_markdown_notebook(MIXED)
    plain = [c for c in theirs.cells if c.cell_type == "markdown" and not EVAL.search(c.source)]
    assert len(plain) == 2  # the section's heading, and the cell with a note but no value
    kept = [c for c in ours.cells if c.cell_type == "markdown"]
    assert [(c.source, c.metadata) for c in kept] == [(c.source, c.metadata) for c in plain]


def test_a_markdown_cell_with_eval_becomes_one_code_cell_that_fills_it():
    ours = read.notebook(MIXED)
    code = [c for c in ours.cells if is_filled(c)]
    assert len(code) == 1
    text, line = filled(code[0])
    sentence = "The contribution gives {eval}`areas` areas ({numref}`tab-x`).{eval}`note`"
    assert text == sentence  # the writer's Markdown, every role as written
    assert line == line_of(MIXED, sentence)
    # In the notebook's order: after the first code cell and the plain Markdown, before the last code cell.
    kinds = [("filled" if is_filled(c) else c.cell_type) for c in ours.cells]
    assert kinds == ["markdown", "code", "markdown", "filled", "code"]


def test_the_notebooks_own_code_cells_are_those_myst_nb_reads():
    """jupyter-cache keys a notebook on its code cells: the executor's notebook and the book's are
    both read by wgec.book.read, and a notebook without {eval} reads as myst-nb reads it."""
    ours = [c for c in read.notebook(MIXED).cells if c.cell_type == "code" and not is_filled(c)]
    theirs = [c for c in read_myst_markdown_notebook(MIXED).cells if c.cell_type == "code"]
    assert [(c.source, c.metadata) for c in ours] == [(c.source, c.metadata) for c in theirs]
    assert len(ours) == 2 and ours[1].metadata["tags"] == ["remove-input"]
    without = notebook_text("\nText ({numref}`tab-x`).\n\n```{code-cell} ipython3\nx = 1\n```\n")
    assert without_ids(read.notebook(without).cells) == without_ids(read_myst_markdown_notebook(without).cells)


def test_the_cache_key_is_the_same_at_each_reading_and_follows_the_filled_text(tmp_path):
    """The executor and myst-nb each read the notebook: the same text gives the same key; the
    text of a filled cell is code, and changing it runs the notebook again (a plain Markdown
    cell is not, and does not)."""
    from jupyter_cache.cache.main import JupyterCacheBase

    cache = JupyterCacheBase(str(tmp_path / "cache"))

    def key(text: str) -> str:
        return cache.create_hashed_notebook(read.notebook(text))[1]

    assert key(MIXED) == key(MIXED)
    assert key(MIXED.replace("gives {eval}`areas` areas", "lists {eval}`areas` areas")) != key(MIXED)
    assert key(MIXED.replace("names its areas", "lists its areas")) == key(MIXED)


SECTIONS = notebook_text(
    """
```{code-cell} ipython3
a, b = 1, 2
```

Before the headings, {eval}`a` value.

(sec-part-b)=
## Part B

Body of part B,
with {eval}`b` on its second line.

### A subsection

Text after the last heading, without a value.
"""
)


def test_headings_and_their_targets_stay_markdown_between_the_filled_text():
    nb = read.notebook(SECTIONS)
    cells = nb.cells[2:]  # after the section's heading and the code cell
    kinds = [("filled" if is_filled(c) else c.cell_type) for c in cells]
    assert kinds == ["filled", "markdown", "filled", "markdown", "markdown"]
    assert cells[0].source.startswith(read.FILL)
    assert filled(cells[0])[0] == "Before the headings, {eval}`a` value."
    assert cells[1].source == "(sec-part-b)=\n## Part B"  # the target stays over its heading
    assert filled(cells[2])[0] == "Body of part B,\nwith {eval}`b` on its second line."
    assert cells[3].source == "### A subsection"
    assert cells[4].source == "Text after the last heading, without a value."
    # Nothing lost or moved: the runs, in order, are the cell as written.
    (cell,) = [c for c in read_myst_markdown_notebook(SECTIONS).cells if EVAL.search(c.source)]
    runs = [filled(c)[0] if is_filled(c) else c.source for c in cells]
    assert "\n\n".join(runs) == cell.source
    assert len(nb.metadata["source_map"]) == len(nb.cells)  # myst-nb's line of each cell, for its warnings


def test_each_filled_run_names_its_own_line_and_each_role_its_line():
    nb = read.notebook(SECTIONS)
    first, second = (c for c in nb.cells if is_filled(c))
    assert read.filled_line(first.source) == line_of(SECTIONS, "Before the headings")
    assert read.filled_line(second.source) == line_of(SECTIONS, "Body of part B")
    assert read.filled_line(second.source, "b") == line_of(SECTIONS, "{eval}`b`")
    assert read.filled_line(second.source, "b") == read.filled_line(second.source) + 1
    assert read.filled_line(second.source, "elsewhere") == read.filled_line(second.source)  # not in it: its first line
    assert read.filled_line(nb.cells[1].source) is None  # the notebook's own code
    assert read.filled_line(nb.cells[1].source, "a") is None


@pytest.mark.parametrize(
    "block",
    [
        "```\n# one comment\n## two\n```",
        "```python\n# one comment\n(not-a-target)=\n```",
        "~~~\n# one comment\n~~~",
        ":::{note}\n# A heading-like line\n:::",
        "::::{tip}\n:::{note}\n# nested\n:::\n## still inside\n::::",
    ],
    ids=["backticks", "backticks-python", "tildes", "colon-directive", "nested-colons"],
)
def test_a_hash_line_in_a_fenced_block_is_not_a_heading(block):
    text = notebook_text(f"\nThe block holds {{eval}}`a` value:\n\n{block}\n\nAfter the block.\n")
    nb = read.notebook(text)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"]
    written, line = filled(nb.cells[1])
    assert written == f"The block holds {{eval}}`a` value:\n\n{block}\n\nAfter the block."
    assert line == line_of(text, "The block holds")


def test_a_heading_with_a_value_is_refused_with_its_line():
    text = notebook_text("\nIntro {eval}`a`.\n\n## Part {eval}`b`\n\nBody.\n")
    with pytest.raises(NotebookError) as error:
        read.notebook(text, path="notebooks/x.md")
    assert error.value.where == f"notebooks/x.md, line {line_of(text, '## Part')}"
    assert "{eval}`b`" in error.value.what and "heading" in error.value.what


def test_an_empty_heading_is_a_heading_to_the_reader_too():
    """``##`` alone is an (empty) ATX heading: cut out as Markdown, the runs around it filled."""
    nb = read.notebook(notebook_text("\nBefore {eval}`a`.\n##\nAfter {eval}`b`.\n"))
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "markdown", "code"]
    assert nb.cells[2].source == "##"


def test_a_line_that_starts_with_a_hash_without_a_space_is_not_a_heading():
    text = notebook_text("\nThe contribution lists {eval}`a` areas, as in item\n#3 of its list.\n")
    nb = read.notebook(text)
    assert filled(nb.cells[1])[0] == "The contribution lists {eval}`a` areas, as in item\n#3 of its list."


def test_a_one_line_cell_with_trailing_spaces_names_its_own_line():
    text = notebook_text("\n```{code-cell} ipython3\nn = 1\n```\n\n+++\n\nThe count is {eval}`n`.  \n")
    (cell,) = [c for c in read.notebook(text).cells if is_filled(c)]
    assert read.filled_line(cell.source, "n") == line_of(text, "{eval}`n`")


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_every_filled_run_of_the_notebooks_names_the_line_it_stands_on(path):
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for cell in read.notebook(text, path=str(path)).cells:
        if not is_filled(cell):
            continue
        written, line = filled(cell)
        assert lines[line - 1] == written.split("\n", 1)[0], (path.name, line)
        for expression in EVAL.findall(written):
            at = read.filled_line(cell.source, expression)
            assert f"{{eval}}`{expression}`" in lines[at - 1], (path.name, expression, at)


# --- the filled code, run in IPython ----------------------------------------------------------

HOSTILE = "<b>x</b> *y* {raw} [^z] `{eval}`q`` \\ $1 | a_b_"


@pytest.fixture
def shell(monkeypatch):
    """An IPython shell (page.markdown reads its namespace), with no footnote waiting."""
    ipython = InteractiveShell.instance(config=Config({"HistoryManager": {"enabled": False}}))
    monkeypatch.setattr(page, "_NOTES", [])
    saved = dict(ipython.user_ns)
    yield ipython
    ipython.user_ns.clear()
    ipython.user_ns.update(saved)


def run(shell, source: str):
    """Run a cell as the kernel runs it; the bundles it displayed and the cell's error."""
    with capture_output() as captured:
        result = shell.run_cell(source, store_history=False)
    return [o.data for o in captured.outputs], result.error_in_exec


def filled_cells(body: str) -> list[str]:
    return [c.source for c in read.notebook(notebook_text(body)).cells if is_filled(c)]


def test_the_filled_code_escapes_data_and_keeps_the_packages_markdown(shell):
    shell.user_ns.update(value=HOSTILE, mark=page.RawMd("**marked** ({numref}`tab-x`)"), count=21, nothing=None)
    sentence = "Data {eval}`value`, a mark {eval}`mark`, {eval}`count` areas{eval}`nothing`."
    (source,) = filled_cells(f"\n{sentence}\n")
    bundles, error = run(shell, source)
    assert error is None
    (bundle,) = bundles
    assert bundle["text/markdown"] == f"Data {page.md(HOSTILE)}, a mark **marked** ({{numref}}`tab-x`), 21 areas."
    # The data string reads as itself: no markup, no role, no footnote.
    rendered = jupyter.render(bundle["text/markdown"])
    assert f"Data {HOSTILE}, a mark marked (table), 21 areas." in jupyter.text(rendered)
    assert "<b>" not in rendered and "<strong>marked</strong>" in rendered
    assert bundle["text/plain"] == jupyter.text(rendered)


def test_an_expression_that_fails_names_its_role(shell):
    shell.user_ns.update(areas=21)
    (source,) = filled_cells("\nThe contribution gives {eval}`areas` areas\nand {eval}`missing_total` more.\n")
    bundles, error = run(shell, source)
    assert isinstance(error, NotebookError)
    assert str(error).startswith("{eval}`missing_total`: NameError:") and "'missing_total'" in str(error)
    assert bundles == []  # nothing half filled on the page
    shell.user_ns.update(items=[])
    _, error = run(shell, filled_cells("\nThe first is {eval}`items[0]`.\n")[0])
    assert isinstance(error, NotebookError) and str(error).startswith("{eval}`items[0]`: IndexError:")


def test_a_footnote_goes_with_the_markdown_that_references_it(shell):
    shell.user_ns.update(note=page.footnote("Contribution, lines 1–2 (annex III)."))
    label = shell.user_ns["note"][2:-1]
    bundles, error = run(shell, filled_cells("\nAs the contribution says.{eval}`note`\n")[0])
    assert error is None
    (bundle,) = bundles
    assert bundle["text/markdown"] == (
        f"As the contribution says.[^{label}]\n\n[^{label}]: Contribution, lines 1–2 (annex III)."
    )


def test_a_footnote_flushed_by_an_earlier_output_is_refused(shell):
    shell.user_ns.update(note=page.footnote("Contribution, line 3."))
    label = shell.user_ns["note"][2:-1]
    bundles, error = run(shell, "page = __import__('wgec.report.page', fromlist=['show'])\npage.show('Between.')")
    assert error is None and f"[^{label}]: Contribution, line 3." in bundles[0]["text/markdown"]
    bundles, error = run(shell, filled_cells("\nAs the contribution says.{eval}`note`\n")[0])
    assert isinstance(error, NotebookError) and f"[^{label}]" in str(error) and "earlier output" in str(error)
    assert bundles == []


def test_a_role_written_as_code_is_left_as_code(shell):
    sentence = "Write a value as ``{eval}`expression` `` in a sentence."
    (source,) = filled_cells(f"\n{sentence}\n")
    bundles, error = run(shell, source)
    assert error is None and bundles[0]["text/markdown"] == sentence


def test_a_text_read_again_is_a_notebook_of_its_own_and_an_edited_text_is_read_anew():
    """The preview's process reads the same notebooks on every rebuild: a text is parsed once,
    each reader gets a notebook it may change, and an edited text is read as it now is."""
    first = read.notebook(MIXED, path="notebooks/x.md")
    expected = without_ids(first.cells)
    first.cells[0].source = "changed by its caller"
    first.cells.append(nbformat.v4.new_markdown_cell("added by its caller"))
    assert without_ids(read.notebook(MIXED, path="notebooks/x.md").cells) == expected
    edited = read.notebook(MIXED + "\nA sentence added.\n", path="notebooks/x.md")
    assert edited.cells[-1].cell_type == "markdown" and edited.cells[-1].source == "A sentence added."
    assert without_ids(edited.cells[:-1]) == expected
    assert without_ids(read.notebook(MIXED, path="notebooks/x.md").cells) == expected
