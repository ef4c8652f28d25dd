"""Linkage analysis: coefficients, inverses, backward/forward linkages, key sectors.

Pure functions; I/O stays in the readers and writers. Notation (Miller & Blair 2009,
ch. 2 and 12): A = Z diag(x)⁻¹ technical coefficients, B = diag(x)⁻¹ Z allocation
coefficients, L = (I − A)⁻¹ Leontief inverse, G = (I − B)⁻¹ Ghosh inverse, with the
identity G = diag(x)⁻¹ L diag(x), so nothing about G needs a second factorisation.

Columns of :func:`linkages` (one row per sector, indexed by code):

======================================= ====================================================
column                                  formula (reference)
======================================= ====================================================
``bl_direct``                           Σᵢ aᵢⱼ, column sums of A (Chenery & Watanabe 1958)
``fl_direct``                           Σⱼ bᵢⱼ, row sums of B (Chenery & Watanabe 1958)
``bl_direct_norm``, ``fl_direct_norm``  the same divided by their mean
``bl_total``                            Σᵢ lᵢⱼ, column sums of L: output multiplier
``fl_total_ghosh``                      Σⱼ gᵢⱼ, row sums of G (Beyers 1976; Jones 1976)
``fl_total_leontief``                   Σⱼ lᵢⱼ, row sums of L: the classic Rasmussen variant
``power_dispersion``                    n·(1'L)ⱼ / 1'L1 (Rasmussen 1956)
``sensitivity_dispersion``              n·(G1)ᵢ / 1'G1, Ghosh-based (default; Eurostat 2008
                                        ch. 15; Miller & Blair 2009 §12.2)
``sensitivity_dispersion_leontief``     n·(L1)ᵢ / 1'L1 (Rasmussen 1956, classic)
``cv_backward``                         sd of column j of L / its mean, ddof = 1
``cv_forward``                          sd of row i of G / its mean, ddof = 1
``cv_forward_leontief``                 sd of row i of L / its mean, ddof = 1
``key_sector_class``                    Hirschman quadrants on power_dispersion and
                                        sensitivity_dispersion: ``key`` (both > 1),
                                        ``backward`` (only power > 1), ``forward`` (only
                                        sensitivity > 1), ``weak`` (neither)
``bl_weighted_fd``                      (1'L)ⱼ / Σₖ wₖ(1'L)ₖ with w = f/1'f (Laumas 1976)
``bl_weighted_output``                  the same with w = x/1'x
``fl_weighted_output``                  (G1)ᵢ / Σₖ wₖ(G1)ₖ with w = x/1'x (Cella 1984)
``hem_total``                           1'x − 1'x̄ after deleting row and column j
                                        (Strassert 1968; Miller & Lahr 2001)
``hem_backward``                        column j of A set to 0 (Dietzenbacher & van der
                                        Linden 1997)
``hem_forward``                         row j of B set to 0, supply-side (idem)
``hem_*_pct``                           the same as % of total output 1'x
======================================= ====================================================

Rasmussen's coefficients of variation use ddof = 1 (n − 1 in the denominator), as in
Rasmussen (1956) and Miller & Blair (2009 §12.2); some software uses n.

The extraction measures use closed forms obtained from the partitioned inverse and
the Sherman–Morrison formula, with final demand f = x − Z·1 so that x = L f holds
exactly: ``hem_total`` = xⱼ (1'L)ⱼ / lⱼⱼ, ``hem_backward`` = xⱼ((1'L)ⱼ − 1)/lⱼⱼ,
``hem_forward`` = xⱼ((G1)ⱼ − 1)/gⱼⱼ (gⱼⱼ = lⱼⱼ). They equal the results of
re-solving the extracted systems (tested against the direct computation).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from .errors import AnalysisError, DataWarning, NotProductiveError, OptionError
from .table import IOTable

log = logging.getLogger(__name__)

KEY_CLASSES = ("key", "backward", "forward", "weak")


def drop_zero_output(table: IOTable) -> IOTable:
    """Return ``table`` without zero-output sectors, warning with their codes.

    Their coefficients z/x are undefined; keeping them would put an artificial
    exact 1.0 output multiplier in the results.
    """
    zero = [c for c, v in zip(table.codes, table.x.to_numpy(), strict=True) if v == 0]
    if not zero:
        return table
    names = table.name_of
    msg = "dropped zero-output sector(s): " + ", ".join(f"{c} ({names[c]})" for c in zero)
    warnings.warn(msg, DataWarning, stacklevel=3)
    log.info(msg)
    out = table.without(zero)
    return replace(out, meta=replace(out.meta, notes=(*out.meta.notes, msg)))


def _zx(table: IOTable) -> tuple[np.ndarray, np.ndarray]:
    Z = table.Z.to_numpy(dtype="float64")
    x = table.x.to_numpy(dtype="float64")
    if not (np.isfinite(Z).all() and np.isfinite(x).all()):
        raise AnalysisError(
            f"{table.meta.table_id}: Z or x has NaN/infinite values; run io_clusters.validate"
        )
    if (x <= 0).any():
        bad = [c for c, v in zip(table.codes, x, strict=True) if v <= 0]
        raise AnalysisError(
            f"{table.meta.table_id}: output must be > 0 for every sector; not for "
            f"{', '.join(bad[:10])} (use drop_zero_output first)"
        )
    return Z, x


def technical_coefficients(table: IOTable) -> pd.DataFrame:
    """Return A = Z diag(x)⁻¹, aᵢⱼ = zᵢⱼ / xⱼ (Miller & Blair 2009, eq. 2.4); shape (n, n)."""
    Z, x = _zx(table)
    return pd.DataFrame(Z / x[None, :], index=table.Z.index, columns=table.Z.columns)


def allocation_coefficients(table: IOTable) -> pd.DataFrame:
    """Return B = diag(x)⁻¹ Z, bᵢⱼ = zᵢⱼ / xᵢ (Miller & Blair 2009, §12.1); shape (n, n)."""
    Z, x = _zx(table)
    return pd.DataFrame(Z / x[:, None], index=table.Z.index, columns=table.Z.columns)


def check_productive(
    A: np.ndarray, codes: tuple[str, ...], *, colsum: np.ndarray | None = None
) -> None:
    """Raise NotProductiveError unless the spectral radius of A is below 1.

    Column sums below 1 bound the spectral radius of a non-negative matrix, so the
    eigenvalue computation runs only when some column sum reaches 1. ``colsum``
    (``A.sum(axis=0)``) may be passed when the caller has it already.
    """
    if colsum is None:
        colsum = A.sum(axis=0)
    if (colsum < 1).all():
        return
    rho = float(np.max(np.abs(np.linalg.eigvals(A))))
    if rho >= 1:
        bad = tuple(c for c, s in zip(codes, colsum, strict=True) if s >= 1)
        raise NotProductiveError(
            f"the technical-coefficient matrix is not productive (spectral radius "
            f"{rho:.4f} ≥ 1); column sums of A are ≥ 1 for {', '.join(bad) or 'no single sector'}"
            ": inputs exceed output there — check units, totals rows and transposition",
            bad,
        )


def _factor(
    A: np.ndarray,
    codes: tuple[str, ...],
    colsum: np.ndarray | None = None,
    *,
    overwrite_A: bool = False,
) -> Any:
    """LU factors of I − A, computed in place on one n×n buffer.

    ``0 − aᵢⱼ`` then ``+ 1`` on the diagonal gives exactly the elements of
    ``np.eye(n) - A`` (signed zeros included). The buffer is a new Fortran-ordered
    array, or ``A`` itself with ``overwrite_A`` (A is destroyed); a Fortran-ordered
    buffer reaches LAPACK without the copy ``lu_factor`` would otherwise make.
    """
    check_productive(A, codes, colsum=colsum)
    n = A.shape[0]
    M = A if overwrite_A else np.empty((n, n), order="F")
    np.subtract(0.0, A, out=M)
    M.flat[:: n + 1] += 1.0  # flat indexing follows C order in any layout: the diagonal
    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            return scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False)
        except (scipy.linalg.LinAlgWarning, np.linalg.LinAlgError, ValueError) as exc:
            raise NotProductiveError(f"I − A is singular or ill-conditioned ({exc})") from exc


def _solve_identity(lu: Any, n: int) -> np.ndarray:
    """L = (I − A)⁻¹ from the LU factors, solved in place over a Fortran-ordered identity."""
    return scipy.linalg.lu_solve(lu, np.eye(n, order="F"), overwrite_b=True, check_finite=False)


def _check_nonneg(L: np.ndarray, codes: tuple[str, ...]) -> None:
    tol = -1e-12 * max(1.0, float(L.max()))
    if float(L.min()) >= tol:  # one reduction; the mask only when something is negative
        return
    neg = L < tol
    if neg.any():
        cols = sorted({codes[j] for j in np.flatnonzero(neg.any(axis=0))})
        raise NotProductiveError(
            f"the Leontief inverse has negative elements in the columns of {', '.join(cols[:10])}",
            cols,
        )


def leontief_inverse(table: IOTable) -> pd.DataFrame:
    """Return L = (I − A)⁻¹ (Leontief 1936; Miller & Blair 2009, eq. 2.11); shape (n, n).

    Raises
    ------
    NotProductiveError
        Spectral radius of A ≥ 1, or negative elements in L; names the sectors.
    """
    Z, x = _zx(table)
    lu = _factor(Z / x[None, :], table.codes, overwrite_A=True)  # no DataFrame of A
    L = _solve_identity(lu, len(x))
    _check_nonneg(L, table.codes)
    return pd.DataFrame(L, index=table.Z.index, columns=table.Z.columns)


def ghosh_inverse(table: IOTable) -> pd.DataFrame:
    """Return G = (I − B)⁻¹ = diag(x)⁻¹ L diag(x) (Ghosh 1958; Miller & Blair 2009, §12.1)."""
    L = leontief_inverse(table).to_numpy()
    x = table.x.to_numpy()
    return pd.DataFrame(L * x[None, :] / x[:, None], index=table.Z.index, columns=table.Z.columns)


def _cv(mat_sum: np.ndarray, mat_sq: np.ndarray, n: int) -> np.ndarray:
    """Coefficient of variation from sums and sums of squares along one axis (ddof=1)."""
    mean = mat_sum / n
    var = np.maximum(mat_sq - n * mean**2, 0.0) / (n - 1)
    return np.sqrt(var) / mean


def _classify(power: np.ndarray, sens: np.ndarray) -> list[str]:
    """Hirschman quadrants: key (both > 1), backward, forward, weak (neither)."""
    p, s = power > 1, sens > 1
    return np.select([p & s, p, s], ["key", "backward", "forward"], "weak").tolist()


def _without_zero_output(table: IOTable, drop_zero: bool) -> tuple[IOTable, tuple[str, ...]]:
    """Return the table without zero-output sectors, and their codes in table order."""
    if not drop_zero:
        return table, ()
    before = table.codes
    table = drop_zero_output(table)
    if len(table.codes) == len(before):
        return table, ()
    kept = set(table.codes)  # built once: the membership test below is O(n)
    return table, tuple(c for c in before if c not in kept)


@dataclass(frozen=True, slots=True)
class _Totals:
    """Column and row sums of A, L and G (and L itself when needed); internal."""

    Z_rowsum: np.ndarray
    bl_direct: np.ndarray
    bl_total: np.ndarray
    fl_leontief: np.ndarray
    Lx: np.ndarray
    fl_ghosh: np.ndarray  # (L x)ᵢ / xᵢ: row sums of G, which is never formed
    L: np.ndarray | None


def _totals(Z: np.ndarray, x: np.ndarray, codes: tuple[str, ...], *, need_L: bool) -> _Totals:
    """One LU factorisation of I − A; L formed from it only when ``need_L``."""
    n = len(x)
    A = np.empty_like(Z)  # same memory layout as Z, hence the same summation order
    np.divide(Z, x[None, :], out=A)
    bl_direct = A.sum(axis=0)
    lu = _factor(A, codes, colsum=bl_direct, overwrite_A=True)  # A becomes the LU
    del A  # n×n arrays alive from here on: Z, the LU factors, then L
    L = None
    if need_L:
        L = _solve_identity(lu, n)
        del lu
        _check_nonneg(L, codes)
        bl_total = L.sum(axis=0)
        fl_leontief = L.sum(axis=1)
        Lx = L @ x
    else:
        ones = np.ones(n)
        bl_total = scipy.linalg.lu_solve(lu, ones, trans=1, check_finite=False)
        fl_leontief = scipy.linalg.lu_solve(lu, ones, check_finite=False)
        Lx = scipy.linalg.lu_solve(lu, x, check_finite=False)
    return _Totals(Z.sum(axis=1), bl_direct, bl_total, fl_leontief, Lx, Lx / x, L)


def _indices(table: IOTable, x: np.ndarray, t: _Totals) -> dict[str, Any]:
    """Direct and total linkages and the dispersion indices (Rasmussen, Ghosh)."""
    n = len(x)
    fl_ghosh = t.fl_ghosh
    fl_direct = t.Z_rowsum / x
    total_L = t.bl_total.sum()
    total_G = fl_ghosh.sum()
    bl_direct = t.bl_direct
    return {
        "name": list(table.names),
        "output": x,
        "bl_direct": bl_direct,
        "fl_direct": fl_direct,
        "bl_direct_norm": bl_direct / bl_direct.mean() if bl_direct.mean() > 0 else np.nan,
        "fl_direct_norm": fl_direct / fl_direct.mean() if fl_direct.mean() > 0 else np.nan,
        "bl_total": t.bl_total,
        "fl_total_ghosh": fl_ghosh,
        "fl_total_leontief": t.fl_leontief,
        "power_dispersion": n * t.bl_total / total_L,
        "sensitivity_dispersion": n * fl_ghosh / total_G,
        "sensitivity_dispersion_leontief": n * t.fl_leontief / total_L,
    }


def _cv_columns(t: _Totals, x: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Rasmussen's coefficients of variation, from sums of squares without n×n temporaries."""
    L = t.L
    assert L is not None
    return {
        "cv_backward": _cv(t.bl_total, np.einsum("ij,ij->j", L, L), n),
        # row i of G is (l_ij x_j / x_i)_j; the 1/x_i factor cancels in the CV
        "cv_forward": _cv(t.Lx, np.einsum("ij,ij,j->i", L, L, x * x), n),
        "cv_forward_leontief": _cv(t.fl_leontief, np.einsum("ij,ij->i", L, L), n),
    }


