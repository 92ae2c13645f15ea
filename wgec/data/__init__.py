"""The data stage: the contribution as a validated data package (load, validate, digest), and
what its downloads are called."""

from ..errors import DataError
from .load import DESCRIPTOR, MAX_FILE_BYTES, Problem, Tables, digest, load, read_csv

__all__ = ["DESCRIPTOR", "MAX_FILE_BYTES", "DataError", "Problem", "Tables", "digest", "load", "read_csv"]
