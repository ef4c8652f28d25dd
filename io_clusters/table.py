"""The input-output table data model.

Symbols follow Miller & Blair (2009, ch. 2): ``Z`` intermediate flows (row *i* sells to
column *j*), ``x`` gross output, ``f`` final demand, ``v`` primary inputs. Coefficient
matrices and inverses are computed in :mod:`io_clusters.linkages`, not here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .cellref import cell_ref
from .errors import DuplicateCodeError, LayoutError


@dataclass(frozen=True, slots=True)
class ReadIssue:
    """Something a reader found that the user must see: validation reports it as a warning.

    Attributes
    ----------
    check : str
        Name of the finding (``"not_available"``, ``"negative_flows"``,
        ``"control_characters"``, ``"table_sheet"``, ``"encoding"``, …).
    message : str
        What was found, where, and what was done about it.
    cells : tuple of str
        Spreadsheet references (``"Sheet!D14"``) or CSV positions concerned.
    """

    check: str
    message: str
    cells: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the issue as a JSON-serialisable dict."""
        return {"check": self.check, "message": self.message, "cells": list(self.cells)}


@dataclass(frozen=True, slots=True)
class TableMeta:
    """Provenance and description of a table.

    Attributes
    ----------
    table_id : str
        Short identifier used for output directories (``"per-2011-cepal-lac"``).
    country : str or None
        ISO 3166 alpha-3 code.
    year : int or None
        Reference year.
    units : str
        Units of all flows, e.g. ``"millones de pesos de 2008"``.
    source : str or None
        Path of the file read, or ``None`` for tables built in code.
    sha256 : str or None
        SHA-256 of the file read.
    layout : str
        Name of the layout used (``"bcch-mip"``, ``"spec"``, ``"arrays"``, …).
    domestic : bool or None
        True when Z holds domestic flows only (imports as a separate row).
    sheet : str or None
        Sheet (or CSV file name) holding Z, for cell references in messages.
    z_origin : tuple of int or None
        1-based (row, column) of the top-left cell of Z in ``sheet``.
    notes : tuple of str
        Remarks from the reader (e.g. how many empty strings were read as zero).
    citation : str or None
        Published source of the figures.
    isic : tuple of tuple of str, optional
        ISIC Rev.4 codes of each sector, when the file gives them (spec ``isic``
        range, interchange ``isic`` column); otherwise concordances are looked up.
    issues : tuple of ReadIssue
        What the reader found that deserves a warning (cells read as not available,
        labels cleaned of control characters, negligible negatives set to zero, the
        sheet chosen among several …); :func:`io_clusters.validate` reports each one.
    """

    table_id: str = "table"
    country: str | None = None
    year: int | None = None
    units: str = ""
    source: str | None = None
    sha256: str | None = None
    layout: str = "arrays"
    domestic: bool | None = None
    sheet: str | None = None
    z_origin: tuple[int, int] | None = None
    notes: tuple[str, ...] = ()
    citation: str | None = None
    isic: tuple[tuple[str, ...], ...] | None = None
    issues: tuple[ReadIssue, ...] = ()

    def cell_of(self, i: int, j: int) -> str | None:
        """Return the spreadsheet reference of ``Z[i, j]`` (0-based), if known."""
        if self.z_origin is None or self.sheet is None:
            return None
        return f"{self.sheet}!{cell_ref(self.z_origin[0] + i, self.z_origin[1] + j)}"

    def to_dict(self) -> dict[str, Any]:
        """Return the metadata as a JSON-serialisable dict."""
        return {
            "table_id": self.table_id,
            "country": self.country,
            "year": self.year,
            "units": self.units,
            "source": self.source,
            "sha256": self.sha256,
            "layout": self.layout,
            "domestic": self.domestic,
            "sheet": self.sheet,
            "z_origin": list(self.z_origin) if self.z_origin else None,
            "notes": list(self.notes),
            "citation": self.citation,
            "isic": None if self.isic is None else [list(c) for c in self.isic],
            "issues": [i.to_dict() for i in self.issues],
        }


