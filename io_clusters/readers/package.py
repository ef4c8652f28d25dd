"""An xlsx package checked before it is loaded, and what one pass over its parts learns.

Every part is streamed once (never loaded whole) after the zip directory's sizes have
been checked against the :class:`Limits`. The pass counts the cells the worksheets really
hold (a far-away phantom cell costs one cell, not the rectangle a ``<dimension>``
declares) and records the facts that decide whether the values may be read by
python-calamine (:mod:`io_clusters.readers.fastbook`) or must be read by openpyxl:

===========================  ============================================================
fact found                   why openpyxl reads the workbook instead (measured)
===========================  ============================================================
a DTD (``<!DOCTYPE``)        openpyxl parses through defusedxml, which refuses entity
                             declarations (billion laughs); the same refusal either way
error cells (``t="e"``)      calamine returns ``""`` for ``#DIV/0!``: it would be read as
                             0; openpyxl returns the text and the cell is named
hidden rows or columns       calamine does not report them; the reader's remark needs them
a sparse used range          calamine allocates the whole rectangle from the first to the
                             last cell: one cell in ``XFD1048576`` aborts the process
                             (measured: a 512 GiB allocation); openpyxl keeps real cells
cells without ``r="A1"``     positions implied by order, or prefixed tags: the rectangle
first, odd attribute quotes  cannot be bounded (or the facts above cannot be counted) by
                             byte search, so the scan does not vouch for them
===========================  ============================================================

Formulas whose cached value is missing read as ``""`` in calamine and as ``None`` in
openpyxl; both are blank to the readers, and the formula check runs on blank cells of a
workbook holding formulas (:func:`io_clusters.readers._cells.check_formulas`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..cellref import col_index
from ..errors import FileFormatError, ResourceLimitError


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits checked before and after reading a file.

    Attributes
    ----------
    max_file_bytes : int
        Size of the file on disk (default 256 MiB).
    max_uncompressed_bytes : int
        Total uncompressed size of an xlsx package, checked before loading (zip bombs;
        default 1 GiB).
    max_compression_ratio : float
        Largest ratio of uncompressed to compressed size of one xlsx part above 10 MiB
        (default 200; real worksheets compress 5-30 times).
    max_cells : int
        Cells the worksheets hold, counted before loading (default 25 million).
    max_sectors : int
        Sectors of the table read (default 20,000; a 20,000² float64 matrix is 3.2 GB).
    """

    max_file_bytes: int = 256 * 2**20
    max_uncompressed_bytes: int = 2**30
    max_compression_ratio: float = 200.0
    max_cells: int = 25_000_000
    max_sectors: int = 20_000


DEFAULT_LIMITS = Limits()

#: A sheet's rectangle (first to last cell) may exceed its real cells by this factor plus
#: :data:`SPAN_SLACK` cells and still be read by calamine (titles, notes, blank margins).
SPAN_FACTOR = 4
SPAN_SLACK = 65_536


