"""The LaTeX edition of the PDF (``wgec pdf --engine latex``), for readers who prefer TeX.

Jupyter Book 1's ``pdflatex`` route: Sphinx's LaTeX builder (with sphinx-jupyterbook-latex,
which turns the parts of ``_toc.yml`` into LaTeX parts) writes ``.tex`` from the same
doctrees as the HTML book, then ``latexmk`` runs xelatex. Only Debian's
``texlive-xetex``, ``texlive-latex-recommended``, ``texlive-fonts-recommended`` and
``latexmk`` are needed (``make deps-latex``): the settings below replace the pieces of
sphinx-jupyterbook-latex that need ``texlive-fonts-extra`` (its ``jupyterBook`` class loads
``bbm``) or ImageMagick (``imgconverter``), and use the fonts of the main PDF (Liberation).

Scripts: the Liberation fonts cover Latin, Greek and Cyrillic. XeTeX has no font fallback, so
runs of Arabic, Hebrew, Devanagari and Chinese/Japanese/Korean text are marked in the doctree
(:class:`Scripts`) and typeset in the Noto fonts the main PDF uses (Debian's fonts-noto-core and
fonts-noto-cjk), right-to-left scripts inside ``\\beginR ... \\endR`` (e-TeX's TeX--XeT; XeTeX
orders the letters of each word, TeX--XeT the words). Any character still without a glyph
fails the build (:func:`missing_characters`): xelatex would only log it and leave it out.

Figures: the notebooks give each chart as SVG and PDF (:func:`wgec.report.page.svg`); myst-nb's
render priority for LaTeX takes the PDF. Text from the data reaches LaTeX as docutils
text nodes, which Sphinx's LaTeX writer escapes: a data string stays literal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

from .. import settings as settings_of
from ..data import DESCRIPTOR, read_csv
from ..errors import EditionError

DEBIAN_PACKAGES = ("texlive-xetex", "texlive-latex-recommended", "texlive-fonts-recommended", "latexmk")


class LatexError(EditionError):
    """xelatex failed, or left characters out."""


# Scripts the Liberation fonts lack: (name, characters, serif font, sans font, fontspec options,
# right to left). Fonts from fonts-noto-core and fonts-noto-cjk, which the main PDF uses too.
SCRIPTS = (
    (
        "Arabic",
        "\u0600-\u06ff\u0750-\u077f\u0870-\u08ff\ufb50-\ufdff\ufe70-\ufefe",
        "Noto Naskh Arabic",
        "Noto Sans Arabic",
        "Script=Arabic",
        True,
    ),
    ("Hebrew", "\u0590-\u05ff\ufb1d-\ufb4f", "Noto Serif Hebrew", "Noto Sans Hebrew", "Script=Hebrew", True),
    (
        "Devanagari",
        "\u0900-\u097f\ua8e0-\ua8ff",
        "Noto Serif Devanagari",
        "Noto Sans Devanagari",
        "Script=Devanagari",
        False,
    ),
    (
        "CJK",
        "\u1100-\u11ff\u2e80-\u2fdf\u2ff0-\u303f\u3040-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
        "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff",
        "Noto Serif CJK SC",
        "Noto Sans CJK SC",
        "",
        False,
    ),
)
_JOINERS = "\u200c\u200d"  # ZWNJ and ZWJ: part of a run (they shape Arabic and Indic words)


def _run_pattern(chars: str, rtl: bool) -> str:
    word = f"[{chars}][{chars}{_JOINERS}]*"
    # A right-to-left run goes on over the spaces between its words: TeX--XeT orders them.
    return f"{word}(?:[ \u00a0]+{word})*" if rtl else word


_RUNS = re.compile(
    "|".join(f"(?P<{name}>{_run_pattern(chars, rtl)})" for name, chars, *_, rtl in SCRIPTS)
    + "|(?P<zwsp>\u200b)|(?P<invisible>[\u200c-\u200f\u2060\ufeff])"
)
_RTL = {name for name, *_, rtl in SCRIPTS if rtl}


def _pieces(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_latex, piece): runs of the scripts above wrapped in their font (and
    direction) commands; a zero-width space as a break point; the other invisible format
    characters (joiners outside a run, direction marks, word joiner), which no font here
    draws, left out. The text pieces are still to be escaped."""
    out, at = [], 0
    for match in _RUNS.finditer(text):
        if match.start() > at:
            out.append((False, text[at : match.start()]))
        kind = match.lastgroup
        if kind == "zwsp":
            out.append((True, "\\hspace{0pt}"))
        elif kind != "invisible":
            begin, end = ("\\beginR", "\\endR") if kind in _RTL else ("", "")
            out += [(True, f"{{\\wgec{kind}{begin} "), (False, match.group()), (True, f"{end}}}")]
        at = match.end()
    if at < len(text):
        out.append((False, text[at:]))
    return out


