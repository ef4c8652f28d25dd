"""Similarity between sectors, from the intermediate-flow matrix Z.

Three measures, all symmetric n×n matrices with a unit diagonal:

``correlation`` — Czamanski (1974); Czamanski & Ablas (1979); Feser & Bergman (2000,
    *Regional Studies* 34(1)). With purchase shares X = Z diag(1'Z)⁻¹ (column l is the
    input profile of l) and sales shares Y = diag(Z1)⁻¹ Z (row l is the output
    profile of l), the similarity of l and m is the maximum of the four Pearson
    correlations r(xₗ, xₘ), r(yₗ, yₘ), r(xₗ, yₘ), r(yₗ, xₘ) over the n positions of
    the profiles. Self-deliveries are included, as in Feser & Bergman; a profile with
    zero variance correlates 0 with everything. ``positions`` restricts the profiles
    to some positions: :func:`io_clusters.detect_clusters` leaves the service sectors
    out of the vectors (not only out of the seeds). Services buy from and sell to
    everyone, so over all positions two unrelated manufactures look alike through
    their common service suppliers and buyers: on CEPAL's 2011 table for Peru,
    beverages (s09) and medical instruments (s29) correlate at 0.975 over all 39
    positions and at −0.01 over the 33 goods positions, while textiles–apparel
    (0.90 → 0.95) and non-energy mining–non-ferrous metals (0.74 → 0.79) keep their
    similarity. (Pearson correlation does not depend on the scale of a vector, so it
    does not matter whether the shares are taken of all or of goods inputs only.)
``flow`` — direct flow strength (Hoen 2002, *ESR* 14(2); Oosterhaven, Eding & Stelder
    2001, *Regional Studies* 35(9)): the largest of the shares of the bilateral flows
    l→m and m→l in the seller's intermediate sales or the buyer's intermediate
    purchases. Self-deliveries are left out of both numerators and denominators, so a
    sector's own consumption does not dilute its links with others.
``combined`` (default) — the element-wise maximum of the two. Profile similarity alone
    misses the resource chain "a primary sector sells most of its output to one
    processor" (Hoen's critique: similar is not linked) — the resource-based complexes
    Torres Zorrilla (2003) found in Peru — while flow strength alone misses sectors
    that buy from the same suppliers without trading with each other. A pair is
    similar when either its profiles match or a large share of one's intermediate
    trade goes to the other. Both parts are on [0, 1] (negative correlations are
    clipped to 0), so a share of 0.6 and a correlation of 0.6 count the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import OptionError

MEASURES = ("combined", "correlation", "flow")


def _standardise_inplace(P: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Centre and scale the columns of P (positions × sectors) to unit (weighted) norm.

    Works in place (P is a private temporary); columns with zero variance become zero,
    so their correlation with anything is 0.
    """
    if w is None:
        mu = P.mean(axis=0)
        P -= mu
        norm = np.sqrt(np.einsum("ij,ij->j", P, P))
    else:
        mu = (w @ P) / w.sum()
        P -= mu
        P *= np.sqrt(w)[:, None]
        norm = np.sqrt(np.einsum("ij,ij->j", P, P))
    scale = np.abs(mu) * 1e-12
    ok = norm > np.maximum(scale, 1e-300)
    inv = np.zeros_like(norm)
    inv[ok] = 1.0 / norm[ok]
    P *= inv
    return P


def shares(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, Y): purchase shares by column and sales shares by row of Z.

    Zero column (row) totals give zero profiles.
    """
    col = Z.sum(axis=0)
    row = Z.sum(axis=1)
    X = np.divide(Z, col[None, :], out=np.zeros_like(Z), where=col[None, :] != 0)
    Y = np.divide(Z, row[:, None], out=np.zeros_like(Z), where=row[:, None] != 0)
    return X, Y


def max_correlation(
    Z: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    dtype: Any = np.float64,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """Czamanski / Feser–Bergman maximum of four correlations; shape (n, n).

    Parameters
    ----------
    Z : ndarray, shape (n, n)
        Intermediate flows (any unit).
    weights : ndarray, shape (n,), optional
        Frequency weights of the profile positions (bootstrap resampling of
        positions); None weighs every position once.
    dtype : numpy dtype, default float64
        Precision of the three matrix products (float32 halves their cost; the
        bootstrap may use it, the reported similarities never do).
    positions : ndarray of bool, shape (n,), optional
        Profile positions to keep (default: all). ``weights`` are over all n positions;
        those outside ``positions`` are ignored.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric, diagonal 1, values in [-1, 1].

    Notes
    -----
    Cost: three n×n matrix products (r(x,x), r(y,y), r(x,y); r(y,x) is the transpose
    of r(x,y)) plus O(n²) work, with every temporary updated in place.
    """
    X, Y = shares(np.asarray(Z, dtype="float64"))
    Yt = np.ascontiguousarray(Y.T)
    if positions is not None:
        positions = np.asarray(positions, dtype=bool)
        X, Yt = X[positions], Yt[positions]
        weights = None if weights is None else np.asarray(weights)[positions]
    Xs = _standardise_inplace(X, weights).astype(dtype, copy=False)  # column l: input profile
    Ys = _standardise_inplace(Yt, weights).astype(dtype, copy=False)
    del X, Y, Yt
    M = Xs.T @ Xs
    R = Ys.T @ Ys
    np.maximum(M, R, out=M)
    np.matmul(Xs.T, Ys, out=R)  # r(x_l, y_m)
    np.maximum(M, R, out=M)
    np.maximum(M, R.T, out=M)
    del R
    M = M.astype(np.float64, copy=False)
    np.fill_diagonal(M, 1.0)
    np.clip(M, -1.0, 1.0, out=M)
    return M


def flow_strength(Z: np.ndarray) -> np.ndarray:
    """Symmetrised direct flow strength (Hoen 2002; Oosterhaven et al. 2001); shape (n, n).

    s_lm = max(z_lm / Σ_{k≠m} z_km, z_lm / Σ_{k≠l} z_lk, z_ml / Σ_{k≠l} z_kl,
    z_ml / Σ_{k≠m} z_mk), diagonal 1, values in [0, 1].
    """
    Zo = np.array(Z, dtype="float64")
    np.fill_diagonal(Zo, 0.0)
    X, Y = shares(Zo)  # share in buyer's purchases, in seller's sales
    del Zo
    np.maximum(X, Y, out=X)
    np.maximum(X, X.T, out=Y)
    np.fill_diagonal(Y, 1.0)
    return Y


def similarity(
    Z: np.ndarray,
    measure: str = "combined",
    weights: np.ndarray | None = None,
    *,
    dtype: Any = np.float64,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """Return the similarity matrix of ``measure`` (see the module docstring).

    ``positions`` (bool, shape (n,)) restricts the correlation profiles; the flow part
    always uses every flow.
    """
    if measure == "correlation":
        return max_correlation(Z, weights, dtype=dtype, positions=positions)
    if measure == "flow":
        return flow_strength(Z)
    if measure == "combined":
        M = max_correlation(Z, weights, dtype=dtype, positions=positions)
        np.maximum(M, 0.0, out=M)
        np.maximum(M, flow_strength(Z), out=M)
        return M
    raise OptionError(f"unknown similarity {measure!r}; choose one of {', '.join(MEASURES)}")