def _weighted_columns(table: IOTable, x: np.ndarray, t: _Totals) -> dict[str, np.ndarray]:
    """Return the indices weighted by final demand or output (Laumas 1976; Cella 1984)."""
    n = len(x)
    f = x - t.Z_rowsum
    if table.final_demand.shape[1]:
        f = table.final_demand.to_numpy().sum(axis=1)
    wf = f / f.sum() if f.sum() != 0 else np.full(n, 1 / n)
    wx = x / x.sum()
    fl_ghosh = t.fl_ghosh
    return {
        "bl_weighted_fd": t.bl_total / (wf @ t.bl_total),
        "bl_weighted_output": t.bl_total / (wx @ t.bl_total),
        "fl_weighted_output": fl_ghosh / (wx @ fl_ghosh),
    }


def _extraction_columns(t: _Totals, x: np.ndarray) -> dict[str, np.ndarray]:
    """Hypothetical extraction in closed form (see the module docstring)."""
    assert t.L is not None
    d = np.diag(t.L)
    total = x.sum()
    out = {
        "hem_total": x * t.bl_total / d,
        "hem_backward": x * (t.bl_total - 1) / d,
        "hem_forward": x * (t.fl_ghosh - 1) / d,
    }
    for k in ("hem_total", "hem_backward", "hem_forward"):
        out[f"{k}_pct"] = 100 * out[k] / total
    return out