def _fonts() -> str:
    lines = [
        "\\TeXXeTstate=1",
        "\\makeatletter",
        "\\newcommand\\wgec@pick[2]{\\edef\\wgec@f{\\f@family}\\edef\\wgec@sf{\\sfdefault}%",
        "  \\ifx\\wgec@f\\wgec@sf\\expandafter#2\\else\\expandafter#1\\fi}",
    ]
    for name, _, serif, sans, options, _ in SCRIPTS:
        extra = '\\XeTeXlinebreaklocale "zh"\\XeTeXlinebreakskip=0pt plus 1pt\\relax' if name == "CJK" else ""
        lines += [
            f"\\newfontfamily\\wgec{name}rm{{{serif}}}[{options}]",
            f"\\newfontfamily\\wgec{name}sf{{{sans}}}[{options}]",
            f"\\DeclareRobustCommand\\wgec{name}{{\\wgec@pick\\wgec{name}rm\\wgec{name}sf{extra}}}",
        ]
    return "\n".join([*lines, "\\makeatother", ""])


PREAMBLE = r"""
% WGEC Report: UN document layout (running head with the symbol, page number outside).
\usepackage{fancyhdr}
\fancypagestyle{normal}{\fancyhf{}%
  \fancyhead[LE,RO]{\small\thepage}\fancyhead[RE,LO]{\small\bfseries @SYMBOL@}%
  \renewcommand{\headrulewidth}{0.4pt}\renewcommand{\footrulewidth}{0pt}}
\fancypagestyle{plain}{\fancyhf{}\fancyfoot[C]{\small\thepage}%
  \renewcommand{\headrulewidth}{0pt}\renewcommand{\footrulewidth}{0pt}}
% Headings carry their UN numbers (I., A., Annex I.) in their text: no LaTeX numbers.
\setcounter{secnumdepth}{-1}
\AtBeginDocument{\hypersetup{pdftitle={@TITLE@}, pdfsubject={@SUBJECT@}, pdflang={en}}}
% The text layer says what was typeset: without this, xdvipdfmx maps a glyph that a font shares
% between two characters to either (Liberation's ";" came out as U+037E, the Greek question mark).
\XeTeXgenerateactualtext=1
% Tables of data: a size smaller, and names like source_lines may break after the underscore.
\AtBeginEnvironment{tabular}{\small}
\AtBeginEnvironment{longtable}{\small}
\makeatletter
\DeclareRobustCommand{\_}{\ifmmode\nfss@text{\textunderscore}\else\textunderscore\allowbreak\fi}
\makeatother
% Long code lines broken at a space show it as U+2423, which Liberation Mono lacks.
\newfontfamily\wgecvisiblespacefont{Latin Modern Mono}
\newcommand{\wgecvisiblespace}{{\wgecvisiblespacefont\textcolor{red}{\textvisiblespace}}}
% Paragraph numbers (wgec.book.sphinx_ext) stand out from their text, as in UN documents.
\expandafter\def\csname DUroleun-para-num\endcsname#1{\makebox[2em][l]{#1}}
% The masthead (classes set by wgec.report.narrative.masthead) and the title.
\newenvironment{sphinxclassun-masthead}{\par\noindent\rule{\linewidth}{0.8pt}\par}{\par\noindent\rule{\linewidth}{0.8pt}\par}
\newenvironment{sphinxclassun-mh-un}{\large\bfseries}{\par}
\newenvironment{sphinxclassun-mh-symbol}{\raggedleft\Large\bfseries}{\par}
\newenvironment{sphinxclassun-mh-organ}{\large\bfseries}{\par}
\newenvironment{sphinxclassun-mh-meta}{\raggedleft}{\par}
\newenvironment{sphinxclassun-mh-session}{\bfseries}{\par}
\newenvironment{sphinxclassun-title}{\vspace{1.5em}\LARGE\bfseries\raggedright}{\par\vspace{1em}}
% Notebook cells, as sphinx-jupyterbook-latex marks them (its class, which defined these, is not used).
\newenvironment{sphinxVerbatimInput}{}{}
\newenvironment{sphinxVerbatimOutput}{}{}
"""


def tex(text: str) -> str:
    from sphinx.util import texescape

    texescape.init()  # the tables are filled when the LaTeX builder starts, after config-inited
    return "".join(
        piece if latex else texescape.escape(piece, latex_engine="xelatex") for latex, piece in _pieces(str(text))
    )


