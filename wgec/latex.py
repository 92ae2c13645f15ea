"""The LaTeX edition of the PDF (``wgec pdf --engine latex``), for readers who prefer TeX.

Jupyter Book 1's ``pdflatex`` route: Sphinx's LaTeX builder (with sphinx-jupyterbook-latex,
which turns the parts of ``_toc.yml`` into LaTeX parts) writes ``.tex`` from the same
doctrees as the HTML book, then ``latexmk`` runs xelatex. Only Debian's
``texlive-xetex``, ``texlive-latex-recommended``, ``texlive-fonts-recommended`` and
``latexmk`` are needed (``make deps-latex``): the settings below replace the pieces of
sphinx-jupyterbook-latex that need ``texlive-fonts-extra`` (its ``jupyterBook`` class loads
``bbm``) or ImageMagick (``imgconverter``), and use the fonts of the main PDF (Liberation).

Figures: the notebooks give each chart as SVG and PDF (:func:`wgec.page.svg`); myst-nb's
render priority for LaTeX takes the PDF. Text from the data reaches LaTeX as docutils
text nodes, which Sphinx's LaTeX writer escapes: a data string stays literal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

LATEX_NAME = "wgec-report-latex.pdf"
DEBIAN_PACKAGES = ("texlive-xetex", "texlive-latex-recommended", "texlive-fonts-recommended", "latexmk")


class LatexError(RuntimeError):
    user_facing = True


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
% Paragraph numbers (wgec.sphinx_ext) stand out from their text, as in UN documents.
\expandafter\def\csname DUroleun-para-num\endcsname#1{\makebox[2em][l]{#1}}
% The masthead (classes set by wgec.narrative.masthead) and the title.
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


def _tex(text: str) -> str:
    from sphinx.util import texescape

    texescape.init()  # the tables are filled when the LaTeX builder starts, after config-inited
    return texescape.escape(str(text), latex_engine="xelatex")


def _configure(app, config) -> None:
    """After sphinx-jupyterbook-latex's own ``config-inited`` (it sets the jupyterBook class and
    a preamble with ``ucharclasses``/``unicode-math``): the standard Sphinx class and ours."""
    from . import config as settings_of

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
                       "InnerLinkColor={rgb}{0,0,0.5}, OuterLinkColor={rgb}{0,0,0.5}",
        "preamble": PREAMBLE.replace("@SYMBOL@", _tex(symbol))
                            .replace("@TITLE@", _tex(getattr(config, "html_title", "") or ""))
                            .replace("@SUBJECT@", _tex(f"{settings['organ']}, {settings['body']}, {symbol}")),
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
        masthead = next((n for n in self.document.findall(nodes.container)
                         if "un-masthead" in n["classes"]), None)
        title = self.env.titles.get(self.config.root_doc)
        if masthead is None or title is None:
            return
        block = masthead
        while not isinstance(block.parent, (nodes.section, nodes.document)) and block.parent is not None:
            block = block.parent
        heading = nodes.container("", nodes.paragraph("", title.astext()), classes=["un-title"])
        block.parent.insert(block.parent.index(block) + 1, heading)


class DropWebOnly(SphinxPostTransform):
    """Pages and parts for the web only (``un-web-only``) are not printed, as in the main PDF."""

    default_priority = 5
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(nodes.Element)):
            if "un-web-only" in node.get("classes", []) and node.parent is not None:
                node.parent.remove(node)


def setup(app) -> dict:
    app.connect("config-inited", _configure, priority=900)
    app.connect("builder-inited", _builder_inited, priority=900)
    app.add_post_transform(DropWebOnly)
    app.add_post_transform(DocumentTitle)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# --- the build ----------------------------------------------------------------------------

def missing_tools() -> list[str]:
    return [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]


def typeset(latex_dir: Path, target: Path) -> None:
    """Run latexmk/xelatex on the ``.tex`` Sphinx wrote into ``latex_dir``; write ``target``."""
    missing = missing_tools()
    if missing:
        raise LatexError(f"{' and '.join(missing)} not found: the LaTeX edition needs Debian's "
                         f"{', '.join(DEBIAN_PACKAGES)} (run `make deps-latex`)")
    sources = sorted(latex_dir.glob("*.tex"))
    sources = [s for s in sources if "\\begin{document}" in s.read_text(encoding="utf-8", errors="replace")]
    if len(sources) != 1:
        raise LatexError(f"{latex_dir}: expected one LaTeX document, found {len(sources)}")
    source = sources[0]
    log = source.with_suffix(".log")
    run = subprocess.run(
        ["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
         "-norc", source.name],
        cwd=latex_dir, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL,
        env={**os.environ, "max_print_line": "10000"})  # log lines unwrapped: whole error messages
    pdf = source.with_suffix(".pdf")
    if run.returncode != 0 or not pdf.is_file():
        raise LatexError(f"xelatex failed: {first_error(log).rstrip('.') or 'no error line in the log'}; "
                         f"the LaTeX log is {log}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, target)


def first_error(log: Path) -> str:
    """The first error line of a LaTeX log (``file:line: message`` or ``! message``)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for i, line in enumerate(lines):
        if re.match(r"^(!|\S+:\d+: )", line):
            return line.strip()
    return ""
