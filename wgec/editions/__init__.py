"""The editions made from the book: the PDF (Typst), Word, LaTeX, and the data downloads."""