def configure(app, config) -> None:
    """After sphinx-jupyterbook-latex's own ``config-inited`` (it sets the jupyterBook class and
    a preamble with ``ucharclasses``/``unicode-math``): the standard Sphinx class and ours."""
    settings = settings_of.check_document(dict(config.wgec_document or {}))
    symbol = settings["symbol"] or "DRAFT"
    config.latex_engine = "xelatex"
    config.latex_theme = "manual"
    config.latex_use_xindy = False
    config.jblatex_load_imgconverter = False
    config.jblatex_captions_to_parts = False  # chapters and annexes, as in the main PDF; no part pages
    config.latex_elements = {
        "papersize": "a4paper",
        "pointsize": "11pt",
        "fontpkg": "\\setmainfont{Liberation Serif}\n\\setsansfont{Liberation Sans}\n"
        "\\setmonofont{Liberation Mono}[Scale=0.9]\n",
        "fncychap": "",
        "sphinxsetup": "hmargin={2.5cm,2.5cm}, vmargin={2.5cm,2.5cm}, TitleColor={rgb}{0,0,0}, "
        "InnerLinkColor={rgb}{0,0,0.5}, OuterLinkColor={rgb}{0,0,0.5}, "
        "verbatimvisiblespace=\\wgecvisiblespace",
        "preamble": _fonts()
        + PREAMBLE.replace("@SYMBOL@", tex(symbol))
        .replace("@TITLE@", tex(getattr(config, "html_title", "") or ""))
        .replace("@SUBJECT@", tex(f"{settings['organ']}, {settings['body']}, {symbol}")),
        # The masthead and the title are the first page of the book itself (front matter).
        "maketitle": "\\pagestyle{normal}\\thispagestyle{plain}",
        "tableofcontents": "",
        "printindex": "",
        "releasename": "",
        "extraclassoptions": "openany,oneside",
    }


def _builder_inited(app) -> None:
    """After sphinx-jupyterbook-latex's: figures and tables numbered through the document
    (Figure 1, 2, ...), not per chapter, as in the HTML book and the main PDF."""
    if app.builder.name == "latex":
        app.config.numfig_secnum_depth = 0
        # wgec-report-latex.tex (and .log, named in error messages), not "projectnamenotset.tex".
        docs = list(app.config.latex_documents)
        if len(docs) == 1:
            app.config.latex_documents = [(docs[0][0], "wgec-report-latex.tex", *docs[0][2:])]


class DocumentTitle(SphinxPostTransform):
    """The book's title after the masthead (Sphinx's LaTeX writer takes the root page's title
    for ``\\title``, which is not printed: the masthead is the first thing on the page)."""

    default_priority = 6
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        masthead = next((n for n in self.document.findall(nodes.container) if "un-masthead" in n["classes"]), None)
        title = self.env.titles.get(self.config.root_doc)
        if masthead is None or title is None:
            return
        block = masthead
        while not isinstance(block.parent, (nodes.section, nodes.document)) and block.parent is not None:
            block = block.parent
        heading = nodes.container("", nodes.paragraph("", title.astext()), classes=["un-title"])
        block.parent.insert(block.parent.index(block) + 1, heading)


class Scripts(SphinxPostTransform):
    """Runs of the scripts the Liberation fonts lack in their Noto font (:data:`SCRIPTS`): each
    text node split into text nodes (which the LaTeX writer escapes, as before) and raw LaTeX
    nodes that only hold the font and direction commands. After :class:`DocumentTitle`."""

    default_priority = 7
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for text in list(self.document.findall(nodes.Text)):
            parent = text.parent
            if (
                not isinstance(parent, nodes.TextElement)
                or not _RUNS.search(text)
                or any(isinstance(a, (nodes.FixedTextElement, nodes.literal, nodes.math)) for a in _ancestors(text))
            ):
                continue  # code and raw text are typeset as they are (a glyph missing fails the build)
            at = next(i for i, child in enumerate(parent.children) if child is text)
            parent[at : at + 1] = [
                nodes.raw("", piece, format="latex") if latex else nodes.Text(piece)
                for latex, piece in _pieces(str(text))
            ]


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


class DropWebOnly(SphinxPostTransform):
    """Pages and parts for the web only (``un-web-only``) are not printed, as in the main PDF."""

    default_priority = 5
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(nodes.Element)):
            if "un-web-only" in node.get("classes", []) and node.parent is not None:
                node.parent.remove(node)


def setup(app) -> dict:
    app.connect("config-inited", configure, priority=900)
    app.connect("builder-inited", _builder_inited, priority=900)
    app.add_post_transform(DropWebOnly)
    app.add_post_transform(DocumentTitle)
    app.add_post_transform(Scripts)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# --- the build ----------------------------------------------------------------------------


