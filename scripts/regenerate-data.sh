#!/usr/bin/env bash
# Regenerates data/ from the default study: `ceq study` trains the family and the SAEs on the
# language with a known floor, measures, fits and maps them; data/ keeps its tables and manifests
# (not the weights). About 6 minutes on 2 cores. Same seed, same machine: the same bytes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --manifest-path "$repo/Cargo.toml" -- study --seed "${SEED:-0}" --out "$work/study"
for f in study.json family.csv saes.csv checkpoints.csv checkpoints.per_seq.npy \
  checkpoints.per_seq_n.npy splices.csv splices.per_seq.npy splices.per_seq_n.npy; do
  cp "$work/study/$f" "$repo/data/$f"
done
echo "data/ regenerated from $work/study (seed ${SEED:-0})"
