"""The Typst side of the PDF, without a book build: data strings reach Typst as text, never as
markup or code; Typst reads nothing outside its project root; long words break."""

import json
import re
import subprocess
import unicodedata

import hostile
import pytest
import typst

from wgec.editions import typst as typeset

# Typst's own syntax, besides the hostile bundles (which cover HTML, Markdown, MyST, LaTeX and
# spreadsheets): code, markup, math, labels, references, escapes, comments, and attempts to end
# the string literal early.
PAYLOADS = [
    *hostile.BUNDLES,
    '#import "@preview/cetz:0.3.0": *',
    '#read("/etc/passwd") #include "/etc/passwd" #image("/etc/passwd")',
    '#{panic("evaluated")} #let x = 1 #x #set text(red) #show: none',
    "$x^2$ $ a + b $ @ref <label> `raw` ```typ #panic()``` \\ \\u{41} \\# * _ = - + / ~ ' \" [ ] { } ; //",
    '"; #panic("escaped"); "',
    '\\"; #panic("escaped"); //',
    "= not a heading",
    "+ not an enum",
    "- not a list",
    "/ term: not a term",
    "// not a comment",
    "/* not a comment */ */",
    "https://evil.example/not-a-link",
    '#link("https://evil.example")[click]',
    "\u200b#panic()",
]


