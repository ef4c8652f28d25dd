"""Numbers stored as text: explicit parsing rules, each reported, never a silent guess.

Rules (tried in this order on the stripped text; NBSP and thin spaces count as spaces):

=================  ===========================  =============================================
rule               examples                     value
=================  ===========================  =============================================
``dash``           ``-``, ``–``, ``—``          0 (the statistical convention for "nil")
``not_available``  ``…``, ``...``, ``n.d.``,    0, and the cell is reported as not available
                   ``s.d.``, ``n.a.``
``parentheses``    ``(123)``, ``(1.234,5)``     the negative of the number inside
``plain``          ``1234.5``, ``-12``, ``1e3``  the decimal number (digits, one point, exponent)
``decimal_comma``  ``1.234.567,89``,            dots (or spaces) group thousands, the comma is
                   ``1 234,5``, ``7,83E-07``    the decimal separator (Spanish / Latin American)
``decimal_point``  ``1,234,567.89``,            commas (or spaces) group thousands, the point
                   ``1 234.5``                  is the decimal separator
``spaces``         ``1 234 567``                spaces group thousands
=================  ===========================  =============================================

Text such as ``1.234`` or ``1,234`` fits two conventions. The convention of a block is
the one its unambiguous cells show (``decimal=None``, the default), or the one the
caller states (``decimal="."`` or ``","``); a block whose unambiguous cells show both is
refused, and an ambiguous cell in a block with no evidence is read with the decimal
point (``1,234`` → 1234, ``1.234`` → 1.234) and the rule says so.

What Python's ``float()`` accepts but a table never means is refused everywhere:
``nan``, ``inf``, ``infinity``, digit groups with underscores (``1_000``), hexadecimal.
:func:`to_number` is the one coercion every reader uses (cell values of any type).
"""

from __future__ import annotations

import math
import re

DASHES = {"-", "–", "—", "‐"}
NOT_AVAILABLE = {"…", "...", "n.d.", "s.d.", "n.a.", "nd", "na", "s/d", ".."}
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_DEC_COMMA = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?([eE][+-]?\d+)?$")
_EXPONENT = re.compile(r"^-?\d+([.,])\d+[eE][+-]?\d+$")
_DEC_POINT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SPACED = re.compile(r"^-?\d{1,3}( \d{3})+([.,]\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: A plain decimal number (digits, one point, exponent; no spaces, no separators).
PLAIN = _PLAIN
_MINUS = str.maketrans({"\u2212": "-"})


def convention(text: str) -> str | None:
    """Return ``","`` or ``"."`` if ``text`` shows its decimal separator unambiguously."""
    s = _SPACES.sub(" ", text.strip()).strip("()")
    if m := _EXPONENT.match(s):
        return m.group(1)  # 7,83E-07 (what a Spanish-locale spreadsheet writes) or 7.83E-07
    if _SPACED.match(s):
        return "," if "," in s else ("." if "." in s else None)
    if "," in s and "." in s:
        return "," if s.rfind(",") > s.rfind(".") else "."
    if re.match(r"^-?\d+,\d{1,2}$|^-?\d+,\d{4,}$", s):
        return ","  # 12,5 or 3,14159: a comma that cannot group thousands
    if re.match(r"^-?\d{1,3}(\.\d{3}){2,}$", s):
        return ","  # 1.234.567: only thousands groups
    if re.match(r"^-?\d{1,3}(,\d{3}){2,}$", s):
        return "."
    if re.match(r"^-?\d+\.\d{1,2}$|^-?\d+\.\d{4,}$", s):
        return "."
    return None


def parse(text: str, decimal: str = ".") -> tuple[float, str]:
    """Parse ``text`` under the given decimal separator; return (value, rule).

    Raises
    ------
    ValueError
        When no rule applies.
    """
    s = _SPACES.sub(" ", text.strip()).translate(_MINUS)
    low = s.lower()
    if s in DASHES:
        return 0.0, "dash"
    if low in NOT_AVAILABLE:
        return 0.0, "not_available"
    if s.startswith("(") and s.endswith(")") and len(s) > 2:
        value, _ = parse(s[1:-1], decimal)
        return -value, "parentheses"
    if _SPACED.match(s):
        return float(s.replace(" ", "").replace(",", ".")), "spaces"
    if decimal == "," and _DEC_COMMA.match(s):
        if "," not in s and "." not in s:
            return float(s), "plain"
        return float(s.replace(".", "").replace(",", ".")), "decimal_comma"
    if _PLAIN.match(s):
        return float(s), "plain"
    if decimal == "." and _DEC_POINT.match(s):
        return float(s.replace(",", "")), "decimal_point"
    if decimal == "." and _DEC_COMMA.match(s):
        raise ValueError(f"{text!r} uses a decimal comma but the block uses a decimal point")
    if decimal == "," and _DEC_POINT.match(s):
        raise ValueError(f"{text!r} uses a decimal point but the block uses a decimal comma")
    if low.lstrip("+-") in ("nan", "inf", "infinity") or "_" in s:
        raise ValueError(f"{text!r} is not a figure a table can hold (NaN, infinity or 1_000)")
    raise ValueError(f"not a number: {text!r}")


def to_number(value: object, decimal: str = ".") -> tuple[float | None, str]:
    """Return (value, rule) for one cell of any type; ``None`` value for a blank cell.

    Rules are those of :func:`parse` for text, plus ``"blank"`` (``None`` or only
    spaces: value ``None``, the caller decides) and ``"number"`` (an int or float
    stored as such).

    Raises
    ------
    ValueError
        TRUE/FALSE, dates and other types, or text no rule reads; the message says why.

    Examples
    --------
    >>> to_number("1,531.80")
    (1531.8, 'decimal_point')
    >>> to_number("1.531,80", ",")
    (1531.8, 'decimal_comma')
    >>> to_number("1_000")
    Traceback (most recent call last):
    ...
    ValueError: '1_000' is not a figure a table can hold (NaN, infinity or 1_000)
    """
    if value is None:
        return None, "blank"
    if isinstance(value, bool):
        raise ValueError("a TRUE/FALSE value, not a number")
    if isinstance(value, int | float) or type(value).__module__ == "numpy":
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            pass
        else:
            if not math.isfinite(number):  # a <v>NaN</v> that calamine reads as a float
                raise ValueError(f"{value!r} is not a figure a table can hold (NaN or infinity)")
            return number, "number"
    if isinstance(value, str):
        if not value.strip():
            return None, "blank"
        return parse(value, decimal)
    raise ValueError(f"a {type(value).__name__} value, not a number")
