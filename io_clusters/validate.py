"""Validation of an :class:`~io_clusters.table.IOTable` before any analysis.

"Diagnose, do not repair": :func:`validate` returns a :class:`ValidationReport` with
every finding (status, sector, cell, value), never a silently fixed table. Findings
have a severity: ``error`` (analysis would be meaningless: NaN, negative flows,
column sums of A ≥ 1, a totals row read as a sector, a transposed block…),
``warning`` (analysis proceeds but the user should know: zero-output sectors, small
imbalances) or ``info`` (a check passed, with its figure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import OptionError, TableValidationError
from .mrio import is_multiregional
from .table import IOTable, ReadIssue

Severity = Literal["error", "warning", "info"]

#: Relative balance error below which a table counts as balanced.
BALANCE_OK = 1e-6
#: Relative balance error above which the imbalance is an error, not a warning.
BALANCE_ERROR = 0.05
#: Negative flows no larger than this fraction of the purchasing sector's output count as
#: rounding noise (the coefficient rounds to 0.0000); see :func:`negligible_negatives`.
NEGATIVE_TOLERANCE = 1e-4
#: Treatments of negligible negative flows (option ``negatives``): kept as they are
#: (the default; a warning names the cells), set to zero on reading, or an error.
NEGATIVES: tuple[str, ...] = ("keep", "zero", "error")


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

    def raise_if_errors(self) -> None:
        """Raise :class:`~io_clusters.errors.TableValidationError` if there is any error.

        The message gives the number of errors and the first three; the exception holds
        this report (``.report``) with every finding.
        """
        if self.ok:
            return
        raise TableValidationError(
            f"{self.table_id}: {len(self.errors)} validation error(s): "
            + "; ".join(f"{f.check}: {f.message}" for f in self.errors[:3]),
            self,
        )

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


@dataclass(frozen=True, slots=True)
class _Arrays:
    """The table's blocks as arrays, shared by the checks."""

    table: IOTable
    Z: np.ndarray
    x: np.ndarray
    fd: np.ndarray
    va: np.ndarray
    imp: np.ndarray | None
    negatives: str
    tolerance: float

    @property
    def codes(self) -> tuple[str, ...]:
        return self.table.codes


def check_finite(a: _Arrays) -> list[Finding]:
    """Every figure is a finite number (NaN or ±inf make every later figure meaningless)."""
    out = []
    bad_z = np.argwhere(~np.isfinite(a.Z))
    if len(bad_z):
        pairs = [(int(i), int(j)) for i, j in bad_z]
        out.append(
            Finding(
                "finite",
                "error",
                f"{len(pairs)} NaN/infinite value(s) in Z",
                tuple(sorted({a.codes[i] for i, _ in pairs})),
                _cells(a.table, pairs),
            )
        )
    parts = {"output x": a.x, "final demand": a.fd, "primary inputs": a.va}
    if a.imp is not None:
        parts["imports"] = a.imp
    for label, arr in parts.items():
        if arr.size and not np.isfinite(arr).all():
            out.append(Finding("finite", "error", f"NaN/infinite value(s) in {label}"))
    return out


def magnitude_limit(n: int) -> float:
    """Largest magnitude whose sums of n squares stay finite in float64: √(max / n)."""
    return float(np.sqrt(np.finfo("float64").max / max(n, 1)))


def check_magnitude(a: _Arrays) -> list[Finding]:
    """Figures so large that sums of squares (similarities, dispersion) overflow."""
    limit = magnitude_limit(len(a.codes))
    parts = [a.Z, a.x, a.fd, a.va] + ([a.imp] if a.imp is not None else [])
    biggest = max((float(np.abs(p).max()) for p in parts if p.size), default=0.0)
    if biggest <= limit:
        return []
    pairs = [(int(i), int(j)) for i, j in np.argwhere(np.abs(a.Z) > limit)]
    return [
        Finding(
            "magnitude",
            "error",
            f"values up to {biggest:.3g} cannot be computed in float64 (sums of squares "
            f"overflow above {limit:.3g}); rescale the table (e.g. divide every figure by "
            "1e6 and say so in its units)",
            tuple(sorted({a.codes[i] for i, _ in pairs})),
            _cells(a.table, pairs),
            biggest,
        )
    ]


