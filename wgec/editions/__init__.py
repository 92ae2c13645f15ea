"""The editions made from the book: print layout and PDF, Word, LaTeX, and the data downloads."""