def missing_tools() -> list[str]:
    return [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]


def typeset(latex_dir: Path, target: Path, data_dir: Path | None = None) -> None:
    """Run latexmk/xelatex on the ``.tex`` Sphinx wrote into ``latex_dir``; write ``target``,
    unless a character had no glyph (then say which, and where it is in ``data_dir``)."""
    missing = missing_tools()
    if missing:
        raise LatexError(
            f"{' and '.join(missing)} not found: the LaTeX edition needs Debian's "
            f"{', '.join(DEBIAN_PACKAGES)} (run `make deps-latex`)"
        )
    sources = sorted(latex_dir.glob("*.tex"))
    sources = [s for s in sources if "\\begin{document}" in s.read_text(encoding="utf-8", errors="replace")]
    if len(sources) != 1:
        raise LatexError(f"{latex_dir}: expected one LaTeX document, found {len(sources)}")
    source = sources[0]
    log = source.with_suffix(".log")
    run = subprocess.run(
        ["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-norc", source.name],
        cwd=latex_dir,
        capture_output=True,
        text=True,
        errors="replace",
        stdin=subprocess.DEVNULL,
        env={**os.environ, "max_print_line": "10000"},
    )  # log lines unwrapped: whole error messages
    pdf = source.with_suffix(".pdf")
    if run.returncode != 0 or not pdf.is_file():
        raise LatexError(
            f"xelatex failed: {first_error(log).rstrip('.') or 'no error line in the log'}; the LaTeX log is {log}"
        )
    missing = missing_characters(log)
    if missing:
        raise LatexError(_missing_message(missing, data_dir, log))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, target)


_MISSING = re.compile(
    r"^Missing character: There is no (.+?)(?: \(U\+([0-9A-Fa-f]+)\))? in font "
    r"(\[[^\]]*\]|[^/:!]+)"
)  # "Liberation Serif/OT:...", "[file.otf]:mapping=..."


def missing_characters(log: Path) -> dict[str, set[str]]:
    """The characters xelatex found no glyph for (it logs them, and leaves them out), with
    the fonts it looked in."""
    found: dict[str, set[str]] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _MISSING.match(line)
        if match:
            char = chr(int(match.group(2), 16)) if match.group(2) else match.group(1)
            found.setdefault(char, set()).add(match.group(3).strip().strip("[]"))
    return found


def _where(chars, data_dir: Path | None) -> dict[str, list[str]]:
    """Up to three cells of the data (file, row as a spreadsheet counts them, column) that
    hold each character, read by the data loader's own CSV reader."""
    import json

    places: dict[str, list[str]] = {char: [] for char in chars}
    try:
        resources = json.loads((data_dir / DESCRIPTOR).read_text(encoding="utf-8-sig"))["resources"]
    except (TypeError, OSError, ValueError, KeyError):
        return places  # no data directory given, or not readable: the data were checked before
    for resource in resources:
        read = read_csv(data_dir, resource, [])
        if read is None:
            continue
        header, rows, numbers = read
        for number, row in zip(numbers, rows):
            for column, cell in zip(header, row):
                for char in chars:
                    if char in cell and len(places[char]) < 3:
                        places[char].append(f"{resource['path']}, row {number}, column {column!r}")
    return places


def _missing_message(missing: dict[str, set[str]], data_dir: Path | None, log: Path) -> str:
    places = _where(missing, data_dir)
    lines = []
    for char, fonts in sorted(missing.items()):
        name = unicodedata.name(char, "")
        where = "; ".join(places[char]) or "not in the data (look in the notebooks and _config.yml)"
        lines.append(
            f"  - U+{ord(char):04X} {char!r}{f' {name}' if name else ''} (no glyph in "
            f"{', '.join(sorted(fonts))}): {where}"
        )
    n = len(missing)
    return (
        f"{n} character{'s' if n != 1 else ''} that the fonts of the LaTeX edition cannot show "
        f"(xelatex would leave {'them' if n != 1 else 'it'} out):\n"
        + "\n".join(lines)
        + f"\nReplace {'them' if n != 1 else 'it'} in the data, or publish the main PDF (`wgec pdf`), "
        f"whose fonts may have {'them' if n != 1 else 'it'}; the LaTeX log is {log}"
    )


def first_error(log: Path) -> str:
    """The first error line of a LaTeX log (``file:line: message`` or ``! message``)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for _i, line in enumerate(lines):
        if re.match(r"^(!|\S+:\d+: )", line):
            return line.strip()
    return ""