def negligible_negatives(Z: np.ndarray, x: np.ndarray, tolerance: float) -> np.ndarray:
    """Mask of negative flows no larger than ``tolerance`` × the purchasing sector's output.

    ``|z_ij| ≤ tolerance · x_j``: with the default :data:`NEGATIVE_TOLERANCE` (1e-4) the
    coefficient a_ij = z_ij / x_j rounds to 0.0000, the precision at which statistical
    offices publish coefficient tables, so the flow is rounding noise.
    """
    xj = np.broadcast_to(np.where(x > 0, x, 0.0), Z.shape)
    return (Z < 0) & (-Z <= tolerance * xj)


def _negative_advice(a: _Arrays, material: bool) -> str:
    if material:
        return f"; larger than {a.tolerance:g} of the buyer's output, so not rounding: fix them"
    return (
        f" — negligible (at most {a.tolerance:g} of the buying sector's output: "
        + {
            "keep": "rounding); the analysis uses them as they are (negatives='zero' sets "
            "them to 0)",
            "zero": "rounding); read the table with negatives='zero' to set them to 0",
            "error": "rounding); refused because negatives='error'",
        }[a.negatives]
    )


def check_negative_flows(a: _Arrays) -> list[Finding]:
    """Negative intermediate flows: material ones are errors, negligible ones per option."""
    neg = a.Z < 0
    if not neg.any():
        return []
    small = negligible_negatives(a.Z, a.x, a.tolerance)
    out = []
    for mask, material in ((neg & ~small, True), (small, False)):
        pairs = [(int(i), int(j)) for i, j in np.argwhere(mask)]
        if not pairs:
            continue
        shown = ", ".join(
            f"{ref} = {a.Z[i, j]:.6g}"
            for ref, (i, j) in zip(_cells(a.table, pairs, 5), pairs, strict=False)
        )
        out.append(
            Finding(
                "negative_flows",
                "error" if material or a.negatives == "error" else "warning",
                f"{len(pairs)} negative intermediate flow(s): {shown}"
                + (" …" if len(pairs) > 5 else "")
                + _negative_advice(a, material),
                tuple(sorted({a.codes[i] for i, _ in pairs})),
                _cells(a.table, pairs),
                float(a.Z[mask].min()),
            )
        )
    return out


def check_output(a: _Arrays) -> list[Finding]:
    """Negative output is an error; zero output a warning (the analysis drops the sector)."""
    out = []
    negx = [a.codes[i] for i in np.flatnonzero(a.x < 0)]
    if negx:
        out.append(
            Finding("output", "error", f"negative output for {', '.join(negx)}", tuple(negx))
        )
    zero = [a.codes[i] for i in np.flatnonzero(a.x == 0)]
    if zero:
        out.append(
            Finding(
                "zero_output",
                "warning",
                f"zero output for {', '.join(zero)}; the analysis drops these sectors",
                tuple(zero),
            )
        )
    return out


def check_coefficients(a: _Arrays) -> list[Finding]:
    """Column sums of A = Z diag(x)⁻¹ below 1 (Miller & Blair 2009, sec. 2.3)."""
    pos = a.x > 0
    colsum_a = np.zeros_like(a.x)
    colsum_a[pos] = a.Z[:, pos].sum(axis=0) / a.x[pos]
    top = float(colsum_a.max()) if colsum_a.size else 0.0
    over = [a.codes[j] for j in np.flatnonzero(colsum_a >= 1)]
    if not over:
        return [Finding("coefficients", "info", f"max column sum of A = {top:.4f} < 1", value=top)]
    return [
        Finding(
            "coefficients",
            "error",
            f"column sums of A = Z/x are ≥ 1 for {', '.join(over[:10])} (max {top:.3g}): "
            "intermediate inputs exceed output; check units, a totals row inside the block, "
            "or a transposed block",
            tuple(over),
            value=top,
        )
    ]