def _frozen_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a private float64 copy (the table owns its data)."""
    return frame.astype("float64").copy()


def _frozen_series(series: pd.Series) -> pd.Series:
    """Return a private float64 copy (the table owns its data)."""
    return series.astype("float64").copy()


def slug(text: str) -> str:
    """Return a lower-case, file-name-safe identifier made of ``[a-z0-9-]``."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "table"


@dataclass(frozen=True, slots=True)
class IOTable:
    """An immutable, labelled input-output table.

    Attributes
    ----------
    codes : tuple of str, length n
        Sector codes, in table order.
    names : tuple of str, length n
        Sector names.
    Z : pandas.DataFrame, shape (n, n)
        Intermediate flows in ``meta.units``; ``Z.loc[i, j]`` = sales of *i* to *j*.
    x : pandas.Series, length n
        Gross output as published (not recomputed), indexed by code.
    final_demand : pandas.DataFrame, shape (n, k)
        Final demand by category (columns), indexed by code; ``k`` may be 0.
    value_added : pandas.DataFrame, shape (m, n)
        Primary inputs other than imported intermediates (value-added components,
        taxes on products, …), one row per category, columns = codes; ``m`` may be 0.
    imports : pandas.Series or None, length n
        Imported intermediate inputs by purchasing sector, where the table has them.
    meta : TableMeta
        Provenance: units, year, country, source file and hash, layout.

    Notes
    -----
    The dataclass is frozen and holds private float64 copies of the data it was given;
    derive new tables with :meth:`without` or :func:`dataclasses.replace` rather than
    editing the frames in place.
    """

    codes: tuple[str, ...]
    names: tuple[str, ...]
    Z: pd.DataFrame
    x: pd.Series
    final_demand: pd.DataFrame
    value_added: pd.DataFrame
    imports: pd.Series | None = None
    meta: TableMeta = field(default_factory=TableMeta)

    def __post_init__(self) -> None:
        n = len(self.codes)
        if len(set(self.codes)) != n:
            dupes = sorted(c for c, k in Counter(self.codes).items() if k > 1)
            raise DuplicateCodeError(f"duplicate sector codes: {', '.join(dupes)}")
        if len(self.names) != n:
            raise LayoutError(f"{len(self.names)} names for {n} sector codes")
        idx = pd.Index(self.codes, name="code")
        if self.Z.shape != (n, n):
            raise LayoutError(
                f"intermediate block Z is {self.Z.shape[0]}×{self.Z.shape[1]}, "
                f"expected {n}×{n} (one row and one column per sector)"
            )
        if len(self.x) != n:
            raise LayoutError(f"output vector has {len(self.x)} values for {n} sectors")
        if self.final_demand.shape[0] != n:
            raise LayoutError(f"final demand has {self.final_demand.shape[0]} rows for {n} sectors")
        if self.value_added.shape[1] != n:
            raise LayoutError(
                f"value added has {self.value_added.shape[1]} columns for {n} sectors"
            )
        if self.imports is not None and len(self.imports) != n:
            raise LayoutError(f"imports have {len(self.imports)} values for {n} sectors")
        z = self.Z.set_axis(idx, axis=0).set_axis(idx.rename("code"), axis=1)
        object.__setattr__(self, "Z", _frozen_frame(z))
        object.__setattr__(self, "x", _frozen_series(self.x.set_axis(idx).rename("x")))
        object.__setattr__(self, "final_demand", _frozen_frame(self.final_demand.set_axis(idx)))
        object.__setattr__(
            self, "value_added", _frozen_frame(self.value_added.set_axis(idx, axis=1))
        )
        if self.imports is not None:
            object.__setattr__(
                self, "imports", _frozen_series(self.imports.set_axis(idx).rename("imports"))
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        Z: Any,
        x: Any,
        codes: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
        final_demand: Any = None,
        value_added: Any = None,
        imports: Any = None,
        **meta: Any,
    ) -> IOTable:
        """Build a table from arrays or pandas objects.

        Parameters
        ----------
        Z : array-like, shape (n, n)
            Intermediate flows, rows = selling sectors. A DataFrame's index gives the
            codes when ``codes`` is None.
        x : array-like, shape (n,)
            Gross output.
        codes, names : sequence of str, optional
            Sector codes (default ``"1"``…``"n"``) and names (default: the codes).
        final_demand : array-like, shape (n,) or (n, k), optional
            Final demand; a DataFrame keeps its column names, otherwise columns are
            ``"f1"``… (``"final_demand"`` for a vector).
        value_added : array-like, shape (n,) or (m, n), optional
            Primary inputs; a vector becomes one row named ``"value_added"``.
        imports : array-like, shape (n,), optional
            Imported intermediate inputs by purchasing sector.
        **meta
            Fields of :class:`TableMeta` (``units``, ``year``, ``country``, …).

        Returns
        -------
        IOTable

        Examples
        --------
        >>> from io_clusters import IOTable
        >>> t = IOTable.from_arrays([[150, 500], [200, 100]], [1000, 2000])
        >>> t.codes
        ('1', '2')
        """
        if isinstance(Z, pd.DataFrame):
            if codes is None:
                codes = [str(c) for c in Z.index]
            z_arr = Z.to_numpy(dtype="float64")
        else:
            z_arr = np.asarray(Z, dtype="float64")
        if z_arr.ndim != 2 or z_arr.shape[0] != z_arr.shape[1]:
            raise LayoutError(f"Z must be a square matrix, got shape {z_arr.shape}")
        n = z_arr.shape[0]
        codes = tuple(str(c) for c in (codes if codes is not None else range(1, n + 1)))
        names = tuple(str(s) for s in (names if names is not None else codes))
        idx = pd.Index(codes, name="code")
        x_arr = np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x, dtype="float64")
        if x_arr.shape != (n,):
            raise LayoutError(f"x must have {n} values, got shape {x_arr.shape}")
        fd = _as_columns(final_demand, n, idx, "final_demand", "f")
        va = _as_columns(value_added, n, idx, "value_added", "v", rows_are_categories=True)
        imp = None
        if imports is not None:
            imp_arr = np.asarray(imports, dtype="float64").reshape(-1)
            imp = pd.Series(imp_arr, index=idx)
        meta_obj = meta.pop("meta", None) or TableMeta(**meta)
        return cls(
            codes=codes,
            names=names,
            Z=pd.DataFrame(z_arr, index=idx, columns=idx),
            x=pd.Series(x_arr, index=idx),
            final_demand=fd,
            value_added=va.T,
            imports=imp,
            meta=meta_obj,
        )

    @classmethod
    def from_blocks(
        cls,
        *,
        codes: Sequence[str],
        names: Sequence[str],
        Z: np.ndarray,
        x: np.ndarray,
        final_demand: Mapping[str, np.ndarray] | None = None,
        primary: Mapping[str, np.ndarray] | None = None,
        imports: np.ndarray | None = None,
        meta: TableMeta | None = None,
    ) -> IOTable:
        """Build a table from the blocks a reader extracted (keyword-only).

        Parameters
        ----------
        codes, names : sequence of str, length n
        Z : ndarray, shape (n, n)
            Intermediate flows, rows sell to columns.
        x : ndarray, shape (n,)
            Gross output.
        final_demand : mapping of category to ndarray (n,), optional
        primary : mapping of category to ndarray (n,), optional
            Primary-input rows (value-added components, taxes …).
        imports : ndarray (n,), optional
            Imported intermediate inputs by purchasing sector.
        meta : TableMeta, optional

        Returns
        -------
        IOTable

        Examples
        --------
        >>> import numpy as np
        >>> t = IOTable.from_blocks(
        ...     codes=["a", "b"], names=["A", "B"], Z=np.eye(2), x=np.array([4.0, 5.0])
        ... )
        >>> t.n, list(t.final_demand.columns)
        (2, [])
        """
        idx = pd.Index(list(codes), name="code")
        return cls(
            codes=tuple(codes),
            names=tuple(names),
            Z=pd.DataFrame(Z, index=idx, columns=idx),
            x=pd.Series(x, index=idx),
            final_demand=pd.DataFrame(dict(final_demand or {}), index=idx),
            value_added=pd.DataFrame(dict(primary or {}), index=idx).T,
            imports=None if imports is None else pd.Series(imports, index=idx),
            meta=meta or TableMeta(),
        )

    # ---------------------------------------------------------------------- helpers
    @property
    def n(self) -> int:
        """Number of sectors."""
        return len(self.codes)

    @property
    def name_of(self) -> Mapping[str, str]:
        """Mapping from code to name."""
        return dict(zip(self.codes, self.names, strict=True))

    @property
    def exports(self) -> pd.Series | None:
        """Exports by sector, or ``None`` when the table has none.

        The sum of final-demand columns whose name starts with ``EXP`` or mentions
        exports (``Exportaciones``).
        """
        cols = [
            c
            for c in self.final_demand.columns
            if str(c).upper().startswith("EXP") or "export" in str(c).lower()
        ]
        if not cols:
            return None
        return self.final_demand[cols].sum(axis=1).rename("exports")

    def without(self, drop: Sequence[str]) -> IOTable:
        """Return a copy without the sectors in ``drop`` (rows and columns of Z)."""
        drop_set = set(drop)
        keep = [c for c in self.codes if c not in drop_set]
        pos = [i for i, c in enumerate(self.codes) if c not in drop_set]
        return replace(
            self,
            codes=tuple(keep),
            names=tuple(self.names[i] for i in pos),
            Z=self.Z.loc[keep, keep],
            x=self.x.loc[keep],
            final_demand=self.final_demand.loc[keep],
            value_added=self.value_added.loc[:, keep],
            imports=None if self.imports is None else self.imports.loc[keep],
            meta=replace(
                self.meta,
                z_origin=None,
                isic=None if self.meta.isic is None else tuple(self.meta.isic[i] for i in pos),
            ),
        )

    def summary(self) -> dict[str, Any]:
        """Return headline figures: sector count, totals and the categories present."""
        return {
            "table_id": self.meta.table_id,
            "layout": self.meta.layout,
            "n_sectors": self.n,
            "units": self.meta.units,
            "year": self.meta.year,
            "country": self.meta.country,
            "total_output": float(self.x.sum()),
            "total_intermediate": float(self.Z.to_numpy().sum()),
            "final_demand_categories": [str(c) for c in self.final_demand.columns],
            "primary_input_categories": [str(c) for c in self.value_added.index],
            "has_imports": self.imports is not None,
            "sheet": self.meta.sheet,
            "source": self.meta.source,
            "sha256": self.meta.sha256,
        }