def size_text(n: float) -> str:
    """Return a byte count as text: ``"12 bytes"``, ``"3.5 MiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@dataclass(frozen=True, slots=True)
class PartFacts:
    """What the pass learnt of one worksheet part.

    Attributes
    ----------
    cells : int
        ``<c>`` elements (cells the part holds, with or without a value).
    refs : int
        Cells whose tag starts ``<c r="A1"`` (position given first, as Excel,
        LibreOffice and openpyxl write it).
    rows, cols : (int, int) or None
        1-based first and last row and column of those cells.
    errors, hidden, formulas : bool
        An error cell (``t="e"``), a hidden row or column, a formula (``<f>``).
    irregular : bool
        An attribute in single quotes or with whitespace around its ``=``, a character
        reference (``&#…;``), a NUL byte (UTF-16 text): the byte searches above would
        not see every case; or a cell or row whose position attribute ``r`` is given
        twice (calamine reads the last one). The part is not vouched for.
    """

    cells: int
    refs: int
    rows: tuple[int, int] | None
    cols: tuple[int, int] | None
    errors: bool
    hidden: bool
    formulas: bool
    irregular: bool

    @property
    def span(self) -> int:
        """Cells of the rectangle from the first to the last cell (0 when empty)."""
        if self.rows is None or self.cols is None:
            return 0
        return (self.rows[1] - self.rows[0] + 1) * (self.cols[1] - self.cols[0] + 1)


@dataclass(frozen=True, slots=True)
class PackageScan:
    """The facts of a whole package (see the module's table).

    Attributes
    ----------
    notes : tuple of str
        Remarks for the table's notes (external links).
    cells : int
        Cells of all worksheets.
    formulas : bool
        Some worksheet holds a formula.
    dtd : bool
        Some XML part declares a DTD.
    parts : tuple of (str, PartFacts)
        Worksheet parts by name: those under ``xl/worksheets/`` and those the workbook's
        relationships name as sheets, wherever they are.
    unscanned_sheets : tuple of str or None
        Sheets the relationships name that the package does not hold under that exact
        name (calamine would look for them; nothing vouches for them); None when the
        relationships cannot be read.
    """

    notes: tuple[str, ...]
    cells: int
    formulas: bool
    dtd: bool
    parts: tuple[tuple[str, PartFacts], ...]
    unscanned_sheets: tuple[str, ...] | None = ()

    def fast_refusal(self, limits: Limits = DEFAULT_LIMITS) -> str | None:
        """Return why calamine may not read the values (None when it may)."""
        if self.dtd:
            return "an XML part declares a DTD"
        if self.unscanned_sheets is None:
            return "the workbook's relationships (xl/_rels/workbook.xml.rels) cannot be read"
        if self.unscanned_sheets:
            return f"sheet part(s) missing from the package: {', '.join(self.unscanned_sheets)}"
        for name, f in self.parts:
            part = name.rsplit("/", 1)[-1]
            if f.irregular:
                return (
                    f"{part}: unusual markup (attributes in single quotes or with spaces "
                    "around '=', character references, UTF-16, a position given twice)"
                )
            if f.refs != f.cells:
                return f"{part}: {f.cells - f.refs} cell(s) without a leading position"
            if f.errors:
                return f"{part}: error cells (calamine reads them as empty)"
            if f.hidden:
                return f"{part}: hidden rows or columns"
            if f.span > min(SPAN_FACTOR * f.cells + SPAN_SLACK, limits.max_cells):
                return f"{part}: sparse used range ({f.span:,} positions for {f.cells:,} cells)"
        return None


def inspect_package(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """Check an xlsx package before loading it; return remarks (external links).

    Raises
    ------
    ResourceLimitError
        Uncompressed size, compression ratio (zip bomb) or cell count over the limits.
    FileFormatError
        Not a readable zip package.
    """
    return scan_package(path, limits).notes


def scan_package(path: Path, limits: Limits = DEFAULT_LIMITS) -> PackageScan:
    """Check an xlsx package against ``limits``, then return its facts.

    The zip directory is checked first (uncompressed size, compression ratio), on every
    call; the parts are then streamed once per file state (path, size, modification
    time): the facts are cached, and the cell limit is checked against them.

    Raises
    ------
    ResourceLimitError
        Uncompressed size, compression ratio (zip bomb) or cell count over the limits.
    FileFormatError
        Not a readable zip package.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            _check_directory(path, zf.infolist(), limits)
    except ResourceLimitError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise _corrupt(path, exc) from exc
    st = path.stat()
    scan = _scan(str(path.resolve()), st.st_size, st.st_mtime_ns)
    if scan.cells > limits.max_cells:
        raise ResourceLimitError(
            f"{path.name}: the sheets hold {scan.cells:,} cells, over the limit of "
            f"{limits.max_cells:,}; refused before loading (raise it with --max-cells N)"
        )
    return scan


def _corrupt(path: Path, exc: BaseException) -> FileFormatError:
    return FileFormatError(
        f"{path.name}: the workbook is corrupt or truncated ({type(exc).__name__}: {exc}); "
        "download or export it again"
    )


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse a package whose declared sizes are over the limits (nothing decompressed)."""
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise ResourceLimitError(
            f"{path.name}: the workbook unpacks to {size_text(total)}, over the limit "
            f"of {size_text(limits.max_uncompressed_bytes)}; refused before loading "
            "(raise it with --max-unpacked-mb N)"
        )
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > 10 * 2**20 and ratio > limits.max_compression_ratio:
            raise ResourceLimitError(
                f"{path.name}: part {i.filename} expands {ratio:.0f} times "
                f"({i.file_size / 2**20:.0f} MiB): a zip bomb or a damaged file; refused"
            )


@lru_cache(maxsize=64)
def _scan(name: str, _bytes: int, _mtime: int) -> PackageScan:
    path = Path(name)
    try:
        with zipfile.ZipFile(path) as zf:
            return _scan_parts(zf)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise _corrupt(path, exc) from exc


_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def _sheet_targets(zf: zipfile.ZipFile) -> set[str] | None:
    """Return the parts the workbook's relationships name as sheets (None: unreadable).

    Read the way calamine finds its sheets: ``xl/_rels/workbook.xml.rels``, targets
    relative to ``xl/`` or absolute. Called after that part was checked for a DTD.
    """
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(zf.read(_WORKBOOK_RELS))
    except Exception:  # missing, damaged or hostile: the workbook is not vouched for
        return None
    out = set()
    for rel in root:
        kind = str(rel.get("Type", "")).rsplit("/", 1)[-1].lower()
        target = str(rel.get("Target", ""))
        if kind in ("worksheet", "chartsheet", "dialogsheet", "macrosheet", "xlmacrosheet"):
            name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            out.add(posixpath.normpath(name))
    return out


def _is_sheet_part(name: str, targets: set[str]) -> bool:
    low = name.lower()
    return name in targets or (low.startswith("xl/worksheets/") and low.endswith(".xml"))


def _scan_parts(zf: zipfile.ZipFile) -> PackageScan:
    parts: list[tuple[str, PartFacts]] = []
    dtd = any(_declares_dtd(zf, i) for i in zf.infolist() if i.filename == _WORKBOOK_RELS)
    targets = None if dtd else _sheet_targets(zf)
    for info in zf.infolist():
        name = info.filename
        if _is_sheet_part(name, targets or set()):
            facts, part_dtd = _scan_worksheet(zf, info)
            parts.append((name, facts))
            dtd = dtd or part_dtd
        elif name.endswith((".xml", ".rels", ".vml")) and not dtd and name != _WORKBOOK_RELS:
            dtd = _declares_dtd(zf, info)
    links = sorted(
        n.rsplit("/", 1)[-1]
        for n in zf.namelist()
        if n.startswith("xl/externalLinks/") and n.endswith(".xml")
    )
    notes: tuple[str, ...] = ()
    if links:
        notes = (
            f"the workbook has {len(links)} external link(s) ({', '.join(links)}); values "
            "were read from the copies stored in the file, not from the linked files",
        )
    scanned = {n for n, _ in parts}
    return PackageScan(
        notes=notes,
        cells=sum(f.cells for _, f in parts),
        formulas=any(f.formulas for _, f in parts),
        dtd=dtd,
        parts=tuple(parts),
        unscanned_sheets=None if targets is None else tuple(sorted(targets - scanned)),
    )


_CHUNK = 1 << 22
_MAX_CARRY = 1 << 26  # a run of 64 MiB without '>' is processed as is (and not vouched for)
_DTD = (b"<!DOCTYPE", b"<!ENTITY")
_HIDDEN = re.compile(rb"""hidden=["'](?!0["']|false["'])""")
_PREFIXED_CELL = re.compile(rb"<\w+:c[ >/]")
_PREFIXED_FORMULA = re.compile(rb"<\w+:f[ >/]")


def _pieces(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[tuple[bytes, bool]]:
    """Yield (bytes, cut_inside_a_tag) pieces of a part, each ending just after a ``>``.

    No searched pattern holds a ``>`` except as its last byte, so none spans two pieces.
    """
    carry = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b">") + 1
            if cut == 0 and len(buf) < _MAX_CARRY:
                carry = buf
                continue
            if cut == 0:
                yield buf, True
                carry = b""
                continue
            yield buf[:cut], False
            carry = buf[cut:]
    if carry:
        yield carry, False


@dataclass(frozen=True, slots=True)
class _Tags:
    """What the tags of one piece say (see :func:`_tag_facts`)."""

    cells: int
    refs: int
    box: tuple[int, int, int, int]  # first row, last row, first column, last column
    formulas: bool
    bang: bool
    stray_positions: int  # attributes named r beyond one per <c r="A1"> and <row r="1">
    spaced_equals: bool  # whitespace before or after an '=' (t ="e", hidden= "1")


_WINDOW = np.arange(12)
_NAME = np.arange(1, 41)  # bytes after '<' searched for the end of a prefixed tag name
_BYTES = np.arange(256)
_LETTER = (_BYTES >= 65) & (_BYTES <= 90)  # A-Z
_DIGIT = (_BYTES >= 48) & (_BYTES <= 57)  # 0-9
_TAG_END = np.isin(_BYTES, (32, 62, 47, 9, 10, 13))  # space, '>', '/', tab, line feed, CR
_SPACE = np.isin(_BYTES, (32, 9, 10, 13))  # XML whitespace
_NOT_OPENING = np.isin(_BYTES, (47, 33, 63))  # '</', '<!', '<?'


def _tag_facts(data: bytes) -> _Tags:
    """Count the cells of a piece and bound the positions ``<c r="A1"`` give, vectorised.

    Every ``<`` is classified by the bytes after it: ``c`` or ``f`` followed by a space,
    ``>`` or ``/`` opens a cell or a formula (also with a namespace prefix, ``<x:c``);
    ``!`` a declaration. A cell whose tag starts ``<c r="`` has its reference parsed
    from the 12 bytes after that: 1-3 capital letters, 1-7 digits and a closing quote
    (anything else is not counted as a reference, so the part is not vouched for):
    what ``re.findall(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')`` finds (tested against
    it), at a fraction of its cost.
    """
    a = np.frombuffer(data + bytes(48), dtype=np.uint8)
    lt = np.flatnonzero(a[: len(data)] == 60)  # '<'
    b1, b2 = a[lt + 1], a[lt + 2]
    ends = _TAG_END[b2]
    cell = (b1 == 99) & ends  # 'c'
    formula = (b1 == 102) & ends  # 'f'
    n_pref_cells, pref_formula = _prefixed(a, lt[~ends & ~_NOT_OPENING[b1]], data)
    start = lt[cell & (b2 == 32)]
    start = start[(a[start + 3] == 114) & (a[start + 4] == 61) & (a[start + 5] == 34)]  # r="
    box, refs = _ref_box(a[start[:, None] + 6 + _WINDOW])
    rows = lt[(b1 == 114) & (b2 == 111)]  # '<ro'
    rows = rows[(a[rows + 3] == 119) & (a[rows + 4] == 32) & (a[rows + 5] == 114)]  # 'w r'
    positions = _r_attributes(a, len(data))
    return _Tags(
        cells=int(np.count_nonzero(cell)) + n_pref_cells,
        refs=refs,
        box=box,
        formulas=bool(np.any(formula)) or pref_formula,
        bang=bool(np.any(b1 == 33)),  # '!'
        stray_positions=positions - refs - int(np.count_nonzero(a[rows + 6] == 61)),
        spaced_equals=_spaced_equals(a, len(data)),
    )


def _spaced_equals(a: np.ndarray, n: int) -> bool:
    """Return True if some ``=`` has whitespace beside it (in a tag or in text)."""
    eq = np.flatnonzero(a[1:n] == 61) + 1
    return bool(np.any(_SPACE[a[eq - 1]] | _SPACE[a[eq + 1]]))


def _r_attributes(a: np.ndarray, n: int) -> int:
    """Count what may be an attribute named ``r``: a whitespace, ``r``, then ``=`` or a space.

    calamine takes a cell's *last* ``r`` attribute (``<c r="C8" r="XFD1048576">`` made it
    allocate the whole sheet: measured, an abort), while the scan reads the first; so a
    part whose count exceeds one per cell and row reference is not vouched for. Text
    such as " r " in an inline string counts too (the part then goes to openpyxl).
    """
    r = np.flatnonzero(a[1:n] == 114) + 1  # 'r'
    r = r[_SPACE[a[r - 1]]]
    return int(np.count_nonzero((a[r + 1] == 61) | _SPACE[a[r + 1]]))


def _prefixed(a: np.ndarray, names: np.ndarray, data: bytes) -> tuple[int, bool]:
    """Return (prefixed cells ``<x:c``, whether a prefixed formula ``<x:f`` is present).

    ``names`` are the positions of the ``<`` of opening tags whose name is longer than
    one byte (``<row``, ``<sheetData``, ``<x:c`` …): a few per row of a sheet.
    """
    if not len(names):
        return 0, False
    w = a[names[:, None] + _NAME]
    end = np.argmax(_TAG_END[w], axis=1)  # first byte after the name
    if not _TAG_END[w[np.arange(len(w)), end]].all():  # a name over 40 bytes: by regex
        return len(_PREFIXED_CELL.findall(data)), _PREFIXED_FORMULA.search(data) is not None
    prefixed = w[np.arange(len(w)), np.maximum(end - 2, 0)] == 58  # ':' before one letter
    last = w[np.arange(len(w)), np.maximum(end - 1, 0)]
    return int(np.count_nonzero(prefixed & (last == 99))), bool(np.any(prefixed & (last == 102)))


def _ref_box(w: np.ndarray) -> tuple[tuple[int, int, int, int], int]:
    """Return ((first row, last row, first column, last column), count) of the references.

    ``w`` holds, one row per cell, the 12 bytes after ``<c r="``. Rows and columns are
    compared without being converted: a reference's digits packed after their count
    (``3, "5", "0", "1"``) order as the row numbers do, its letters after theirs as the
    columns do; only the extremes are decoded. A row number with a leading zero is not a
    reference (its digit count would misorder it: ``A0000003`` is row 3 to calamine).
    """
    nlet = np.argmin(_LETTER[w[:, :4]], axis=1)  # letters before the first non-letter
    run = _DIGIT[w]
    run[:, :4] |= _WINDOW[:4] < nlet[:, None]  # the letters, then the digits
    end = np.argmin(run, axis=1)
    nd = end - nlet
    ok = (nlet >= 1) & (nd >= 1) & (nd <= 7) & (w[np.arange(len(w)), end] == 34)  # '"'
    ok &= w[np.arange(len(w)), np.minimum(nlet, 11)] != 48  # no leading zero: "A0000003" = row 3
    w, nlet, nd = w[ok], nlet[ok], nd[ok]
    if not len(w):
        return (0, 0, 0, 0), 0
    digits = np.where(
        (nlet == 1)[:, None], w[:, 1:8], np.where((nlet == 2)[:, None], w[:, 2:9], w[:, 3:10])
    )
    rows = np.empty((len(w), 8), dtype=np.uint8)
    rows[:, 0] = nd
    rows[:, 1:] = np.where(_WINDOW[:7] < nd[:, None], digits, 0)
    cols = np.empty((len(w), 4), dtype=np.uint8)
    cols[:, 0] = nlet
    cols[:, 1:] = np.where(_WINDOW[:3] < nlet[:, None], w[:, :3], 0)
    row_key, col_key = rows.view(">u8").ravel(), cols.view(">u4").ravel()
    return (
        _row_of(row_key.min()),
        _row_of(row_key.max()),
        _col_of(col_key.min()),
        _col_of(col_key.max()),
    ), len(w)


def _row_of(key: np.unsignedinteger) -> int:
    b = int(key).to_bytes(8, "big")
    return int(b[1 : 1 + b[0]])


def _col_of(key: np.unsignedinteger) -> int:
    b = int(key).to_bytes(4, "big")
    return col_index(b[1 : 1 + b[0]].decode("ascii"))


def _declares_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    return any(any(m in piece for m in _DTD) for piece, _ in _pieces(zf, info))


@dataclass(slots=True)
class _Tally:
    """Running facts of one worksheet part."""

    cells: int = 0
    refs: int = 0
    row_lo: int = 0
    row_hi: int = 0
    col_lo: int = 0
    col_hi: int = 0
    errors: bool = False
    hidden: bool = False
    formulas: bool = False
    irregular: bool = False
    dtd: bool = False

    def add(self, data: bytes) -> None:
        tags = _tag_facts(data)
        self.cells += tags.cells
        if tags.refs:
            self.refs += tags.refs
            self._extend(*tags.box)
        self.formulas = self.formulas or tags.formulas
        if tags.bang and any(m in data for m in _DTD):
            self.dtd = True
        self.errors = self.errors or b't="e"' in data
        if b"hidden=" in data and _HIDDEN.search(data) is not None:
            self.hidden = True
        self.irregular = (
            self.irregular
            or tags.stray_positions != 0
            or tags.spaced_equals
            or (b"'" in data and b"='" in data)
            or b"&#" in data  # a character reference could spell t="e" or hidden="1"
            or b"\x00" in data  # UTF-16 or UTF-32: byte patterns say nothing
        )

    def _extend(self, r1: int, r2: int, c1: int, c2: int) -> None:
        if not self.row_hi:
            self.row_lo, self.row_hi, self.col_lo, self.col_hi = r1, r2, c1, c2
            return
        self.row_lo, self.row_hi = min(self.row_lo, r1), max(self.row_hi, r2)
        self.col_lo, self.col_hi = min(self.col_lo, c1), max(self.col_hi, c2)

    def facts(self) -> PartFacts:
        return PartFacts(
            cells=self.cells,
            refs=self.refs,
            rows=(self.row_lo, self.row_hi) if self.row_hi else None,
            cols=(self.col_lo, self.col_hi) if self.col_hi else None,
            errors=self.errors,
            hidden=self.hidden,
            formulas=self.formulas,
            irregular=self.irregular,
        )


def _scan_worksheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[PartFacts, bool]:
    """Return the facts of one worksheet part and whether it declares a DTD."""
    tally = _Tally()
    for piece, cut_inside in _pieces(zf, info):
        tally.add(piece)
        tally.irregular = tally.irregular or cut_inside
    return tally.facts(), tally.dtd


__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "PackageScan",
    "PartFacts",
    "inspect_package",
    "scan_package",
    "size_text",
]