def _multiregional_hint(g: Finding) -> Finding:
    """Say, on a multi-regional table's column-balance error, what usually causes it."""
    if g.check != "column_balance" or g.severity != "error":
        return g
    return replace(
        g,
        message=g.message + ": in a multi-regional table the primary-input rows must hold "
        "every input from outside Z (value added, taxes less subsidies, imports from outside "
        "the system); from_pymrio takes them from the 'factor_inputs' or 'VA' extension: "
        "check that the source's extension holds them all",
    )


def check_totals(a: _Arrays) -> list[Finding]:
    """Totals or subtotal rows/columns read as sectors."""
    return _totals_checks(a.table, a.Z, a.x)


def check_balances(a: _Arrays) -> list[Finding]:
    """Row balance Z·1 + f = x, column balance 1'Z + imports + v' = x; transposed blocks."""
    Z, x, fd, va, imp, codes = a.Z, a.x, a.fd, a.va, a.imp, a.codes
    has_fd = fd.size > 0
    has_va = va.size > 0 or imp is not None
    primary = np.zeros_like(x) + (va.sum(axis=0) if va.size else 0) + (0 if imp is None else imp)
    f: list[Finding] = []
    if has_fd:
        f += _balance("row_balance", "Z·1 + f", Z.sum(axis=1) + fd.sum(axis=1), x, codes)
    else:
        f.append(Finding("row_balance", "info", "not checked: the table has no final demand"))
    if has_va:
        col = _balance("column_balance", "1'Z + imports + v'", Z.sum(axis=0) + primary, x, codes)
        f += [_multiregional_hint(g) if is_multiregional(a.table) else g for g in col]
    else:
        f.append(Finding("column_balance", "info", "not checked: the table has no primary inputs"))
    if not any(g.check.endswith("_balance") and g.severity == "error" for g in f):
        return f
    f += _scale_checks(Z, x, fd if has_fd else None, primary if has_va else None)
    pos = x > 0
    rel = []
    if has_fd:
        rel.append(np.max(np.abs(Z.sum(axis=0) + fd.sum(axis=1) - x)[pos] / x[pos]))
    if has_va:
        rel.append(np.max(np.abs(Z.sum(axis=1) + primary - x)[pos] / x[pos]))
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
    return f


def check_isolated(a: _Arrays) -> list[Finding]:
    """Sectors with output but no intermediate trade with any other sector."""
    off_row = a.Z.sum(axis=1) - np.diag(a.Z)
    off_col = a.Z.sum(axis=0) - np.diag(a.Z)
    iso = [a.codes[i] for i in np.flatnonzero((a.x > 0) & (off_row == 0) & (off_col == 0))]
    if not iso:
        return []
    return [
        Finding(
            "isolated",
            "warning",
            f"no intermediate purchases from or sales to other sectors: {', '.join(iso)}",
            tuple(iso),
        )
    ]


def check_names(a: _Arrays) -> list[Finding]:
    """Two sectors with the same name (O(n): one count of every name)."""
    dup = sorted(name for name, k in Counter(a.table.names).items() if k > 1)
    if not dup:
        return []
    dup_set = set(dup)
    sectors = tuple(c for c, n in zip(a.codes, a.table.names, strict=True) if n in dup_set)
    return [Finding("names", "warning", f"duplicate sector names: {', '.join(dup[:5])}", sectors)]


def check_reader(a: _Arrays) -> list[Finding]:
    """Report what the reader found: its issues as warnings (naming cells), notes as info."""
    out = [Finding(i.check, "warning", i.message, cells=i.cells) for i in a.table.meta.issues]
    out += [Finding("reader", "info", note) for note in a.table.meta.notes]
    return out


#: The checks, in order. After an error from a check in ``_BLOCKING`` the others are
#: skipped (their figures would be meaningless or overflow); the reader's findings stay.
# --- data anomalies a reader should see (issue 17): warnings, never errors -----------------
#: Final-demand columns that are statistical adjustments rather than real demand.
_ADJUSTMENT_WORDS = ("adjust", "ajuste", "discrep", "statistical", "estadistic", "estadístic")


