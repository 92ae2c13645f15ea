"""The book: its table of contents, the execution of its notebooks, and the Sphinx extension for UN numbering."""
