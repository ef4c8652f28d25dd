"""Similarity between sectors, from the intermediate-flow matrix Z.

Three measures, all symmetric n×n matrices with a unit diagonal:

``correlation`` — Czamanski (1974); Czamanski & Ablas (1979); Feser & Bergman (2000,
    *Regional Studies* 34(1)). With purchase shares X = Z diag(1'Z)⁻¹ (column l is the
    input profile of l) and sales shares Y = diag(Z1)⁻¹ Z (row l is the output
    profile of l), the similarity of l and m is the maximum of the four Pearson
    correlations r(xₗ, xₘ), r(yₗ, yₘ), r(xₗ, yₘ), r(yₗ, xₘ) over the n positions of
    the profiles. The full vectors are used (self-deliveries included), as in Feser &
    Bergman; a profile with zero variance correlates 0 with everything.
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

import numpy as np

from .errors import OptionError

MEASURES = ("combined", "correlation", "flow")


def _standardise(P: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Centre and scale the columns of P (positions × sectors) to unit weighted norm.

    Columns with zero variance become zero (their correlation with anything is 0).
    """
    if w is None:
        mu = P.mean(axis=0)
        C = P - mu
        norm = np.sqrt((C * C).sum(axis=0))
    else:
        W = w.sum()
        mu = (w @ P) / W
        C = P - mu
        norm = np.sqrt(w @ (C * C))
        C = C * np.sqrt(w)[:, None]
    ok = norm > 1e-12 * np.maximum(np.abs(mu), 1e-300)
    out = np.zeros_like(C)
    out[:, ok] = C[:, ok] / norm[ok]
    return out


def shares(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, Y): purchase shares by column and sales shares by row of Z.

    Zero column (row) totals give zero profiles.
    """
    col = Z.sum(axis=0)
    row = Z.sum(axis=1)
    X = np.divide(Z, col[None, :], out=np.zeros_like(Z), where=col[None, :] != 0)
    Y = np.divide(Z, row[:, None], out=np.zeros_like(Z), where=row[:, None] != 0)
    return X, Y


def max_correlation(Z: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Czamanski / Feser–Bergman maximum of four correlations; shape (n, n).

    Parameters
    ----------
    Z : ndarray, shape (n, n)
        Intermediate flows (any unit).
    weights : ndarray, shape (n,), optional
        Frequency weights of the profile positions (bootstrap resampling of
        positions); None weighs every position once.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric, diagonal 1, values in [-1, 1].
    """
    X, Y = shares(np.asarray(Z, dtype="float64"))
    Xs = _standardise(X, weights)  # column l = input profile of l
    Ys = _standardise(Y.T, weights)  # column l = output profile of l
    Rxx = Xs.T @ Xs
    Ryy = Ys.T @ Ys
    Rxy = Xs.T @ Ys  # r(x_l, y_m)
    M = np.maximum(np.maximum(Rxx, Ryy), np.maximum(Rxy, Rxy.T))
    np.fill_diagonal(M, 1.0)
    return np.clip(M, -1.0, 1.0)


def flow_strength(Z: np.ndarray) -> np.ndarray:
    """Symmetrised direct flow strength (Hoen 2002; Oosterhaven et al. 2001); shape (n, n).

    s_lm = max(z_lm / Σ_{k≠m} z_km, z_lm / Σ_{k≠l} z_lk, z_ml / Σ_{k≠l} z_kl,
    z_ml / Σ_{k≠m} z_mk), diagonal 1, values in [0, 1].
    """
    Zo = np.array(Z, dtype="float64")
    np.fill_diagonal(Zo, 0.0)
    X, Y = shares(Zo)  # share in buyer's purchases, in seller's sales
    S = np.maximum(X, Y)
    S = np.maximum(S, S.T)
    np.fill_diagonal(S, 1.0)
    return S


def similarity(
    Z: np.ndarray, measure: str = "combined", weights: np.ndarray | None = None
) -> np.ndarray:
    """Return the similarity matrix of ``measure`` (see the module docstring)."""
    if measure == "correlation":
        return max_correlation(Z, weights)
    if measure == "flow":
        return flow_strength(Z)
    if measure == "combined":
        return np.maximum(np.clip(max_correlation(Z, weights), 0.0, 1.0), flow_strength(Z))
    raise OptionError(f"unknown similarity {measure!r}; choose one of {', '.join(MEASURES)}")