def _as_columns(
    obj: Any,
    n: int,
    idx: pd.Index,
    single_name: str,
    prefix: str,
    *,
    rows_are_categories: bool = False,
) -> pd.DataFrame:
    """Normalise a vector / matrix / frame to an (n, k) frame indexed by code."""
    if obj is None:
        return pd.DataFrame(index=idx, dtype="float64")
    if isinstance(obj, pd.Series):
        return pd.DataFrame({obj.name or single_name: obj.to_numpy(dtype="float64")}, index=idx)
    if isinstance(obj, pd.DataFrame):
        frame = obj.T if rows_are_categories else obj
        if frame.shape[0] != n:
            raise LayoutError(f"{single_name} has {frame.shape[0]} entries for {n} sectors")
        return pd.DataFrame(frame.to_numpy(dtype="float64"), index=idx, columns=frame.columns)
    arr = np.asarray(obj, dtype="float64")
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise LayoutError(f"{single_name} has {arr.shape[0]} values for {n} sectors")
        return pd.DataFrame({single_name: arr}, index=idx)
    if rows_are_categories:
        arr = arr.T
    if arr.shape[0] != n:
        raise LayoutError(f"{single_name} has shape {arr.shape}, expected {n} sectors")
    return pd.DataFrame(arr, index=idx, columns=[f"{prefix}{k + 1}" for k in range(arr.shape[1])])
