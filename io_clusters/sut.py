"""Supply and use tables and their transformation into symmetric input-output tables.

Both matrices are oriented products × industries, as in the Eurostat *Manual of Supply,
Use and Input-Output Tables* (2008): the supply matrix S (sᵢⱼ = output of product i by
industry j; the make matrix is V = S'), the use matrix U (uᵢⱼ = product i used by
industry j), final demand Y by product, value added W by industry. Product output
q = S·1, industry output g = 1'S.

Transformation models (Eurostat 2008, ch. 11; Miller & Blair 2009, ch. 5):

===== ====================== ================================== ============================
model table                  assumption                          flows
===== ====================== ================================== ============================
A     product × product      product technology                  Z = U S⁻¹ diag(q)
B     product × product      industry technology                 Z = U diag(g)⁻¹ S'
C     industry × industry    fixed industry sales structure      Z = diag(g) S⁻¹ U
D     industry × industry    fixed product sales structure       Z = S' diag(q)⁻¹ U
===== ====================== ================================== ============================

Product tables keep final demand by product and carry value added through the same
transformation (W T with T = S⁻¹ diag(q) or diag(g)⁻¹ S'); industry tables keep value
added by industry and carry final demand through the transformation (T Y with
T = diag(g) S⁻¹ or S' diag(q)⁻¹). Models A and C need a square, invertible supply
matrix. Model A can give negative flows when an industry's secondary product is made
with a technology unlike the primary producer's; they are reported by product pair,
with the industries whose secondary output causes them, and ``negatives="zero"``
sets them to zero (the table then no longer balances exactly: the report says by how
much). The usual alternatives are model B or D, or hybrid technology assumptions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import AnalysisError, DataWarning, LayoutError, OptionError
from .table import IOTable, TableMeta, slug
from .validate import BALANCE_ERROR, BALANCE_OK, Finding, Severity, ValidationReport

MODELS = ("A", "B", "C", "D")


@dataclass(frozen=True, slots=True)
class SupplyUseTable:
    """Supply and use tables, products × industries.

    Attributes
    ----------
    products, industries : tuple of str
    supply : DataFrame, shape (p, k)
        Output of each product by each industry.
    use : DataFrame, shape (p, k)
        Intermediate use of each product by each industry (basic prices).
    final_demand : DataFrame, shape (p, m)
        Final demand by product (may have no column).
    value_added : DataFrame, shape (r, k)
        Value added (and other primary inputs) by industry.
    imports_use : DataFrame or None, shape (p, k)
        Imported intermediate use, where given (``use`` is then the domestic use).
    meta : TableMeta
    """

    products: tuple[str, ...]
    industries: tuple[str, ...]
    supply: pd.DataFrame
    use: pd.DataFrame
    final_demand: pd.DataFrame
    value_added: pd.DataFrame
    imports_use: pd.DataFrame | None = None
    meta: TableMeta = field(default_factory=TableMeta)
    product_names: tuple[str, ...] = ()
    industry_names: tuple[str, ...] = ()

    @classmethod
    def from_arrays(
        cls,
        supply: Any,
        use: Any,
        final_demand: Any = None,
        value_added: Any = None,
        products: Any = None,
        industries: Any = None,
        *,
        imports_use: Any = None,
        product_names: Any = None,
        industry_names: Any = None,
        **meta: Any,
    ) -> SupplyUseTable:
        """Build from arrays; both matrices products × industries.

        Parameters
        ----------
        supply, use : array-like, shape (p, k)
        final_demand : array-like, shape (p,) or (p, m), optional
        value_added : array-like, shape (k,) or (r, k), optional
        products, industries : sequence of str, optional
            Codes (default ``P1…``, ``I1…``).
        imports_use : array-like, shape (p, k), optional
        **meta
            Fields of :class:`~io_clusters.table.TableMeta`.
        """
        S = np.asarray(supply, dtype="float64")
        U = np.asarray(use, dtype="float64")
        if S.ndim != 2 or U.shape != S.shape:
            raise LayoutError(
                f"supply {S.shape} and use {U.shape} must be matrices of the same shape "
                "(products × industries)"
            )
        p, k = S.shape
        prods, inds = _codes(products, "P", p), _codes(industries, "I", k)
        if len(prods) != p or len(inds) != k:
            raise LayoutError(
                f"{len(prods)} product and {len(inds)} industry codes for a {p}×{k} table"
            )
        pi, ii = pd.Index(prods, name="product"), pd.Index(inds, name="industry")
        imp = None
        if imports_use is not None:
            imp = pd.DataFrame(np.asarray(imports_use, dtype="float64"), index=pi, columns=ii)
        meta_obj = meta.pop("meta", None) or TableMeta(**meta)
        return cls(
            products=prods,
            industries=inds,
            supply=pd.DataFrame(S, index=pi, columns=ii),
            use=pd.DataFrame(U, index=pi, columns=ii),
            final_demand=_final_demand_frame(final_demand, pi),
            value_added=_value_added_frame(value_added, ii),
            imports_use=imp,
            meta=meta_obj,
            product_names=tuple(product_names) if product_names is not None else prods,
            industry_names=tuple(industry_names) if industry_names is not None else inds,
        )

    @property
    def q(self) -> np.ndarray:
        """Output by product, S·1."""
        return self.supply.to_numpy().sum(axis=1)

    @property
    def g(self) -> np.ndarray:
        """Output by industry, 1'S."""
        return self.supply.to_numpy().sum(axis=0)


