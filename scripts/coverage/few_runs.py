#!/usr/bin/env python3
"""How often ceq's 90% bootstrap intervals hold the true law when the family has few runs.

Each seed draws a family from the synthetic law (`ceq synth`), keeps K of its model sizes (every
other one), makes each size a run, fits with `--bootstrap 200` (which then resamples whole runs),
maps the synthetic splices and counts the intervals that hold the true value. The true law is
src/synth.rs's, typed in below. Usage:

    python3 scripts/coverage/few_runs.py target/release/ceq 3 40 > scripts/coverage/few_runs_3.txt

Takes about a second per seed.
"""
import csv, json, math, subprocess, sys, tempfile
from pathlib import Path

# src/synth.rs: SynthSpec::default()'s law.
E, A, ALPHA, B, BETA = 1.82, 480.0, 0.347, 2100.0, 0.367
TRUE = {"E": E, "A": A, "B": B, "alpha": ALPHA, "beta": BETA}


def frontier_compute(loss):
    """Compute C at which the compute-optimal model reaches `loss` (C = 6ND)."""
    g = (ALPHA * A / (BETA * B)) ** (1 / (ALPHA + BETA))
    k = A * g ** -ALPHA + B * g ** BETA
    return 6 * ((loss - E) / k) ** (-(ALPHA + BETA) / (ALPHA * BETA))


def main():
    ceq, k, seeds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hits, fractions = {name: [] for name in TRUE}, []
    for seed in range(1, seeds + 1):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            run = lambda *a, **kw: subprocess.run([ceq, *a], check=True, capture_output=True, text=True, **kw)
            run("synth", "--seed", str(seed), "--out-dir", str(d))
            rows = list(csv.DictReader(open(d / "checkpoints.csv")))
            sizes = sorted({float(r["params"]) for r in rows})
            keep = sizes[::2][:k]
            with open(d / "runs.csv", "w") as f:
                f.write("name,run,params,tokens,loss\n")
                for r in rows:
                    if float(r["params"]) in keep:
                        f.write(f"{r['name']},N{r['params']},{r['params']},{r['tokens']},{r['loss']}\n")
            run("fit", "--checkpoints", str(d / "runs.csv"), "--bootstrap", "200", "--seed", str(seed),
                "--out", str(d / "law.json"))
            law = json.load(open(d / "law.json"))
            for name, (lo, hi) in law["bootstrap"]["intervals"].items():
                if name in TRUE:
                    hits[name].append(lo <= TRUE[name] <= hi)
            out = run("map", "--law", str(d / "law.json"), "--splices", str(d / "splices.csv"),
                      "--format", "csv").stdout
            held = []
            for r in csv.DictReader(out.splitlines()):
                truth = frontier_compute(float(r["ce_spliced"])) / frontier_compute(float(r["ce_clean"]))
                lo, hi = r["compute_fraction_lo"], r["compute_fraction_hi"]
                # No interval (too few refits mapped the row) holds nothing.
                held.append(bool(lo and hi) and float(lo) <= truth <= float(hi))
            fractions.append(sum(held) / len(held))
    print(f"{k} runs, {seeds} seeds, --bootstrap 200, nominal 90% intervals")
    for name, h in hits.items():
        p = sum(h) / len(h)
        print(f"{name}: held the truth {p:.2f} ± {math.sqrt(p * (1 - p) / len(h)):.2f}")
    m = sum(fractions) / len(fractions)
    sd = math.sqrt(sum((x - m) ** 2 for x in fractions) / (len(fractions) - 1) / len(fractions))
    print(f"compute_fraction (mean over seeds of the rows held): {m:.2f} ± {sd:.2f}")


main()
