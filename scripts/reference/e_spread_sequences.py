"""The spread of the fitted floor E when only the eval sequences are resampled (README, "Two
commands"): an independent numpy/scipy check, not ceq's code.

Each of R replicates draws the 512 eval sequences with replacement (the same draw for all 12
checkpoints), recomputes every checkpoint's loss as the position-weighted mean of its per-sequence
losses (data/checkpoints.per_seq.npy, .per_seq_n.npy), and refits L(N, D) = E + A/N^alpha + B/D^beta
by ceq's objective: the Huber (delta = 1e-3) sum over log-loss residuals, in the log-sum-exp form
of Hoffmann et al., by L-BFGS from the full fit's optimum and a grid of other starts. The runs are
kept as they are, so the interval is the sequences' share of `ceq report --token-bootstrap`'s.

    python3 scripts/reference/e_spread_sequences.py > scripts/reference/e_spread_sequences.txt
"""

import csv
import itertools
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

DATA = Path(__file__).resolve().parents[2] / "data"
R, SEED, LEVEL = 300, 0, 0.90

rows = list(csv.DictReader(open(DATA / "checkpoints.csv")))
lnN = np.log([float(r["params"]) for r in rows])
lnD = np.log([float(r["tokens"]) for r in rows])
per_seq = np.load(DATA / "checkpoints.per_seq.npy")
per_seq_n = np.load(DATA / "checkpoints.per_seq_n.npy")


def objective(t, lnL):
    a, b, e, alpha, beta = t
    pred = logsumexp([a - alpha * lnN, b - beta * lnD, np.full_like(lnN, e)], axis=0)
    return huber(1e-3, pred - lnL).sum()


def fit(lnL, starts):
    best = min(
        (minimize(objective, s, args=(lnL,), method="L-BFGS-B",
                  options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000}) for s in starts),
        key=lambda r: r.fun,
    )
    return best.x


grid = [list(s) for s in itertools.product([0, 5, 10, 15], [0, 10, 20], [-1, 0, 0.5], [0.3, 0.8, 1.5], [0.3, 0.8, 1.5])]
loss = (per_seq * per_seq_n).sum(1) / per_seq_n.sum(1)
t_hat = fit(np.log(loss), grid)
print(f"full fit: E = {np.exp(t_hat[2]):.4f} (ceq fit on data/checkpoints.csv: 1.311)")

rng = np.random.default_rng(SEED)
few = [t_hat] + grid[::54]
es = []
for _ in range(R):
    q = rng.integers(0, per_seq.shape[1], per_seq.shape[1])
    l = (per_seq[:, q] * per_seq_n[:, q]).sum(1) / per_seq_n[:, q].sum(1)
    es.append(np.exp(fit(np.log(l), few)[2]))
lo, hi = np.percentile(es, [50 * (1 - LEVEL), 50 * (1 + LEVEL)])
print(f"sequences alone resampled ({R} replicates, seed {SEED}): E {LEVEL:.0%} interval {lo:.3f}-{hi:.3f}")
