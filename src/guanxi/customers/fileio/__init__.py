"""The file layer of import and export, free of Django: readers that yield rows lazily from CSV,
XLSX and vCard, the header-to-field guess, and writers that stream CSV, XLSX and vCard.

The import job and the UI build on this; everything here runs on a plain file, in constant memory."""

from .errors import FileFormatError, Problem, Row
from .mapping import ACCOUNT_FIELDS, CONTACT_FIELDS, FIELDS, LEAD_FIELDS, apply_template, check_mapping, guess_mapping
from .readers import Table, open_rows
from .textio import DEFAULT_MAX_BYTES, detect_encoding
from .vcard import COLUMNS as VCARD_COLUMNS
from .vcard import vcard_chunks
from .writers import csv_chunks, neutralise, rejected_csv_chunks, write_xlsx, xlsx_chunks

__all__ = [
    "ACCOUNT_FIELDS", "CONTACT_FIELDS", "DEFAULT_MAX_BYTES", "FIELDS", "LEAD_FIELDS", "VCARD_COLUMNS",
    "FileFormatError", "Problem", "Row", "Table", "apply_template", "check_mapping", "csv_chunks", "detect_encoding",
    "guess_mapping",
    "neutralise", "open_rows", "rejected_csv_chunks", "vcard_chunks", "write_xlsx", "xlsx_chunks",
]