def _codes(given: Any, prefix: str, n: int) -> tuple[str, ...]:
    """Return the given codes as text, or ``prefix1…prefixn`` when none are given."""
    return tuple(
        str(c) for c in (given if given is not None else [f"{prefix}{i + 1}" for i in range(n)])
    )


def _final_demand_frame(final_demand: Any, pi: pd.Index) -> pd.DataFrame:
    """Return final demand as a products × categories frame (no columns when None)."""
    if final_demand is None:
        return pd.DataFrame(index=pi, dtype="float64")
    if isinstance(final_demand, pd.DataFrame):
        return pd.DataFrame(
            final_demand.to_numpy(dtype="float64"), index=pi, columns=final_demand.columns
        )
    arr = np.asarray(final_demand, dtype="float64")
    arr = arr.reshape(len(pi), -1)
    cols = ["final_demand"] if arr.shape[1] == 1 else [f"f{j + 1}" for j in range(arr.shape[1])]
    return pd.DataFrame(arr, index=pi, columns=cols)


def _value_added_frame(value_added: Any, ii: pd.Index) -> pd.DataFrame:
    """Return value added as a components × industries frame (no rows when None)."""
    if value_added is None:
        return pd.DataFrame(columns=ii, dtype="float64")
    if isinstance(value_added, pd.DataFrame):
        return pd.DataFrame(
            value_added.to_numpy(dtype="float64"), index=value_added.index, columns=ii
        )
    arr = np.asarray(value_added, dtype="float64").reshape(-1, len(ii))
    idx = ["value_added"] if arr.shape[0] == 1 else [f"v{r + 1}" for r in range(arr.shape[0])]
    return pd.DataFrame(arr, index=idx, columns=ii)


def validate_sut(sut: SupplyUseTable) -> ValidationReport:
    """Check the identities of a supply-use table and report every finding.

    Supply = use by product; inputs + value added = output by industry; finite,
    non-negative blocks. Findings name the block, the product or industry and the cell.
    What the reader found (``meta.issues``: text not in UTF-8, labels cleaned of
    control characters, cells marked not available …) is reported as warnings.
    """
    f: list[Finding] = [
        *(Finding(i.check, "warning", i.message, cells=i.cells) for i in sut.meta.issues),
        *_block_findings("supply", sut.supply),
        *_block_findings("use", sut.use),
    ]
    if any(x.severity == "error" for x in f):
        return ValidationReport(sut.meta.table_id, tuple(f))
    q, g = sut.q, sut.g
    if sut.final_demand.shape[1] == 0:
        f.append(Finding("product_balance", "info", "not checked: no final demand"))
    else:
        uses = sut.use.to_numpy().sum(axis=1) + sut.final_demand.to_numpy().sum(axis=1)
        f.append(
            _balance_finding(
                "product_balance",
                uses,
                q,
                sut.products,
                "use + final demand vs supply, by product",
            )
        )
    if sut.value_added.shape[0] == 0:
        f.append(Finding("industry_balance", "info", "not checked: no value added"))
    else:
        inputs = (
            sut.use.to_numpy().sum(axis=0)
            + sut.value_added.to_numpy().sum(axis=0)
            + (0 if sut.imports_use is None else sut.imports_use.to_numpy().sum(axis=0))
        )
        f.append(
            _balance_finding(
                "industry_balance",
                inputs,
                g,
                sut.industries,
                "inputs + value added vs output, by industry",
            )
        )
    zero = [c for c, v in zip(sut.industries, g, strict=True) if v == 0]
    if zero:
        f.append(Finding("zero_output", "warning", f"industries with no output: {', '.join(zero)}"))
    return ValidationReport(sut.meta.table_id, tuple(f))


