#!/usr/bin/env python3
"""Side-by-side speed baseline: the Chinchilla (Hoffmann et al. 2022, App. D.2)
4500-start L-BFGS-B grid fit, done the way Hoffmann / Epoch did it with scipy.

Model (natural log, losses in nats):
    L(N, D) = E + A / N^alpha + B / D^beta
fitted in log-space params x = (a, b, e, alpha, beta), A=exp(a), B=exp(b), E=exp(e):
    r_i = LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i
    objective = sum_i Huber_delta(r_i),  delta = 1e-3
Optimiser: scipy.optimize.minimize(method='L-BFGS-B', jac=True) with scipy's
DEFAULT tolerances, one run per grid start; the lowest objective wins.

Usage:
    python benches/scipy_fit.py CSV --params-col 'Model Size' \
        --compute-col 'Training FLOP' --loss-col loss --drop-highest 5 \
        [--tokens-col COL] [--starts full|N] [--procs 1]

When tokens are absent, D = C / (6 N).  --drop-highest K keeps rows with
loss < sorted(loss)[-K] (Epoch's filter).  Prints one JSON line; wall_s
covers only the optimisation loop (not CSV loading or interpreter start-up),
per_start_ms = wall_s / starts, cpu_ms_per_start = per_start_ms * procs.

Reference (Epoch data, drop 5): objective ~0.0010183, E~1.8172,
alpha~0.34731, beta~0.36717.
"""
import os

# Pin BLAS / OpenMP to one thread per process BEFORE numpy is imported: scipy's
# L-BFGS-B calls BLAS on tiny vectors, and with --procs > 1 the default
# per-process BLAS thread pools oversubscribe the cores (measured ~8x slower
# on a 2-core box).  Override by exporting these variables yourself.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np
import scipy
from scipy.optimize import minimize

DELTA = 1e-3

# Grid of starts, in the order (alpha, beta, e, a, b) -- alpha outermost,
# b innermost.  4500 starts.
GRID_ALPHA = [0.0, 0.5, 1.0, 1.5, 2.0]
GRID_BETA = [0.0, 0.5, 1.0, 1.5, 2.0]
GRID_E = [-1.0, -0.5, 0.0, 0.5, 1.0]
GRID_A = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
GRID_B = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]


def grid_starts():
    """All 4500 starts as log-space vectors (a, b, e, alpha, beta)."""
    out = []
    for alpha, beta, e, a, b in itertools.product(
        GRID_ALPHA, GRID_BETA, GRID_E, GRID_A, GRID_B
    ):
        out.append(np.array([a, b, e, alpha, beta], dtype=float))
    return out


def objective_and_grad(x, ln_n, ln_d, ln_l):
    """Huber objective and its analytic gradient, vectorised over rows."""
    a, b, e, alpha, beta = x
    t1 = a - alpha * ln_n
    t2 = b - beta * ln_d
    t3 = np.full_like(t1, e)
    m = np.maximum(np.maximum(t1, t2), t3)
    w1 = np.exp(t1 - m)
    w2 = np.exp(t2 - m)
    w3 = np.exp(t3 - m)
    s = w1 + w2 + w3
    lse = m + np.log(s)
    r = lse - ln_l
    absr = np.abs(r)
    quad = absr <= DELTA
    f = np.sum(np.where(quad, 0.5 * r * r, DELTA * (absr - 0.5 * DELTA)))
    dh = np.where(quad, r, DELTA * np.sign(r))  # Huber'(r)
    g1 = dh * w1 / s
    g2 = dh * w2 / s
    g3 = dh * w3 / s
    grad = np.array(
        [
            g1.sum(),
            g2.sum(),
            g3.sum(),
            -(g1 * ln_n).sum(),
            -(g2 * ln_d).sum(),
        ]
    )
    return f, grad


_DATA = None


def _init_worker(data):
    global _DATA
    _DATA = data


def _fit_one(x0):
    ln_n, ln_d, ln_l = _DATA
    res = minimize(
        objective_and_grad, x0, args=(ln_n, ln_d, ln_l), method="L-BFGS-B", jac=True
    )
    return float(res.fun), res.x.tolist(), bool(res.success)


def load(path, params_col, loss_col, tokens_col, compute_col):
    n, d, l = [], [], []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            nn = float(row[params_col])
            if tokens_col:
                dd = float(row[tokens_col])
            elif compute_col:
                dd = float(row[compute_col]) / (6.0 * nn)
            else:
                raise SystemExit("need --tokens-col or --compute-col")
            n.append(nn)
            d.append(dd)
            l.append(float(row[loss_col]))
    return np.array(n), np.array(d), np.array(l)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("csv")
    p.add_argument("--params-col", default="Model Size")
    p.add_argument("--compute-col", default=None)
    p.add_argument("--tokens-col", default=None)
    p.add_argument("--loss-col", default="loss")
    p.add_argument("--drop-highest", type=int, default=0)
    p.add_argument("--starts", default="full", help="'full' (4500) or N: first N grid starts")
    p.add_argument("--procs", type=int, default=1)
    args = p.parse_args(argv)

    n, d, l = load(args.csv, args.params_col, args.loss_col, args.tokens_col, args.compute_col)
    rows_in = len(l)
    if args.drop_highest > 0:
        thresh = sorted(l)[-args.drop_highest]
        keep = l < thresh  # Epoch: losses < sorted(losses)[-5]
        n, d, l = n[keep], d[keep], l[keep]
    data = (np.log(n), np.log(d), np.log(l))

    starts = grid_starts()
    if args.starts != "full":
        starts = starts[: int(args.starts)]

    t0 = time.perf_counter()
    if args.procs <= 1:
        _init_worker(data)
        results = [_fit_one(x0) for x0 in starts]
    else:
        chunk = max(1, len(starts) // (args.procs * 8))
        with mp.Pool(args.procs, initializer=_init_worker, initargs=(data,)) as pool:
            results = pool.map(_fit_one, starts, chunksize=chunk)
    wall = time.perf_counter() - t0

    # Lowest objective wins; NaN / non-finite results are skipped.
    best_i = min(
        (i for i, r in enumerate(results) if np.isfinite(r[0])),
        key=lambda i: results[i][0],
    )
    fun, x, _ = results[best_i]
    a, b, e, alpha, beta = x
    out = {
        "wall_s": wall,
        "starts": len(starts),
        "per_start_ms": 1000.0 * wall / len(starts),
        "procs": args.procs,
        "cpu_ms_per_start": 1000.0 * wall * max(1, args.procs) / len(starts),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "rows_in": rows_in,
        "rows_used": int(len(l)),
        "best_start_index": best_i,
        "best_objective": fun,
        "starts_not_converged": sum(1 for r in results if not r[2]),
        "E": float(np.exp(e)),
        "A": float(np.exp(a)),
        "B": float(np.exp(b)),
        "alpha": alpha,
        "beta": beta,
        "log_params": {"a": a, "b": b, "e": e, "alpha": alpha, "beta": beta},
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
