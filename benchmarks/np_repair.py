"""numpy/scipy nearest-correlation repairs for the benchmarks' baselines.

The same two algorithms as ``cofail_jax._src.repair`` (Higham's alternating projections
with Dykstra's correction, and the Qi-Sun / Borsdorf-Higham dual Newton method with a
Jacobi-preconditioned CG inner solve and Armijo line search), written the
straightforward way in numpy with LAPACK's ``eigh``, so that a baseline does the same
repair to the same tolerance as the JAX side. Not part of the library.
"""

from __future__ import annotations

import numpy as np


def higham(a, *, tol=1e-10, max_iter=1000, eps=0.0):
    """(nearest correlation matrix, iterations); stops on relative change <= tol."""
    a = (a + a.T) / 2
    y = a.copy()
    ds = np.zeros_like(a)
    x = a
    it = 0
    for it in range(1, max_iter + 1):
        r = y - ds
        lam, v = np.linalg.eigh(r)
        x = (v * np.maximum(lam, eps)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        delta = np.linalg.norm(y_new - y) / np.linalg.norm(y)
        y = y_new
        if delta <= tol:
            break
    return _unit_diag(x), it


def _unit_diag(x):
    d = np.sqrt(np.diag(x))
    y = x / d[:, None] / d[None, :]
    y = (y + y.T) / 2
    np.fill_diagonal(y, 1.0)
    return y


def newton(a, *, tol=1e-10, max_iter=100, eps=0.0, y0=None, cg_max_iter=200):
    """(nearest correlation matrix, Newton steps, dual vector); stops on
    ||diag(X) - 1||_2 <= tol."""
    a = (a + a.T) / 2
    k = a.shape[0]
    g = a - eps * np.eye(k)
    b = np.full(k, 1.0 - eps)
    y = np.zeros(k) if y0 is None else np.array(y0, float)

    def evaluate(y):
        lam, p = np.linalg.eigh(g + np.diag(y))
        lp = np.maximum(lam, 0)
        return lam, p, (p * p) @ lp - b, 0.5 * lp @ lp - b @ y

    lam, p, f, theta = evaluate(y)
    it = 0
    while it < max_iter and np.linalg.norm(f) > tol:
        pos = lam > 0
        lp = np.maximum(lam, 0)
        mixed = pos[:, None] != pos[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            om = np.where(pos[:, None] & pos[None, :], 1.0,
                          np.where(mixed, (lp[:, None] - lp[None, :]) /
                                   (lam[:, None] - lam[None, :]), 0.0))
        q = p * p
        c = np.maximum(np.sum((q @ om) * q, axis=1), 1e-10)
        nf = np.linalg.norm(f)
        # Jacobi-preconditioned CG on V d = -F
        d = np.zeros(k)
        r = -f
        z = r / c
        pd = z.copy()
        rz = r @ z
        for _ in range(cg_max_iter):
            if np.linalg.norm(r) <= min(1e-2, nf) * nf:
                break
            w = np.sum((p @ (om * ((p.T * pd) @ p))) * p, axis=1)
            pw = pd @ w
            if pw <= 0:
                break
            alpha = rz / pw
            d += alpha * pd
            r -= alpha * w
            z = r / c
            rz_new = r @ z
            pd = z + (rz_new / rz) * pd
            rz = rz_new
        slope = f @ d
        if slope >= 0:
            d, slope = -f, -(f @ f)
        slack = 64 * np.finfo(float).eps * (abs(theta) + 1)
        for j in range(30):
            alpha = 0.5 ** j
            out = evaluate(y + alpha * d)
            if out[3] - theta <= 1e-4 * alpha * slope + slack:
                break
        y = y + alpha * d
        lam, p, f, theta = out
        it += 1
    s = np.maximum(lam, 0) + eps
    return _unit_diag((p * s) @ p.T), it, y