def _block_findings(block: str, frame: pd.DataFrame) -> list[Finding]:
    """Return the NaN/infinite and negative-value findings of one block."""
    f = []
    arr = frame.to_numpy()
    for check, mask, what in (
        ("finite", ~np.isfinite(arr), "NaN/infinite value(s)"),
        ("negative_flows", arr < 0, "negative value(s)"),
    ):
        bad = np.argwhere(mask)
        if len(bad):
            f.append(
                Finding(
                    check,
                    "error",
                    f"{len(bad)} {what} in the {block} block, e.g. product "
                    f"{frame.index[bad[0][0]]}, industry {frame.columns[bad[0][1]]}",
                    cells=tuple(
                        f"{block}[{frame.index[i]},{frame.columns[j]}]" for i, j in bad[:10]
                    ),
                )
            )
    return f


def _balance_finding(
    name: str, lhs: np.ndarray, rhs: np.ndarray, labels: tuple[str, ...], what: str
) -> Finding:
    """Return the worst relative imbalance between ``lhs`` and ``rhs`` as a finding."""
    pos = rhs > 0
    rel = np.zeros_like(rhs)
    rel[pos] = np.abs(lhs[pos] - rhs[pos]) / rhs[pos]
    k = int(np.argmax(rel)) if len(rel) else 0
    sev: Severity = (
        "info" if rel[k] <= BALANCE_OK else "warning" if rel[k] <= BALANCE_ERROR else "error"
    )
    return Finding(
        name,
        sev,
        f"{what}: worst {labels[k]} with relative error {rel[k]:.3g}",
        (labels[k],),
        value=float(rel[k]),
    )


def _inv(M: np.ndarray, what: str) -> np.ndarray:
    if M.shape[0] != M.shape[1]:
        raise AnalysisError(
            f"{what} needs a square supply matrix (as many products as industries); it is "
            f"{M.shape[0]}×{M.shape[1]} — use model B or D"
        )
    try:
        out = np.linalg.inv(M)
    except np.linalg.LinAlgError as exc:
        raise AnalysisError(
            f"{what}: the supply matrix is singular ({exc}); use model B or D"
        ) from exc
    if not np.isfinite(out).all() or np.linalg.cond(M) > 1e12:
        raise AnalysisError(f"{what}: the supply matrix is ill-conditioned; use model B or D")
    return out


def to_symmetric(sut: SupplyUseTable, model: str = "D", *, negatives: str = "report") -> IOTable:
    """Transform a supply-use table into a symmetric input-output table.

    Parameters
    ----------
    sut : SupplyUseTable
    model : {"A", "B", "C", "D"}
        See the module docstring (Eurostat 2008, ch. 11). Default D, the model the
        Banco Central de Chile states for its tables.
    negatives : {"report", "zero"}
        Negative flows (model A): keep and report them (validation flags them), or set
        them to zero (noted, with the resulting imbalance).

    Returns
    -------
    IOTable
        Product × product (A, B) or industry × industry (C, D); ``meta.notes`` records
        the model and any negative flows.
    """
    if model not in MODELS:
        raise OptionError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if negatives not in ("report", "zero"):
        raise OptionError("negatives must be 'report' or 'zero'")
    _check_outputs(sut)
    notes = [f"symmetric table from supply and use tables, Eurostat (2008) ch. 11 model {model}"]
    b = _transform(sut, model)
    Z, msg = _negative_flows(b.Z, sut, b.codes, model, negatives)
    if msg is not None:
        notes.append(msg)
        warnings.warn(msg, DataWarning, stacklevel=2)
    idx = pd.Index(b.codes, name="code")
    va_frame = (
        pd.DataFrame(b.va, index=sut.value_added.index, columns=idx)
        if b.va.size
        else pd.DataFrame(columns=idx, dtype="float64")
    )
    meta = replace(
        sut.meta,
        table_id=slug(f"{sut.meta.table_id}-model-{model}"),
        layout=f"{sut.meta.layout}+model-{model}",
        notes=(*sut.meta.notes, *notes),
        z_origin=None,
        isic=None,
    )
    return IOTable(
        codes=tuple(b.codes),
        names=tuple(b.names),
        Z=pd.DataFrame(Z, index=idx, columns=idx),
        x=pd.Series(b.x, index=idx),
        final_demand=pd.DataFrame(b.fd, index=idx, columns=sut.final_demand.columns),
        value_added=va_frame,
        imports=None if b.imports is None else pd.Series(b.imports, index=idx),
        meta=meta,
    )


