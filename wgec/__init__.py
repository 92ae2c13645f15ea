"""WGEC Report: a WGEC contribution as validated data, compiled into a UN-style report."""

__version__ = "0.1.0"
