"""Mutation fuzzing harness shared by tests/test_fuzz.py and scripts/fuzz.py.

Invariant for every mutated file: reading (and, for a valid table, the main job) gives
either a correct result or one of the documented error classes with a message — never
another exception, never a hang, never an output file on failure.

Supply-use files (:func:`sut_seeds`, :func:`check_sut_file`) get the same mutations
and the same invariant: :func:`~io_clusters.readers.sut_readers.read_sut` gives a
:class:`~io_clusters.SupplyUseTable` or a documented error; one that validates is
transformed (model D or A), the symmetric table validated, its linkages computed and
written as ``symmetric`` does — a documented error at any step leaves nothing written.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import signal
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

from io_clusters import (
    SupplyUseTable,
    linkages,
    read_table,
    run,
    to_symmetric,
    validate,
    validate_sut,
    write_table,
)
from io_clusters.errors import IoClustersError
from io_clusters.readers.sut_readers import read_sut, write_sut

DOCUMENTED = (IoClustersError, FileNotFoundError)
_V = re.compile(rb"<v>([^<]*)</v>")
_ROW = re.compile(rb"<row [^>]*>.*?</row>", re.S)


class Hang(Exception):
    """A case ran past its time limit."""


def _alarm(_sig, _frame):
    raise Hang()


def mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Byte flips, truncation, zeroed runs or inserted garbage."""
    kind = rng.choice(["flip", "truncate", "zero", "insert"])
    b = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        b = b[: rng.randrange(1, len(b))]
    elif kind == "zero":
        i = rng.randrange(len(b))
        b[i : i + rng.randint(1, 512)] = b"\0" * len(b[i : i + 512])
    else:
        i = rng.randrange(len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return bytes(b), kind


_JUNK = [b"abc", b"", b"1e999", b"-1e308", b"NaN", b"1.234,5", b"(12)", b"-", b"=1+1", b"1,2,3"]


def mutate_xlsx(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Change cell values inside a worksheet part: swaps, junk text, deleted rows."""
    src = zipfile.ZipFile(io.BytesIO(data))
    sheets = [n for n in src.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    if not sheets:
        return mutate_bytes(data, rng)
    target = rng.choice(sheets)
    xml = src.read(target)
    kind = rng.choice(["swap", "junk", "delete_row", "blank"])
    values = list(_V.finditer(xml))
    if kind == "delete_row":
        rows = list(_ROW.finditer(xml))
        if rows:
            m = rng.choice(rows)
            xml = xml[: m.start()] + xml[m.end() :]
    elif values:
        m = rng.choice(values)
        if kind == "swap":
            o = rng.choice(values)
            a, c = sorted([m, o], key=lambda x: x.start())
            xml = (
                xml[: a.start(1)]
                + c.group(1)
                + xml[a.end(1) : c.start(1)]
                + a.group(1)
                + xml[c.end(1) :]
            )
        elif kind == "junk":
            xml = xml[: m.start(1)] + rng.choice(_JUNK) + xml[m.end(1) :]
        else:
            xml = xml[: m.start()] + xml[m.end() :]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, xml if item.filename == target else src.read(item.filename))
    return out.getvalue(), f"xlsx-{kind}"


def mutate_csv(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Swap, blank or replace cells; delete, duplicate or cut lines."""
    lines = data.split(b"\n")
    kind = rng.choice(["cell", "delete_line", "dup_line", "swap_cells", "cut_line"])
    body = [i for i, ln in enumerate(lines) if ln and not ln.startswith(b"#")]
    if not body:
        return mutate_bytes(data, rng)
    i = rng.choice(body)
    cells = lines[i].split(b",")
    if kind == "cell":
        cells[rng.randrange(len(cells))] = rng.choice(_JUNK)
        lines[i] = b",".join(cells)
    elif kind == "delete_line":
        del lines[i]
    elif kind == "dup_line":
        lines.insert(i, lines[i])
    elif kind == "swap_cells" and len(cells) > 1:
        a, c = rng.sample(range(len(cells)), 2)
        cells[a], cells[c] = cells[c], cells[a]
        lines[i] = b",".join(cells)
    else:
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return b"\n".join(lines), f"csv-{kind}"


# characters that end lines for str.splitlines (not for the csv module), and controls
_LINE_BOUNDARIES = ["\u0085", "\u2028", "\u2029", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\r"]
_CONTROLS = ["\x07", "\x00", "\x1b", "\x08", "\x7f", "\x9b"]
_ENCODINGS = ["cp1252", "latin-1", "utf-8-sig", "utf-16", "mac-roman"]


def mutate_csv_family(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """What other programs make of a CSV: separators, encodings, odd characters.

    ``separators``: fields re-joined with ``;`` or tabs, decimal points made commas (a
    Spanish-locale spreadsheet); ``encodings``: the text re-encoded (Windows-1252,
    UTF-16 …); ``line-boundary`` / ``control``: U+0085, U+2028, form feed, BEL, NUL …
    put into a random field.
    """
    text = data.decode("utf-8", errors="replace")
    kind = rng.choice(["separators", "encodings", "line-boundary", "control"])
    if kind == "separators":
        sep = rng.choice([";", "\t"])
        rows = list(csv.reader(io.StringIO(text, newline="")))
        comma = rng.random() < 0.7
        out = io.StringIO()
        writer = csv.writer(out, delimiter=sep, lineterminator=rng.choice(["\n", "\r\n"]))
        for row in rows:
            writer.writerow([re.sub(r"(?<=\d)\.(?=\d)", ",", f) if comma else f for f in row])
        return out.getvalue().encode(rng.choice(["utf-8", "cp1252"]), errors="replace"), kind
    if kind == "encodings":
        enc = rng.choice(_ENCODINGS)
        text = text.replace("a", rng.choice(["á", "ñ", "…", "€"]), rng.randint(1, 5))
        return text.encode(enc, errors="replace"), f"{kind}-{enc}"
    chars = _LINE_BOUNDARIES if kind == "line-boundary" else _CONTROLS
    rows = list(csv.reader(io.StringIO(text, newline="")))
    body = [i for i, r in enumerate(rows) if r and not r[0].startswith("#")]
    if not body:
        return mutate_bytes(data, rng)
    row = rows[rng.choice(body)]
    j = rng.randrange(len(row))
    k = rng.randint(0, len(row[j]))
    row[j] = row[j][:k] + rng.choice(chars) + row[j][k:]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8"), kind


def mutate_xlsx_family(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Workbook families: a phantom used range, control characters in strings.

    ``phantom``: one space typed in a far cell (up to XFD1048576), the declared
    dimension grown to match; ``control``: Excel's ``_x0007_`` escapes (BEL, NUL, U+2028 …)
    put into shared or inline strings.
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    kind = rng.choice(["phantom", "control"])
    edits: dict[str, bytes] = {}
    if kind == "phantom":
        sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not sheets:
            return mutate_bytes(data, rng)
        target = rng.choice(sheets)
        xml = src.read(target)
        row = rng.choice([1_048_576, 100_000, 5_000])
        col = rng.choice(["XFD", "AAA", "Z"])
        cell = (
            f'<row r="{row}"><c r="{col}{row}" t="inlineStr"><is><t xml:space="preserve"> '
            "</t></is></c></row>"
        ).encode()
        xml = xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)
        xml = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="A1:{col}{row}"'.encode(), xml)
        edits[target] = xml
    else:
        parts = [n for n in names if n == "xl/sharedStrings.xml"] or [
            n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")
        ]
        target = rng.choice(parts)
        xml = src.read(target)
        texts = list(re.finditer(rb"<t(?: [^>]*)?>([^<]+)</t>", xml))
        if not texts:
            return mutate_bytes(data, rng)
        m = rng.choice(texts)
        code = rng.choice(["_x0007_", "_x0000_", "_x001B_", "_x2028_", "_x0085_", "_x000C_"])
        k = rng.randint(m.start(1), m.end(1))
        edits[target] = xml[:k] + code.encode() + xml[k:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, edits.get(item.filename, src.read(item.filename)))
    return out.getvalue(), f"xlsx-{kind}"


def mutate(data: bytes, suffix: str, rng: random.Random) -> tuple[bytes, str]:
    """Pick a structure-aware, a file-family or a byte-level mutation."""
    r = rng.random()
    if r < 0.6:
        if suffix == ".xlsx":
            try:
                return mutate_xlsx(data, rng) if r < 0.4 else mutate_xlsx_family(data, rng)
            except zipfile.BadZipFile:
                pass
        elif suffix == ".csv":
            return mutate_csv(data, rng) if r < 0.35 else mutate_csv_family(data, rng)
    return mutate_bytes(data, rng)


def check_file(path: Path, out_dir: Path, timeout: int = 20, full_run: bool = True) -> str:
    """Apply the invariant to one file; return the outcome class.

    Returns ``"table"``, ``"error:<Class>"``, ``"hang"``, ``"output-on-failure"`` or
    ``"other:<Class>: message"`` (a defect).
    """

    def job() -> None:
        table = read_table(path)
        if validate(table).ok:
            if full_run and table.n <= 60:
                run(table, out=out_dir, n_boot=0, figures=False)
            else:
                linkages(table)

    return _guarded(job, out_dir, timeout)


def check_sut_file(path: Path, out_dir: Path, timeout: int = 20, model: str = "D") -> str:
    """Apply the invariant to one supply-use file; return the outcome class.

    As :func:`check_file`: read it; if it validates, transform it by ``model``,
    validate the symmetric table, compute its linkages when it is valid, and write it
    to ``out_dir`` (as ``io-clusters symmetric`` does).
    """

    def job() -> None:
        sut = read_sut(path)
        if not validate_sut(sut).ok:
            return
        table = to_symmetric(sut, model)
        if validate(table).ok:
            linkages(table)
        write_table(table, out_dir / "symmetric.csv")

    return _guarded(job, out_dir, timeout)


def _guarded(job: Callable[[], None], out_dir: Path, timeout: int) -> str:
    """Run ``job`` under a time limit, warnings silenced; classify how it ended."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            job()
        return "table"
    except Hang:
        return "hang"
    except DOCUMENTED as exc:
        if out_dir.exists() and any(out_dir.iterdir()):
            return "output-on-failure"
        if not str(exc):
            return f"other:{type(exc).__name__}: empty message"
        return f"error:{type(exc).__name__}"
    except Exception as exc:  # the defect the fuzzer looks for
        return f"other:{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        shutil.rmtree(out_dir, ignore_errors=True)


def run_case(
    seed_file: Path, case: int, workdir: Path, full_run: bool = True, *, sut: bool = False
) -> tuple[str, str]:
    """Mutate ``seed_file`` deterministically for ``case`` and check it.

    ``sut=True``: the seed is a supply-use file, checked by :func:`check_sut_file`
    (model D for even cases, A for odd ones).
    """
    rng = random.Random(f"{seed_file.name}:{case}")
    data, kind = mutate(seed_file.read_bytes(), seed_file.suffix, rng)
    path = workdir / f"case{case}{seed_file.suffix}"
    path.write_bytes(data)
    out = workdir / f"out{case}"
    try:
        if sut:  # models D and A in turn (A refuses a rectangular supply matrix)
            return kind, check_sut_file(path, out, model="DA"[case % 2])
        return kind, check_file(path, out, full_run=full_run)
    finally:
        path.unlink(missing_ok=True)


def sut_seeds(workdir: Path, seed: int = 0) -> list[Path]:
    """Supply-use seeds written by ``write_sut``: CSV and xlsx, one with imports.

    Tables that validate: 4 products × 4 industries with secondary production, balanced
    (a CSV and an xlsx); 3 products × 5 industries with imported use, balanced (a CSV;
    model A refuses its rectangular supply matrix, a documented error); 3 × 3 without
    final demand or value added (a CSV: the balances are not checked, so damaged figures
    reach the transformation more often).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for n_p, n_k, kind, suffixes in (
        (4, 4, "balanced", (".csv", ".xlsx")),
        (3, 5, "imports", (".csv",)),
        (3, 3, "bare", (".csv",)),
    ):
        S = np.zeros((n_p, n_k))
        for j in range(n_k):
            S[j % n_p, j] = rng.uniform(80, 120)
            S[(j + 1) % n_p, j] = rng.uniform(0, 15)  # secondary output
        U = rng.uniform(0, 0.15, (n_p, n_k)) * S.sum(0)[None, :]
        M = rng.uniform(0, 0.05, (n_p, n_k)) * S.sum(0)[None, :] if kind == "imports" else None
        fd = S.sum(1) - U.sum(1)
        va = S.sum(0) - U.sum(0) - (0 if M is None else M.sum(0))
        sut = SupplyUseTable.from_arrays(
            S,
            U,
            final_demand=None if kind == "bare" else np.column_stack([0.7 * fd, 0.3 * fd]),
            value_added=None if kind == "bare" else va,
            imports_use=M,
            product_names=[f"Producto {i + 1} (año)" for i in range(n_p)],
            country="PER",
            units="millones de soles",
        )
        for suffix in suffixes:
            out.append(write_sut(sut, workdir / f"sut{n_p}x{n_k}-{kind}{suffix}"))
    return out
