"""What the data downloads of the HTML book are called and hold (written by
:mod:`wgec.editions.downloads`, listed by annex I and the published site)."""

from __future__ import annotations

from pathlib import Path

from ..paths import DOWNLOADS as FOLDER
from ..paths import WORKBOOK

__all__ = ["FOLDER", "WORKBOOK", "csv_names", "files"]


def csv_names(descriptor: dict) -> dict[str, str]:
    """Each table's download file name: its file name in the data package (with its folder
    when two tables share a file name)."""
    names = {r["name"]: Path(r["path"]).name for r in descriptor["resources"]}
    clash = {n for n in names.values() if list(names.values()).count(n) > 1}
    return {
        r["name"]: r["path"].replace("/", "-") if names[r["name"]] in clash else names[r["name"]]
        for r in descriptor["resources"]
    }


def files(descriptor: dict) -> list[dict]:
    """What the downloads folder holds, in order: name, format, and the table for a CSV."""
    names = csv_names(descriptor)
    listed = [
        {"name": names[r["name"]], "format": "CSV", "table": r["name"], "title": r.get("title", r["name"])}
        for r in descriptor["resources"]
    ]
    listed.append({"name": WORKBOOK, "format": "XLSX", "table": None, "title": "every table, one sheet each"})
    listed.append(
        {
            "name": "datapackage.json",
            "format": "JSON",
            "table": None,
            "title": "the data package descriptor: tables, columns, types and constraints",
        }
    )
    return listed