def check_exports_above_output(table: IOTable) -> list[Finding]:
    """Sectors whose exports exceed their output (the table must offset them elsewhere)."""
    exp = table.exports
    if exp is None:
        return []
    e, x = exp.to_numpy(dtype=float), table.x.to_numpy(dtype=float)
    over = np.flatnonzero((x > 0) & (e > x * (1 + BALANCE_OK)))
    if not len(over):
        return []
    ratio = e[over] / x[over]
    k = int(over[np.argmax(ratio)])
    codes = table.codes
    exp_cols = [
        str(c)
        for c in table.final_demand.columns
        if str(c).upper().startswith("EXP") or "export" in str(c).lower()
    ]
    return [
        Finding(
            "exports_above_output",
            "warning",
            f"exports exceed output in {len(over)} sector(s), e.g. {codes[k]} "
            f"({table.names[k]}): exports {e[k]:.6g} = {100 * e[k] / x[k]:.1f} % of output "
            f"{x[k]:.6g}; the table offsets this elsewhere (e.g. a negative adjustment column)",
            tuple(codes[i] for i in over),
            tuple(f"final_demand[{codes[i]}, {'+'.join(exp_cols)}]" for i in over[:10]),
            float(ratio.max()),
        )
    ]


def check_negative_adjustment(table: IOTable) -> list[Finding]:
    """Negative values in final-demand columns named as adjustments or discrepancies."""
    out = []
    fd = table.final_demand
    for col in fd.columns:
        low = str(col).lower()
        if not any(w in low for w in _ADJUSTMENT_WORDS):
            continue
        v = fd[col].to_numpy(dtype=float)
        neg = np.flatnonzero(v < 0)
        if not len(neg):
            continue
        k = int(neg[np.argmin(v[neg])])
        out.append(
            Finding(
                "negative_adjustment",
                "warning",
                f"negative final-demand column {col}: {len(neg)} negative value(s), e.g. "
                f"{table.codes[k]} = {v[k]:.6g}",
                tuple(table.codes[i] for i in neg),
                tuple(f"final_demand[{table.codes[i]}, {col}]" for i in neg[:10]),
                float(v[k]),
            )
        )
    return out


def check_missing_primary_inputs(table: IOTable) -> list[Finding]:
    """Tables without value added or without imported intermediate inputs."""
    out = []
    if table.value_added.shape[0] == 0:
        out.append(
            Finding(
                "missing_value_added",
                "warning",
                "the table has no value added: the column balance and value-added measures "
                "cannot be checked",
            )
        )
    if table.imports is None and not is_multiregional(table):
        # in a multi-regional table the imports between its regions are flows of Z
        out.append(
            Finding(
                "missing_imports",
                "warning",
                "the table has no imports: domestic and imported inputs cannot be told apart "
                "in the column balance",
            )
        )
    return out


def data_anomalies(table: IOTable) -> list[Finding]:
    """Run the anomaly checks above (exports vs output, adjustments, missing parts)."""
    return [
        *check_exports_above_output(table),
        *check_negative_adjustment(table),
        *check_missing_primary_inputs(table),
    ]


def check_anomalies(a: _Arrays) -> list[Finding]:
    """Report the data anomalies a reader should see (:func:`data_anomalies`)."""
    return data_anomalies(a.table)


CHECKS: tuple[tuple[str, Callable[[_Arrays], list[Finding]]], ...] = (
    ("finite", check_finite),
    ("magnitude", check_magnitude),
    ("negative_flows", check_negative_flows),
    ("output", check_output),
    ("coefficients", check_coefficients),
    ("totals", check_totals),
    ("balances", check_balances),
    ("isolated", check_isolated),
    ("names", check_names),
    ("anomalies", check_anomalies),
    ("reader", check_reader),
)
_BLOCKING = frozenset({"finite", "magnitude"})


