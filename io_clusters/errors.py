"""Exception and warning classes of io_clusters.

Every error the library raises on purpose derives from :class:`IoClustersError`, and
also from a builtin (``ValueError``, ``ArithmeticError`` …) so that callers may catch
either. Messages name the file, sheet and cell where that is known, and say what to do.

The CLI maps these classes to exit codes (see :data:`EXIT_CODES`).
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


#: Exit codes of the ``io-clusters`` command, by error class (most specific first).
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (FileNotFoundError, 3),
    (FileFormatError, 4),
    (ResourceLimitError, 4),
    (SpecError, 5),
    (LayoutDetectionError, 5),
    (TableReadError, 6),
    (TableValidationError, 7),
    (AnalysisError, 8),
    (OptionError, 2),
    (OutputError, 10),
    (DamagedFileError, 11),
    (IoClustersError, 1),
)


def exit_code_for(error: BaseException) -> int:
    """Return the documented CLI exit code for ``error`` (1 when none is more specific)."""
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1