def _check_outputs(sut: SupplyUseTable) -> None:
    """Refuse products or industries with no output (their coefficients are undefined)."""
    q, g = sut.q, sut.g
    if (q <= 0).any() or (g <= 0).any():
        zero = [c for c, v in zip(sut.products, q, strict=True) if v <= 0] + [
            c for c, v in zip(sut.industries, g, strict=True) if v <= 0
        ]
        raise AnalysisError(
            f"products or industries with no output: {', '.join(zero)}; drop them first"
        )


@dataclass(frozen=True, slots=True)
class _Blocks:
    """The symmetric table's blocks as arrays, before they become an :class:`IOTable`."""

    Z: np.ndarray
    fd: np.ndarray
    x: np.ndarray
    va: np.ndarray
    imports: np.ndarray | None
    codes: tuple[str, ...]
    names: tuple[str, ...]


def _transform(sut: SupplyUseTable, model: str) -> _Blocks:
    """Return the blocks of model A/B (product × product) or C/D (industry × industry)."""
    S = sut.supply.to_numpy()
    U = sut.use.to_numpy()
    Y = sut.final_demand.to_numpy()
    W = sut.value_added.to_numpy()
    Mi = None if sut.imports_use is None else sut.imports_use.to_numpy()
    q, g = sut.q, sut.g
    if model in ("A", "B"):
        T = _inv(S, f"model {model}") @ np.diag(q) if model == "A" else np.diag(1 / g) @ S.T
        return _Blocks(
            Z=U @ T,
            fd=Y,
            x=q,
            va=W @ T if W.size else W.reshape(0, len(q)),
            imports=(np.ones(U.shape[0]) @ Mi @ T) if Mi is not None else None,
            codes=sut.products,
            names=sut.product_names,
        )
    T = np.diag(g) @ _inv(S, f"model {model}") if model == "C" else S.T @ np.diag(1 / q)
    return _Blocks(
        Z=T @ U,
        fd=T @ Y if Y.size else np.zeros((len(g), 0)),
        x=g,
        va=W,
        imports=(np.ones(U.shape[0]) @ Mi) if Mi is not None else None,
        codes=sut.industries,
        names=sut.industry_names,
    )


def _negative_flows(
    Z: np.ndarray, sut: SupplyUseTable, codes: tuple[str, ...], model: str, negatives: str
) -> tuple[np.ndarray, str | None]:
    """Return Z (negatives zeroed when asked) and the note on negative flows, if any."""
    neg = np.argwhere(Z < -1e-12 * max(1.0, float(np.abs(Z).max())))
    if not len(neg):
        return Z, None
    S = sut.supply.to_numpy()
    secondary = [sut.industries[j] for j in range(S.shape[1]) if (S[:, j] > 0).sum() > 1]
    pairs = ", ".join(f"({codes[i]}, {codes[j]})" for i, j in neg[:10])
    msg = (
        f"model {model} gives {len(neg)} negative flow(s) at {pairs}; industries with "
        f"secondary production: {', '.join(secondary) or 'none'}"
    )
    if negatives == "zero":
        lost = float(-Z[Z < 0].sum())
        Z = np.where(Z < 0, 0.0, Z)
        msg += f"; set to zero (the table no longer balances by {lost:.6g})"
    else:
        msg += (
            "; options: negatives='zero', or model B/D (industry technology / fixed "
            "product sales structure)"
        )
    return Z, msg