def linkages(
    table: IOTable,
    *,
    cv: bool = True,
    extraction: bool = True,
    weighted: bool = True,
    drop_zero: bool = True,
) -> pd.DataFrame:
    """Backward and forward linkages, dispersion indices and key sectors per sector.

    Parameters
    ----------
    table : IOTable
        Intermediate flows Z (n×n) and output x (n), in any consistent unit.
    cv : bool, default True
        Compute Rasmussen's coefficients of variation (forms L once).
    extraction : bool, default True
        Compute hypothetical-extraction measures (forms L once).
    weighted : bool, default True
        Add final-demand- and output-weighted indices.
    drop_zero : bool, default True
        Drop zero-output sectors with a :class:`~io_clusters.errors.DataWarning`
        naming them; with False such a table raises AnalysisError.

    Returns
    -------
    pandas.DataFrame
        One row per sector (index = code; zero-output sectors dropped), columns as in
        the module docstring plus ``name`` and ``output``. ``df.attrs["io_clusters"]``
        records the options, the table id, the dropped sectors and the formulas.

    Raises
    ------
    NotProductiveError
        The table is not productive (names the sectors).

    Notes
    -----
    Cost: one LU factorisation of I − A and two triangular solves for the sums; when
    ``cv`` or ``extraction`` is set, L is formed once from the same factorisation.
    G is never formed: its row sums are (L x)ᵢ / xᵢ.

    Examples
    --------
    >>> from io_clusters import load_example, linkages
    >>> df = linkages(load_example("miller_blair_2x2"))
    >>> df["bl_total"].round(4).tolist()
    [1.5182, 1.4521]
    """
    for name, val in (("cv", cv), ("extraction", extraction), ("weighted", weighted)):
        if not isinstance(val, bool):
            raise OptionError(f"{name} must be True or False, got {val!r}")
    table, dropped = _without_zero_output(table, drop_zero)
    Z, x = _zx(table)
    n = len(x)
    if n < 2:
        raise AnalysisError("linkage analysis needs at least two sectors with output > 0")
    t = _totals(Z, x, table.codes, need_L=cv or extraction)
    out = _indices(table, x, t)
    if cv:
        assert t.L is not None
        out.update(_cv_columns(t, x, n))
    out["key_sector_class"] = _classify(out["power_dispersion"], out["sensitivity_dispersion"])
    if weighted:
        out.update(_weighted_columns(table, x, t))
    if extraction:
        assert t.L is not None
        out.update(_extraction_columns(t, x))
    df = pd.DataFrame(out, index=pd.Index(table.codes, name="code"))
    df.attrs["io_clusters"] = {
        "table_id": table.meta.table_id,
        "units": table.meta.units,
        "options": {
            "cv": cv,
            "extraction": extraction,
            "weighted": weighted,
            "drop_zero": drop_zero,
        },
        "dropped_zero_output": list(dropped),
        "cv_ddof": 1,
        "sensitivity_default": "ghosh",
        "key_sector_rule": "power_dispersion > 1 and sensitivity_dispersion (Ghosh) > 1",
        "weights_fd": "final demand of the table (x - Z·1 where the table has none)",
    }
    return df
