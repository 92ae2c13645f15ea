"""``{data-table}``: the book's tables of data, read without parsing the data as Markdown.

A notebook's table (:func:`wgec.report.page.table`) gives its rows as JSON, one line per row:
a cell is a string (data: literal text, whatever characters it holds) or ``{"md": "…"}``
(Markdown the package built, such as a quotation with its marks). The table is the one
docutils' ``list-table`` makes (same nodes, options, widths and caption), but only the
Markdown cells are parsed, all of a table's at once: a data cell is a paragraph of its text.
Parsing every cell of annex I as Markdown was most of the time Sphinx spent reading it.
"""

from __future__ import annotations

import json

from docutils import nodes
from docutils.parsers.rst.directives.tables import ListTable
from docutils.statemachine import StringList
from docutils.utils import SystemMessagePropagation

NAME = "data-table"


class DataTable(ListTable):
    def run(self) -> list[nodes.Node]:
        try:
            rows = [json.loads(line) for line in self.content if line.strip()]
            if not rows or any(not isinstance(row, list) or len(row) != len(rows[0]) for row in rows):
                raise ValueError("expected one JSON list per row, all of the same length")
        except ValueError as exc:
            return [self._error(f'the "{NAME}" directive: {exc}')]
        title, messages = self.make_title()
        try:
            widths = self.get_column_widths(len(rows[0]))
            table = self.build_table_from_list(
                self._cells(rows), widths, self.options.get("header-rows", 0), self.options.get("stub-columns", 0)
            )
        except SystemMessagePropagation as detail:  # docutils' own (widths that do not match the columns)
            return [detail.args[0]]
        except ValueError as exc:
            return [self._error(f'the "{NAME}" directive: {exc}')]
        table["classes"] += self.options.get("class", [])
        self.set_table_width(table)
        self.add_name(table)
        if title:
            table.insert(0, title)
        return [table, *messages]

    def _cells(self, rows: list[list]) -> list[list[list[nodes.Node]]]:
        marked = [cell["md"] for row in rows for cell in row if isinstance(cell, dict)]
        parsed: list[list[nodes.Node]] = []
        if marked:  # one bullet list, one item per Markdown cell, parsed at once
            lines: list[str] = []
            for text in marked:
                first, *rest = str(text).split("\n")
                lines += ["-   " + first, *("    " + line for line in rest)]
            holder = nodes.Element()
            self.state.nested_parse(StringList(lines), self.content_offset, holder)
            parsed = [list(item.children) for item in holder[0]] if len(holder) and holder[0].children else []
            if len(parsed) != len(marked):
                raise ValueError(f"{len(marked)} Markdown cells gave {len(parsed)} list items")
        found = iter(parsed)
        return [
            [
                next(found) if isinstance(cell, dict) else [nodes.paragraph("", "", nodes.Text(str(cell)))]
                for cell in row
            ]
            for row in rows
        ]

    def _error(self, text: str) -> nodes.system_message:
        return self.reporter.error(text, nodes.literal_block(self.block_text, self.block_text), line=self.lineno)
