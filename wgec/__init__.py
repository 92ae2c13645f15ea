"""WGEC Report: a WGEC contribution as validated data, compiled into a UN-style report."""

import sys

__version__ = "0.1.0"

# jsonschema imports rfc3987_syntax when it is installed (JupyterLab's jupyter-events asks for
# it), only to check the "iri" formats; the import compiles 38 grammars, about 1 s in every
# process that validates anything: the build (Jupyter Book, frictionless) and each kernel that
# validates the data. Nothing here checks formats (frictionless and nbformat pass no format
# checker to jsonschema), so in our processes the module reads as absent, as Python allows
# (a None in sys.modules makes its import raise ImportError, which jsonschema expects).
# JupyterLab's server does not import wgec and keeps it.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)