def validate(
    table: IOTable,
    *,
    strict: bool = False,
    negatives: str = "keep",
    negative_tolerance: float = NEGATIVE_TOLERANCE,
) -> ValidationReport:
    """Check a table and report every problem found.

    Parameters
    ----------
    table : IOTable
    strict : bool, default False
        Raise :class:`~io_clusters.errors.TableValidationError` (holding the report)
        when there is any error-level finding.
    negatives : {"keep", "zero", "error"}, default "keep"
        Severity of *negligible* negative flows (see :func:`negligible_negatives`):
        a warning naming the cells, or an error with ``"error"``. Material negatives
        are always errors. Pass the value given to :func:`io_clusters.read_table`.
    negative_tolerance : float, default :data:`NEGATIVE_TOLERANCE`

    Returns
    -------
    ValidationReport

    Notes
    -----
    The checks are the functions in :data:`CHECKS`, run in order: finite numbers;
    magnitudes float64 can compute with; negative intermediate flows; negative or zero
    output (zero-output sectors are dropped by the analysis, which says so); column
    sums of A below 1; totals or subtotal rows/columns read as sectors; row balance
    Z·1 + f = x and column balance 1'Z + imports + v' = x (tolerance
    :data:`BALANCE_OK`, error above :data:`BALANCE_ERROR`), with a transposed block
    or a unit/scale mismatch (10³, 10⁶) named when they explain a failure; isolated
    sectors; duplicate names; the reader's warnings (cells read as not available,
    cleaned labels, the sheet chosen …) and notes.
    """
    if negatives not in NEGATIVES:
        raise OptionError(f"negatives must be one of {', '.join(NEGATIVES)}, got {negatives!r}")
    a = _Arrays(
        table,
        table.Z.to_numpy(),
        table.x.to_numpy(),
        table.final_demand.to_numpy(),
        table.value_added.to_numpy(),
        None if table.imports is None else table.imports.to_numpy(),
        negatives,
        negative_tolerance,
    )
    f: list[Finding] = []
    for name, check in CHECKS:
        f.extend(check(a))
        if name in _BLOCKING and any(g.severity == "error" for g in f):
            f.extend(check_reader(a))
            break
    report = ValidationReport(table.meta.table_id, tuple(f))
    if strict:
        report.raise_if_errors()
    return report


def treat_negatives(
    table: IOTable, negatives: str = "keep", tolerance: float = NEGATIVE_TOLERANCE
) -> IOTable:
    """Apply the ``negatives`` option: with ``"zero"`` set negligible negatives to 0.

    The cells set to zero travel with the table as a warning (``meta.issues``), so the
    report still names them. ``"keep"`` and ``"error"`` return ``table`` unchanged
    (validation decides their severity). Material negatives are never changed.
    """
    if negatives not in NEGATIVES:
        raise OptionError(f"negatives must be one of {', '.join(NEGATIVES)}, got {negatives!r}")
    if negatives != "zero":
        return table
    Z = table.Z.to_numpy()
    with np.errstate(invalid="ignore"):
        mask = negligible_negatives(Z, table.x.to_numpy(), tolerance)
    if not mask.any():
        return table
    pairs = [(int(i), int(j)) for i, j in np.argwhere(mask)]
    refs = tuple(
        table.meta.cell_of(i, j) or f"Z[{table.codes[i]},{table.codes[j]}]" for i, j in pairs
    )
    shown = ", ".join(f"{r} = {Z[i, j]:.6g}" for r, (i, j) in zip(refs[:10], pairs, strict=False))
    issue = ReadIssue(
        "negative_flows",
        f"{len(pairs)} negligible negative intermediate flow(s) (at most {tolerance:g} of the "
        f"buying sector's output) set to 0 (negatives='zero'): {shown}"
        + (" …" if len(pairs) > 10 else ""),
        refs,
    )
    Z = np.where(mask, 0.0, Z)
    return replace(
        table,
        Z=pd.DataFrame(Z, index=table.Z.index, columns=table.Z.columns),
        meta=replace(table.meta, issues=(*table.meta.issues, issue)),
    )


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
