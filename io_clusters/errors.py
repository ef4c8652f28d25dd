"""Exception and warning classes of io_clusters.

Every error the library raises on purpose derives from :class:`IoClustersError`, and
also from a builtin (``ValueError``, ``ArithmeticError`` …) so that callers may catch
either. Messages name the file, sheet and cell where that is known, and say what to do.

The CLI maps these classes to exit codes (see :data:`EXIT_CODES`); :data:`EXIT_MEANINGS`
says what every exit code means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class IoClustersError(Exception):
    """Base class of every error raised on purpose by io_clusters."""


# --------------------------------------------------------------------------- reading
class TableReadError(IoClustersError, ValueError):
    """A file could not be read as an input-output table."""


class FileFormatError(TableReadError):
    """The file is not what its name says (corrupt, truncated, not xlsx/csv, …)."""


class EncryptedWorkbookError(FileFormatError):
    """The workbook is password-protected; it must be saved without a password first."""


class SheetNotFoundError(TableReadError):
    """A sheet the layout needs is not in the workbook."""


class LayoutError(TableReadError):
    """The file does not have the structure its layout describes."""


class LayoutDetectionError(TableReadError):
    """No known layout matches the file; name one with ``layout=`` or write a spec."""


class SpecError(TableReadError):
    """A layout spec (TOML) is malformed or refers to impossible ranges."""


class DuplicateCodeError(LayoutError):
    """The same sector code appears more than once."""


class MergedCellError(LayoutError):
    """Merged cells cut across the block of numbers."""


class FormulaError(LayoutError):
    """Cells hold formulas whose values were never stored (recalculate and save)."""


class ResourceLimitError(TableReadError):
    """The file exceeds a configured limit (size, uncompressed size, cells, sectors)."""


@dataclass(frozen=True, slots=True)
class BadCell:
    """One cell that could not be read as a number.

    Attributes
    ----------
    sheet : str
        Sheet name, or the file name for CSV files.
    cell : str
        Excel reference (``"D14"``) or ``"row 3, column 'PERs4'"`` for CSV.
    value : object
        The value found in the cell.
    """

    sheet: str
    cell: str
    value: object

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell} = {self.value!r}"


class NonNumericCellError(LayoutError):
    """Cells that must hold numbers hold text; every such cell is listed in ``cells``."""

    def __init__(self, message: str, cells: Sequence[BadCell]):
        super().__init__(message)
        self.cells: tuple[BadCell, ...] = tuple(cells)


# ------------------------------------------------------------------------ validation
class TableValidationError(IoClustersError, ValueError):
    """Validation found errors; ``report`` holds every finding, not just the first."""

    def __init__(self, message: str, report: object):
        super().__init__(message)
        self.report = report


# -------------------------------------------------------------------------- analysis
class AnalysisError(IoClustersError, ValueError):
    """The analysis cannot proceed with the data or options given."""


class NotProductiveError(AnalysisError, ArithmeticError):
    """The technical-coefficient matrix is not productive (no meaningful Leontief inverse).

    ``sectors`` lists the codes of the offending sectors.
    """

    def __init__(self, message: str, sectors: Sequence[str] = ()):
        super().__init__(message)
        self.sectors: tuple[str, ...] = tuple(sectors)


class OptionError(IoClustersError, ValueError):
    """An option has an invalid value (e.g. an unknown similarity measure)."""


# ------------------------------------------------------------------ environment, state
class OutputError(IoClustersError, OSError):
    """The outputs cannot be written where asked.

    A file in the way, a read-only or full file system, a name too long, an output that
    would overwrite an input.
    """


class DamagedFileError(IoClustersError, ValueError):
    """A file the tool keeps (update manifest, evidence store) is damaged.

    Corrupt, truncated, or hand-edited to something it cannot use; the message names the
    file and how to fix it.
    """


# -------------------------------------------------------------------------- warnings
class DataWarning(UserWarning):
    """Something in the data deserves attention but does not stop the analysis."""


# ------------------------------------------------------------------------ exit codes
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_BAD_FILE = 4
EXIT_LAYOUT = 5
EXIT_MISMATCH = 6
EXIT_INVALID = 7
EXIT_ANALYSIS = 8
EXIT_SOME_FAILED = 9
EXIT_OUTPUT = 10
EXIT_DAMAGED = 11
EXIT_INTERNAL = 70
EXIT_LOCKED = 75
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

#: Every exit code of the ``io-clusters`` command and what it means: the one table,
#: shown by ``io-clusters --help`` and copied in the README (a test compares them).
EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "other io_clusters error",
    EXIT_USAGE: "bad usage or option value",
    EXIT_NOT_FOUND: "file not found",
    EXIT_BAD_FILE: "not a readable xlsx/csv (corrupt, truncated, password-protected, "
    "legacy .xls, wrong extension)",
    EXIT_LAYOUT: "no layout fits the file, or the layout spec is wrong",
    EXIT_MISMATCH: "the file does not match its layout (non-numeric cell, missing output "
    "column, codes mismatch, merged cells …)",
    EXIT_INVALID: "read, but validation found errors (`inspect` prints the report)",
    EXIT_ANALYSIS: "the analysis cannot proceed (e.g. a non-productive table)",
    EXIT_SOME_FAILED: "`update`: some tables or downloads failed (the others were done; see "
    "the summary)",
    EXIT_OUTPUT: "the outputs cannot be written there: read-only or full disk, `--out` is a "
    "file, a name too long, an output that would overwrite an input (nothing was changed)",
    EXIT_DAMAGED: "a file the tool keeps is damaged (e.g. the evidence store): the message "
    "names it and says how to fix it",
    EXIT_INTERNAL: "internal error: a bug, please report it with `--debug` output",
    EXIT_LOCKED: "`update`: another update holds the lock",
    EXIT_INTERRUPTED: "interrupted by Ctrl-C (SIGINT): one line, temporary files removed, "
    "earlier results intact",
    EXIT_TERMINATED: "stopped by SIGTERM: one line, temporary files removed, earlier results "
    "intact",
}

#: Exit codes of the ``io-clusters`` command, by error class (most specific first).
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (FileNotFoundError, EXIT_NOT_FOUND),
    (FileFormatError, EXIT_BAD_FILE),
    (ResourceLimitError, EXIT_BAD_FILE),
    (SpecError, EXIT_LAYOUT),
    (LayoutDetectionError, EXIT_LAYOUT),
    (TableReadError, EXIT_MISMATCH),
    (TableValidationError, EXIT_INVALID),
    (AnalysisError, EXIT_ANALYSIS),
    (OptionError, EXIT_USAGE),
    (OutputError, EXIT_OUTPUT),
    (DamagedFileError, EXIT_DAMAGED),
    (IoClustersError, EXIT_ERROR),
)


def exit_code_for(error: BaseException) -> int:
    """Return the documented CLI exit code for ``error`` (1 when none is more specific)."""
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return EXIT_ERROR
