"""The one error base class: a problem the user can fix, said with what is wrong and where.

The command line catches :class:`WgecError` once and prints it without a traceback; any
other exception is a bug and keeps its traceback. (Kept in a module of its own, as Sphinx
keeps its errors, so that every stage can raise them without importing another stage.)
"""

from __future__ import annotations


class WgecError(Exception):
    """What is wrong (and what was expected), and where: a file with its row and column, a
    notebook and line, or a setting. ``where`` is optional when ``what`` says it."""

    def __init__(self, what: str, where: str | None = None):
        self.what = what
        self.where = where
        super().__init__(f"{where}: {what}" if where else what)


class DataError(WgecError):
    """Every problem found in a data directory, reported at once (see :class:`wgec.data.Problem`)."""

    def __init__(self, problems: list):
        self.problems = problems
        n = len(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the data:\n{lines}")


class ConfigError(WgecError):
    """A setting of ``_config.yml`` or ``_toc.yml`` that cannot be used."""


class NotebookError(WgecError):
    """A notebook that is missing, or failed when it ran."""


class BuildError(WgecError):
    """A build step that failed (Sphinx, a link check, the lock)."""


class EditionError(WgecError):
    """An edition (Word, LaTeX) that its tool could not write."""


class PublishError(WgecError):
    """A site that cannot be published from the build as it is."""
