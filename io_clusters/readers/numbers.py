"""Numbers stored as text: explicit parsing rules, each reported, never a silent guess.

Rules (tried in this order on the stripped text; NBSP and thin spaces count as spaces):

=================  ===========================  =============================================
rule               examples                     value
=================  ===========================  =============================================
``dash``           ``-``, ``–``, ``—``          0 (the statistical convention for "nil")
``not_available``  ``…``, ``...``, ``n.d.``,    0, and the cell is reported as not available
                   ``s.d.``, ``n.a.``
``parentheses``    ``(123)``, ``(1.234,5)``     the negative of the number inside
``plain``          ``1234.5``, ``-12``, ``1e3``  Python's float()
``decimal_comma``  ``1.234.567,89``,            dots (or spaces) group thousands, the comma is
                   ``1 234,5``, ``1234,5``      the decimal separator (Spanish / Latin American)
``decimal_point``  ``1,234,567.89``,            commas (or spaces) group thousands, the point
                   ``1 234.5``                  is the decimal separator
``spaces``         ``1 234 567``                spaces group thousands
=================  ===========================  =============================================

Text such as ``1.234`` or ``1,234`` fits two conventions. The convention of a block is
the one its unambiguous cells show (``decimal=None``, the default), or the one the
caller states (``decimal="."`` or ``","``); a block whose unambiguous cells show both is
refused, and an ambiguous cell in a block with no evidence is read with the decimal
point (``1,234`` → 1234, ``1.234`` → 1.234) and the rule says so.
"""

from __future__ import annotations

import re

DASHES = {"-", "–", "—", "‐"}
NOT_AVAILABLE = {"…", "...", "n.d.", "s.d.", "n.a.", "nd", "na", "s/d", ".."}
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_DEC_COMMA = re.compile(r"^-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_DEC_POINT = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SPACED = re.compile(r"^-?\d{1,3}( \d{3})+([.,]\d+)?$")


def convention(text: str) -> str | None:
    """Return ``","`` or ``"."`` if ``text`` shows its decimal separator unambiguously."""
    s = _SPACES.sub(" ", text.strip()).strip("()")
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
    s = _SPACES.sub(" ", text.strip())
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
    try:
        return float(s), "plain"
    except ValueError:
        pass
    if decimal == "." and _DEC_POINT.match(s):
        return float(s.replace(",", "")), "decimal_point"
    if decimal == "." and _DEC_COMMA.match(s):
        raise ValueError(f"{text!r} uses a decimal comma but the block uses a decimal point")
    if decimal == "," and _DEC_POINT.match(s):
        raise ValueError(f"{text!r} uses a decimal point but the block uses a decimal comma")
    raise ValueError(f"not a number: {text!r}")