def _query(source: str):
    return json.loads(
        typst.query(source.encode(), "<v>", field="value", font_paths=typeset.fonts(), ignore_system_fonts=True)
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_string_literal_holds_exactly_the_payload(payload):
    """Typst reads the literal back as the very same string: nothing in it was evaluated."""
    assert _query(f"#metadata({typeset.string(payload)}) <v>") == [payload]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_in_markup_is_exactly_the_payload(payload):
    """In running text (as the translator writes it), with break opportunities in long runs."""
    source = f"#let body = [{typeset.text(payload, run=5)}]\n#metadata(body) <v>"
    assert _texts(_query(source)[0]) == payload


def _texts(content) -> str:
    """The text of content as Typst serialises it (sequences of text elements and empty boxes)."""
    if isinstance(content, list):
        return "".join(_texts(c) for c in content)
    if isinstance(content, dict):
        if content.get("func") == "text":
            return content["text"]
        if content.get("func") == "box":
            return ""
        return "".join(_texts(content.get(key)) for key in ("children", "body") if key in content)
    return ""


def test_payloads_print_as_typed_in_a_tagged_pdf(tmp_path):
    """Every payload, set by the PDF's own settings (PDF/UA-1, the machine's fonts), comes back
    from the text layer as typed: no markup applied, no code run, no character lost."""
    body = "\n\n".join(f"#par[{typeset.text(p)}]" for p in PAYLOADS)
    main = tmp_path / "main.typ"
    main.write_text(
        f'#set document(title: "t")\n#set text(font: ("Liberation Serif", "Noto Naskh Arabic", '
        f'"Noto Serif CJK SC", "Noto Color Emoji"), hyphenate: false)\n{body}\n',
        encoding="utf-8",
    )
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(
        typst.compile(main, root=tmp_path, font_paths=typeset.fonts(), ignore_system_fonts=True, pdf_standards=["ua-1"])
    )
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    squeezed = _squeeze(text)
    for payload in PAYLOADS:
        words = payload.split() if any(unicodedata.bidirectional(ch) == "AL" for ch in payload) else [payload]
        for word in words:
            assert _squeeze(word) in squeezed, word
    assert "evaluated" not in text.replace('panic("evaluated")', "")
    assert "/root" not in text and "root:x:0:0" not in text


def _squeeze(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def test_a_long_word_gets_break_opportunities_only_where_it_must():
    assert typeset.text("short words stay whole") == '#"short words stay whole";'
    pieces = typeset.breakable("a" * 30, 12)
    assert pieces == ["a" * 12, "", "a" * 12, "", "a" * 6]
    # Never inside a grapheme: a combining accent or a ZWJ sequence stays with its letter.
    accented = "e\u0301" * 20
    assert all(not p or not unicodedata.combining(p[0]) for p in typeset.breakable(accented, 3))
    # Runs broken by a hyphen or a space need none.
    assert typeset.breakable("social-economic-development " * 3, 20) == ["social-economic-development " * 3]


@pytest.mark.parametrize("path", ["../outside.txt", "/../outside.txt", "/../../etc/passwd"])
def test_typst_reads_no_file_outside_its_project_root(tmp_path, path):
    root = tmp_path / "build"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    (root / "main.typ").write_text(f"#read({typeset.string(path)})")
    with pytest.raises(typst.TypstError):
        typst.compile(root / "main.typ", root=root, font_paths=typeset.fonts(), ignore_system_fonts=True)


def test_the_machines_fonts_only():
    families = set(typeset.fonts().families())
    assert "Liberation Serif" in families and "Noto Naskh Arabic" in families
    bundled = {"Libertinus Serif", "New Computer Modern", "New Computer Modern Math"}
    installed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    assert not {f for f in bundled & families if f not in installed}


def test_a_long_quotation_is_indented_in_order_with_its_footnotes(tmp_path):
    """A quoted passage running over pages, through the report's template: every paragraph and
    list of it indented as a quotation, in order, and each footnote at the bottom of the page
    its paragraph ends on (or the next, where that line ends the page). The template sets each
    part of a quotation in a block of its own: one block for the whole of it made Typst lay out
    its footnotes again for every page it reached (400 paragraphs: 4 s and 2.5 GB; the report
    with data x100, 48 s and 11 GB: `make bench`)."""
    from wgec import settings

    quoted = [f"Quoted paragraph {n}: " + "words of the contribution " * 12 for n in range(1, 81)]
    parts = [
        f"#par[{typeset.text(q)}#footnote[{typeset.text(f'Source of paragraph {n}.')}]]"
        for n, q in enumerate(quoted, 1)
    ]
    parts.insert(40, f"#list([#par[{typeset.text('Quoted item in a list')}]])")
    body = (
        f'#import "un.typ": *\n#par[{typeset.text("Body text before the quotation.")}]\n\n'
        f"#quote(block: true)[{chr(10).join(parts)}]\n\n#par[{typeset.text('Body text after it.')}]\n"
    )
    (tmp_path / typeset.FOLDER).mkdir()
    (tmp_path / typeset.FOLDER / typeset.TEMPLATE.name).write_bytes(typeset.TEMPLATE.read_bytes())
    (tmp_path / typeset.FOLDER / typeset.BODY).write_text(body, encoding="utf-8")
    main = tmp_path / "main.typ"
    main.write_text(typeset.main_source(settings.check_document({}, "test"), "Quotation", []), encoding="utf-8")
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(typst.compile(main, root=tmp_path, font_paths=typeset.fonts(), ignore_system_fonts=True))
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = pages.stdout.split("\f")
    assert len(pages) > 3

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip())

    body_indent = indent(next(line for line in pages[0].splitlines() if "Body text before" in line))
    order, notes, ends, current = [], [], {}, None  # paragraphs and footnotes as read; the page each paragraph ends on
    for number, page in enumerate(pages):
        for line in page.splitlines():
            if "Quoted paragraph" in line or "Quoted item" in line:
                assert indent(line) > body_indent, line
            if m := re.search(r"Quoted paragraph (\d+):", line):
                current = int(m.group(1))
                order.append(current)
            if current is not None and "of the contribution" in line:
                ends[current] = number
            if m := re.search(r"Source of paragraph (\d+)\.", line):
                notes.append(int(m.group(1)))
                # At the bottom of its paragraph's last page, or (a line that ends a page) the next.
                assert number - ends[notes[-1]] in (0, 1), f"footnote {notes[-1]} is not by its paragraph"
    assert order == notes == list(range(1, 81))
