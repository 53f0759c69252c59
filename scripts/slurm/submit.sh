#!/usr/bin/env bash
# Queues a checkpoint family on Slurm: N shards as one job array (eval-family.sbatch), then the merge
# (merge.sbatch) once every shard has succeeded. Prints the two job ids.
#
#   scripts/slurm/submit.sh N MANIFEST TOKENS OUTDIR [eval-family options]
#
# Logs go to OUTDIR/logs/. Paths are read by the jobs from the folder you submit in.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 N MANIFEST TOKENS OUTDIR [eval-family options]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
n=$1 manifest=$2 tokens=$3 outdir=$4
shift 4
mkdir -p "$outdir/logs"
array=$(CEQ_SHARDS=$n sbatch --parsable --array="0-$((n - 1))" --output="$outdir/logs/%x-%A_%a.out" \
  "$here/eval-family.sbatch" "$manifest" "$tokens" "$outdir" "$@")
array=${array%%;*} # --parsable prints id[;cluster]
# If a shard fails, the merge is cancelled rather than left pending forever.
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$outdir/logs/%x-%j.out" "$here/merge.sbatch" "$outdir" "$n")
echo "$array ${merge%%;*}"
