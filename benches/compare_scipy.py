#!/usr/bin/env python3
"""ceq vs scipy, side by side in one run on the same machine, data and grid.

Times the 4500-start Chinchilla grid fit: scipy (benches/scipy_fit.py: L-BFGS-B, analytic gradient,
default tolerances; 1 process and 2 processes) against `ceq fit` (the release binary, whole process:
CSV read, fit, output; best of --repeats runs). Checks both reach the same optimum and prints a
Markdown table with the ratios.

Usage (from the repository root, after `cargo build --release`):
    python3 benches/compare_scipy.py [CSV --params-col 'Model Size' --compute-col 'Training FLOP'
        --drop-highest 5]
With no CSV it uses Epoch's Chinchilla points in ../shared when present, else tests/fixtures/synth/checkpoints.csv.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EPOCH = os.path.join(ROOT, "..", "shared", "data", "chinchilla", "svg_extracted_data.csv")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("csv", nargs="?")
    p.add_argument("--params-col")
    p.add_argument("--compute-col")
    p.add_argument("--tokens-col")
    p.add_argument("--drop-highest", type=int)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args()
    if a.csv is None:
        if os.path.exists(EPOCH):
            a.csv, a.params_col, a.compute_col, a.drop_highest = EPOCH, "Model Size", "Training FLOP", 5
        else:
            a.csv, a.params_col, a.tokens_col = os.path.join(ROOT, "tests", "fixtures", "synth", "checkpoints.csv"), "params", "tokens"
    a.drop_highest = a.drop_highest or 0

    cols = ["--params-col", a.params_col or "params"]
    if a.compute_col:
        cols += ["--compute-col", a.compute_col]
    if a.tokens_col:
        cols += ["--tokens-col", a.tokens_col]

    rows = []
    for procs in (1, 2):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "scipy_fit.py"), a.csv, *cols,
             "--drop-highest", str(a.drop_highest), "--procs", str(procs)],
            check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append((f"scipy L-BFGS-B, {procs} process{'es' if procs > 1 else ''}", r["wall_s"], r["best_objective"]))

    ceq = os.path.join(ROOT, "target", "release", "ceq")
    args = [ceq, "fit", "--checkpoints", a.csv, *cols, "--drop-highest", str(a.drop_highest), "--format", "json"]
    best, objective = float("inf"), None
    for _ in range(a.repeats):
        t = time.perf_counter()
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        best = min(best, time.perf_counter() - t)
        objective = json.loads(out)["fit"]["objective"]
    rows.append(("ceq fit (2 threads, whole process)", best, objective))

    print(f"data: {a.csv} (drop {a.drop_highest}); 4500 starts; {os.cpu_count()} cores\n")
    print("| fit | wall s | objective | ceq speed-up |")
    print("|---|---:|---:|---:|")
    for name, wall, obj in rows:
        print(f"| {name} | {wall:.3f} | {obj:.13g} | {wall / best:.0f}x |")
    worst = max(abs(o - objective) for _, _, o in rows)
    print(f"\nlargest objective difference: {worst:.1e}")


if __name__ == "__main__":
    main()
