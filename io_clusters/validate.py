"""Validation of an :class:`~io_clusters.table.IOTable` before any analysis.

"Diagnose, do not repair": :func:`validate` returns a :class:`ValidationReport` with
every finding (status, sector, cell, value), never a silently fixed table. Findings
have a severity: ``error`` (analysis would be meaningless: NaN, negative flows,
column sums of A ≥ 1, a totals row read as a sector, a transposed block…),
``warning`` (analysis proceeds but the user should know: zero-output sectors, small
imbalances) or ``info`` (a check passed, with its figure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import TableValidationError
from .table import IOTable

Severity = Literal["error", "warning", "info"]

#: Relative balance error below which a table counts as balanced.
BALANCE_OK = 1e-6
#: Relative balance error above which the imbalance is an error, not a warning.
BALANCE_ERROR = 0.05
#: Negative flows no larger than this fraction of the largest flow count as rounding noise.
NEGLIGIBLE = 1e-9


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check.

    Attributes
    ----------
    check : str
        Name of the check (``"row_balance"``, ``"negative_flows"``, …).
    severity : {"error", "warning", "info"}
    message : str
        What was found and what to do, in plain words.
    sectors : tuple of str
        Codes of the sectors concerned.
    cells : tuple of str
        Spreadsheet references (``"Sheet!D14"``) where known.
    value : float or None
        The figure behind the finding (e.g. the worst relative error).
    """

    check: str
    severity: Severity
    message: str
    sectors: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-serialisable dict."""
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "sectors": list(self.sectors),
            "cells": list(self.cells),
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every finding of :func:`validate` on one table."""

    table_id: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when there is no error-level finding."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Return the error-level findings."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Return the warning-level findings."""
        return tuple(f for f in self.findings if f.severity == "warning")

    def by_check(self, check: str) -> tuple[Finding, ...]:
        """Return the findings of one check."""
        return tuple(f for f in self.findings if f.check == check)

    def to_frame(self) -> pd.DataFrame:
        """One row per finding."""
        return pd.DataFrame([f.to_dict() for f in self.findings])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "table_id": self.table_id,
            "ok": self.ok,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        lines = [
            f"validation of {self.table_id}: {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s)"
        ]
        for f in self.findings:
            lines.append(f"  [{f.severity:7}] {f.check}: {f.message}")
        return "\n".join(lines)


def _cells(table: IOTable, pairs: list[tuple[int, int]], limit: int = 10) -> tuple[str, ...]:
    out = []
    for i, j in pairs[:limit]:
        ref = table.meta.cell_of(i, j)
        out.append(ref if ref else f"Z[{table.codes[i]},{table.codes[j]}]")
    return tuple(out)


def _balance(
    name: str, what: str, lhs: np.ndarray, x: np.ndarray, codes: tuple[str, ...]
) -> list[Finding]:
    pos = x > 0
    if not pos.any():
        return []
    rel = np.zeros_like(x)
    rel[pos] = np.abs(lhs[pos] - x[pos]) / x[pos]
    k = int(np.argmax(rel))
    worst = float(rel[k])
    abs_gap = float(lhs[k] - x[k])
    msg = (
        f"{what} vs output x: worst sector {codes[k]} with relative error {worst:.3g} "
        f"(difference {abs_gap:.6g})"
    )
    if worst <= BALANCE_OK:
        return [Finding(name, "info", msg + " — balanced", (codes[k],), value=worst)]
    # a constant factor of 10**3k across sectors points at a unit mismatch
    ratio = lhs[pos] / x[pos]
    med = float(np.median(ratio))
    for factor in (1e3, 1e6, 1e-3, 1e-6):
        if med > 0 and abs(med / factor - 1) < 0.05:
            return [
                Finding(
                    "scale",
                    "error",
                    f"{what} is about {factor:g} times output x in most sectors: the parts "
                    "of the table are in different units (e.g. thousands vs millions); "
                    "rescale one of them",
                    value=med,
                )
            ]
    sev: Severity = "error" if worst > BALANCE_ERROR else "warning"
    return [Finding(name, sev, msg, (codes[k],), value=worst)]


def validate(table: IOTable, *, strict: bool = False) -> ValidationReport:
    """Check a table and report every problem found.

    Parameters
    ----------
    table : IOTable
    strict : bool, default False
        Raise :class:`~io_clusters.errors.TableValidationError` (holding the report)
        when there is any error-level finding.

    Returns
    -------
    ValidationReport

    Notes
    -----
    Checks: finite numbers; no negative intermediate flows; negative or zero output
    (zero-output sectors are dropped by the analysis, which says so); column sums of
    A = Z diag(x)⁻¹ below 1; row balance Z·1 + f = x where final demand is present;
    column balance 1'Z + imports + v' = x where primary inputs are present (tolerance
    :data:`BALANCE_OK`, error above :data:`BALANCE_ERROR`); a transposed block
    (balances hold only after transposing Z); totals or subtotal rows/columns read as
    sectors (a row equal to the sum of the others, or a code/name saying "total");
    unit/scale mismatch (a constant factor of 10³ or 10⁶); isolated sectors; duplicate
    names.
    """
    f: list[Finding] = []
    codes = table.codes
    Z = table.Z.to_numpy()
    x = table.x.to_numpy()
    fd = table.final_demand.to_numpy()
    va = table.value_added.to_numpy()
    imp = None if table.imports is None else table.imports.to_numpy()

    # finite numbers
    bad_z = np.argwhere(~np.isfinite(Z))
    parts = {"output x": x, "final demand": fd, "primary inputs": va}
    if imp is not None:
        parts["imports"] = imp
    if len(bad_z):
        pairs = [(int(i), int(j)) for i, j in bad_z]
        f.append(
            Finding(
                "finite",
                "error",
                f"{len(pairs)} NaN/infinite value(s) in Z",
                tuple(sorted({codes[i] for i, _ in pairs})),
                _cells(table, pairs),
            )
        )
    for label, arr in parts.items():
        if arr.size and not np.isfinite(arr).all():
            f.append(Finding("finite", "error", f"NaN/infinite value(s) in {label}"))
    if any(g.severity == "error" for g in f):
        return _finish(table, f, strict)

    neg = np.argwhere(Z < 0)
    if len(neg):
        pairs = [(int(i), int(j)) for i, j in neg]
        worst = float(Z[Z < 0].min())
        noise = abs(worst) <= NEGLIGIBLE * max(float(np.abs(Z).max()), 1e-300)
        f.append(
            Finding(
                "negative_flows",
                "warning" if noise else "error",
                f"{len(pairs)} negative intermediate flow(s), e.g. "
                f"Z[{codes[pairs[0][0]]},{codes[pairs[0][1]]}] = {Z[pairs[0]]:.6g}"
                + (
                    " — negligible (rounding noise below 1e-9 of the largest flow); "
                    "the analysis uses them as they are"
                    if noise
                    else "; intermediate flows must be ≥ 0"
                ),
                tuple(sorted({codes[i] for i, _ in pairs})),
                _cells(table, pairs),
                worst,
            )
        )
    negx = [codes[i] for i in np.flatnonzero(x < 0)]
    if negx:
        f.append(Finding("output", "error", f"negative output for {', '.join(negx)}", tuple(negx)))
    zero = [codes[i] for i in np.flatnonzero(x == 0)]
    if zero:
        f.append(
            Finding(
                "zero_output",
                "warning",
                f"zero output for {', '.join(zero)}; the analysis drops these sectors",
                tuple(zero),
            )
        )
    pos = x > 0
    colsum_a = np.zeros_like(x)
    colsum_a[pos] = Z[:, pos].sum(axis=0) / x[pos]
    over = [codes[j] for j in np.flatnonzero(colsum_a >= 1)]
    if over:
        f.append(
            Finding(
                "coefficients",
                "error",
                f"column sums of A = Z/x are ≥ 1 for {', '.join(over[:10])} (max "
                f"{colsum_a.max():.3g}): intermediate inputs exceed output; check units, a "
                "totals row inside the block, or a transposed block",
                tuple(over),
                value=float(colsum_a.max()),
            )
        )
    else:
        f.append(
            Finding(
                "coefficients",
                "info",
                f"max column sum of A = {colsum_a.max():.4f} < 1",
                value=float(colsum_a.max()),
            )
        )

    # totals or subtotal rows read as sectors
    f.extend(_totals_checks(table, Z, x))

    # balances
    has_fd = fd.size > 0
    has_va = va.size > 0 or imp is not None
    row_lhs = Z.sum(axis=1) + (fd.sum(axis=1) if has_fd else 0)
    col_lhs = Z.sum(axis=0) + (va.sum(axis=0) if va.size else 0) + (imp if imp is not None else 0)
    if has_fd:
        f.extend(_balance("row_balance", "Z·1 + f", row_lhs, x, codes))
    else:
        f.append(Finding("row_balance", "info", "not checked: the table has no final demand"))
    if has_va:
        f.extend(_balance("column_balance", "1'Z + imports + v'", col_lhs, x, codes))
    else:
        f.append(Finding("column_balance", "info", "not checked: the table has no primary inputs"))
    failed = [
        g for g in f if g.check in ("row_balance", "column_balance") and g.severity == "error"
    ]
    if failed:
        f.extend(
            _scale_checks(Z, x, fd if has_fd else None, col_lhs - Z.sum(axis=0) if has_va else None)
        )
        rel = []
        if has_fd:
            t_lhs = Z.sum(axis=0) + fd.sum(axis=1)
            rel.append(np.max(np.abs(t_lhs[pos] - x[pos]) / x[pos]))
        if has_va:
            t_lhs = (
                Z.sum(axis=1) + (va.sum(axis=0) if va.size else 0) + (imp if imp is not None else 0)
            )
            rel.append(np.max(np.abs(t_lhs[pos] - x[pos]) / x[pos]))
        if rel and max(rel) <= BALANCE_ERROR:
            f.append(
                Finding(
                    "transposed",
                    "error",
                    "the balances hold only after transposing Z: the block appears to have "
                    "buyers in rows; transpose it (spec: transposed = true)",
                    value=float(max(rel)),
                )
            )

    iso = [
        codes[i]
        for i in range(len(codes))
        if x[i] > 0 and Z[i].sum() - Z[i, i] == 0 and Z[:, i].sum() - Z[i, i] == 0
    ]
    if iso:
        f.append(
            Finding(
                "isolated",
                "warning",
                f"no intermediate purchases from or sales to other sectors: {', '.join(iso)}",
                tuple(iso),
            )
        )
    names = list(table.names)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        f.append(Finding("names", "warning", f"duplicate sector names: {', '.join(dup[:5])}"))
    for note in table.meta.notes:
        f.append(Finding("reader", "info", note))
    return _finish(table, f, strict)


def _finish(table: IOTable, f: list[Finding], strict: bool) -> ValidationReport:
    report = ValidationReport(table.meta.table_id, tuple(f))
    if strict and not report.ok:
        first = report.errors[0]
        raise TableValidationError(
            f"{table.meta.table_id}: {len(report.errors)} validation error(s); first: "
            f"{first.check}: {first.message}",
            report,
        )
    return report


def _fits(lhs: np.ndarray, x: np.ndarray) -> bool:
    pos = x > 0
    return bool(pos.any()) and float(np.max(np.abs(lhs[pos] - x[pos]) / x[pos])) <= BALANCE_ERROR


def _scale_checks(
    Z: np.ndarray, x: np.ndarray, fd: np.ndarray | None, primary: np.ndarray | None
) -> list[Finding]:
    """Find a power-of-1000 factor on one part of the table that restores the balances."""
    zr, zc = Z.sum(axis=1), Z.sum(axis=0)
    f = fd.sum(axis=1) if fd is not None else None
    for k in (1e3, 1e-3, 1e6, 1e-6):
        tries = []
        if f is not None:
            tries += [
                (zr * k + f, "Z (intermediate flows)"),
                (zr + f * k, "final demand"),
                ((zr + f) / k, "output x"),
            ]
        if primary is not None:
            tries += [
                (zc * k + primary, "Z (intermediate flows)"),
                (zc + primary * k, "primary inputs"),
                ((zc + primary) / k, "output x"),
            ]
        for lhs, part in tries:
            if _fits(lhs, x):
                return [
                    Finding(
                        "scale",
                        "error",
                        f"the balances hold only if {part} is multiplied by {k:g}: the parts "
                        "of the table are in different units (e.g. thousands vs millions); "
                        "rescale that part",
                        value=k,
                    )
                ]
    return []


def _totals_checks(table: IOTable, Z: np.ndarray, x: np.ndarray) -> list[Finding]:
    out: list[Finding] = []
    n = len(table.codes)
    if n < 3:
        return out
    col_tot = Z.sum(axis=0)
    row_tot = Z.sum(axis=1)
    scale = max(float(np.abs(Z).max()), 1e-300)
    for i in range(n):
        row_rest = col_tot - Z[i]
        col_rest = row_tot - Z[:, i]
        if Z[i].any() and np.allclose(Z[i], row_rest, rtol=1e-6, atol=1e-9 * scale):
            out.append(
                Finding(
                    "totals_row",
                    "error",
                    f"row {table.codes[i]!r} equals the sum of the other rows: a totals row was "
                    "read as a sector; exclude it from the block",
                    (table.codes[i],),
                    _cells(table, [(i, 0)], 1),
                )
            )
        if Z[:, i].any() and np.allclose(Z[:, i], col_rest, rtol=1e-6, atol=1e-9 * scale):
            out.append(
                Finding(
                    "totals_row",
                    "error",
                    f"column {table.codes[i]!r} equals the sum of the other columns: a totals "
                    "column was read as a sector; exclude it from the block",
                    (table.codes[i],),
                    _cells(table, [(0, i)], 1),
                )
            )
    for code, name in zip(table.codes, table.names, strict=True):
        low = f"{code} {name}".lower()
        if ("total" in low.split() or low.strip().startswith(("total", "subtotal"))) and not any(
            g.sectors == (code,) for g in out
        ):
            out.append(
                Finding(
                    "totals_row",
                    "warning",
                    f"sector {code!r} ({name}) is labelled as a total; check it is a real sector",
                    (code,),
                )
            )
    return out
