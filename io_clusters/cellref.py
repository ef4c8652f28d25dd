"""Spreadsheet cell addresses (A1 notation), with no dependency on the rest of the package.

Kept apart so that :mod:`io_clusters.table` and the readers can both use it without an
import cycle.
"""

from __future__ import annotations


def col_letter(col: int) -> str:
    """Return the Excel column letters of 1-based column ``col`` (1 → ``"A"``).

    Examples
    --------
    >>> col_letter(1), col_letter(27), col_letter(16384)
    ('A', 'AA', 'XFD')
    """
    if col < 1:
        raise ValueError(f"column must be >= 1, got {col}")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """Return the 1-based column number of Excel column ``letters`` (``"AA"`` → 27).

    Examples
    --------
    >>> col_index("A"), col_index("aa"), col_index("XFD")
    (1, 27, 16384)
    """
    n = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise ValueError(f"not a column name: {letters!r}")
        n = n * 26 + (ord(ch) - 64)
    return n


def cell_ref(row: int, col: int) -> str:
    """Return the A1 reference of the 1-based (row, col) cell.

    Examples
    --------
    >>> cell_ref(14, 4)
    'D14'
    """
    return f"{col_letter(col)}{row}"


__all__ = ["cell_ref", "col_index", "col_letter"]
