#!/usr/bin/env bash
# `ceq map` on many splice rows: data/splices.csv's 24 rows (39 columns) repeated under new names to
# ROWS rows, mapped through a law without refits, and ROWS/40 of them through a law with 1000
# bootstrap refits (each row inverted once per refit), and ROWS rows each of its own host (the
# `model` column renamed too: grouping by host must stay linear). Prints wall time and peak RSS of each; with
# a second binary (OTHER=path/to/ceq), the same for it, side by side in one run.
# Usage: benches/map_rows.sh [ROWS]   (from the repository root, after cargo build --release)
set -euo pipefail
rows=${1:-100000}
ceq=${CEQ:-./target/release/ceq}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$rows" "$tmp" <<'PY'
import csv, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
rows = list(csv.reader(open("data/splices.csv")))
head, body = rows[0], rows[1:]
i, m = head.index("name"), head.index("model")
for name, count in (("many.csv", n), ("boot.csv", n // 40), ("hosts.csv", n)):
    with open(f"{tmp}/{name}", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for k in range(count):
            r = list(body[k % len(body)])
            r[i] = f"{r[i]}-{k}"
            if name == "hosts.csv":
                r[m] = f"{r[m]}-{k}"
            w.writerow(r)
PY
"$ceq" fit --checkpoints data/checkpoints.csv --out "$tmp/law.json" >/dev/null 2>&1
"$ceq" fit --checkpoints data/checkpoints.csv --bootstrap 1000 --out "$tmp/boot.json" >/dev/null 2>&1
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); input: $rows rows, $(du -h "$tmp/many.csv" | cut -f1)"
for bin in "$ceq" ${OTHER:+"$OTHER"}; do
  for case in "law.json many.csv $rows rows, no refits" "boot.json boot.csv $((rows / 40)) rows, 1000 refits" \
    "law.json hosts.csv $rows rows of $rows hosts, no refits"; do
    set -- $case
    rm -f "$tmp/out.csv"
    /usr/bin/time -f "$bin: ${*:3}: %e s, peak RSS %M KiB" "$bin" map --law "$tmp/$1" --splices "$tmp/$2" --out "$tmp/out.csv" 2>&1 >/dev/null | tail -1
  done
done
