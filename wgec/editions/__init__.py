"""The report's editions other than the HTML book (the Typst PDF first)."""
