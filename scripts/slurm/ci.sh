#!/usr/bin/env bash
# CI: the README's Slurm job array, for real, on a one-node Slurm started here (Debian's slurm-wlm,
# no systemd): scripts/slurm/submit.sh runs the fixture family (tests/fixtures/family) as an 8-task
# array plus the merge, and the merged file must equal an unsharded `ceq eval-family` byte for byte,
# its per-sequence losses too (as tests/it/family.rs requires of shards merged by hand); then one task
# run alone with CEQ_SHARDS must give that task's shard again.
#
#   scripts/slurm/ci.sh [CEQ_BINARY]     (default: $CEQ, else ${CARGO_TARGET_DIR:-target}/debug/ceq)
#
# Needs root (it installs slurm-wlm and munge with apt-get if missing and runs the daemons as root).
# Everything else lives in a temporary folder: its own munge key and socket, slurm.conf, state, spool
# and logs; the daemons listen on 127.0.0.1 on ports $CEQ_SLURM_PORT and +1 (default 16817) and are
# stopped on exit. Exit 0: passed; 77: cannot run on this machine (says why); other: failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
ceq=$(realpath "${1:-${CEQ:-${CARGO_TARGET_DIR:-target}/debug/ceq}}")
[ -x "$ceq" ] || { echo "slurm ci: no ceq binary at $ceq (build it first)" >&2; exit 1; }
t_start=$SECONDS
log() { echo "slurm ci [$((SECONDS - t_start))s]: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "SKIP: needs root to install and run slurmctld/slurmd/munged"
  exit 77
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    log "SKIP: slurm-wlm is not installed and there is no apt-get to install it"
    exit 77
  fi
  log "installing slurmctld slurmd slurm-client munge (Debian's slurm-wlm)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
log "$(slurmctld -V), $(munged --version 2>&1 | head -1)"

work=$(mktemp -d /tmp/ceq-slurm-ci.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local rc=$?
  # Only the daemons this script started, by their ids.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    # The daemons' own logs (or what they printed before opening them), then the jobs' output.
    for d in munged slurmctld slurmd; do
      f="$work/$d.log"
      [ -s "$f" ] || f="$work/$d.stdout"
      [ -f "$f" ] && { echo "----- $f (last 25 lines)" >&2; tail -n 25 "$f" >&2; }
    done
    for f in "$work"/out/logs/*; do
      [ -f "$f" ] && { echo "----- $f" >&2; tail -n 10 "$f" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# munge: a key of its own, run as root (--force: the key and socket are root's, not munge's).
mkdir -p "$work/munge"
chmod 711 "$work/munge" # clients need to reach the socket, not list the key
mungekey --create --keyfile="$work/munge/munge.key" 2>/dev/null ||
  { dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" 2>/dev/null && chmod 400 "$work/munge/munge.key"; }
sock="$work/munge/munge.socket"
munged --foreground --force --socket="$sock" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/seed" >"$work/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
munge --socket="$sock" -n | unmunge --socket="$sock" >/dev/null ||
  { log "munged does not answer on $sock"; exit 1; }

node=$(hostname -s)
cpus=$(nproc)
# RealMemory must not exceed what slurmd finds, else the node is drained: half of what is available.
mem=$(awk '/MemAvailable/ { printf "%d", $2 / 2048 }' /proc/meminfo)
port=${CEQ_SLURM_PORT:-16817}
mkdir -p "$work/state" "$work/spool" "$work/out"
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=ceqci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
# No cgroups and no systemd: plain process tracking, no task binding, no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -f "$SLURM_CONF" >"$work/slurmctld.stdout" 2>&1 &
pids+=($!)
slurmd -D -N "$node" -f "$SLURM_CONF" >"$work/slurmd.stdout" 2>&1 &
pids+=($!)

# Up when sinfo says the node is idle (bounded; a node that comes up drained or down is resumed once).
state=""
for i in $(seq 120); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  case "$state" in
  idle) break ;;
  drain* | down*) [ "$i" = 20 ] && scontrol update nodename="$node" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.5
done
if [ "$state" != idle ]; then
  log "FAILED: node $node is not idle after 60 s (sinfo: '${state:-no answer}'); $(scontrol show node "$node" 2>&1 | grep -i reason || true)"
  exit 1
fi
log "slurm up: node $node idle, $cpus CPUs"

# The README's job array on the fixture family, and the same family unsharded.
fam="$repo/tests/fixtures/family"
out="$work/out"
cd "$work"
read -r array merge < <(CEQ="$ceq" "$repo/scripts/slurm/submit.sh" 8 "$fam/family.csv" "$fam/tokens.npy" "$out")
log "submitted array job $array (8 tasks) and merge job $merge (afterok:$array)"
"$ceq" eval-family --manifest "$fam/family.csv" --tokens "$fam/tokens.npy" --out "$work/whole.csv" 2>/dev/null

for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
  sleep 0.5
done
if [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; then
  log "FAILED: jobs still queued after 300 s:"
  squeue -j "$array,$merge" >&2
  exit 1
fi
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ' | tr '\n' ' '; }
log "array: $(job_state "$array"); merge: $(job_state "$merge")"
if [ "$(scontrol show job "$merge" | grep -o 'JobState=[A-Z_]*')" != JobState=COMPLETED ]; then
  log "FAILED: the merge job did not complete"
  exit 1
fi
for i in $(seq 0 7); do
  [ -f "$out/shard$i.csv" ] || { log "FAILED: no $out/shard$i.csv"; exit 1; }
done
cmp "$out/checkpoints.csv" "$work/whole.csv" ||
  { log "FAILED: the merged CSV differs from the unsharded one"; diff "$out/checkpoints.csv" "$work/whole.csv" >&2 || true; exit 1; }
cmp "$out/checkpoints.per_seq.npy" "$work/whole.per_seq.npy" ||
  { log "FAILED: the merged per-sequence losses differ from the unsharded ones"; exit 1; }
cmp "$out/checkpoints.per_seq_n.npy" "$work/whole.per_seq_n.npy" ||
  { log "FAILED: the merged per-sequence position counts differ from the unsharded ones"; exit 1; }
# One task run again alone (as after a failure): CEQ_SHARDS gives the count the array no longer does.
mkdir -p "$work/again"
again=$(CEQ="$ceq" CEQ_SHARDS=8 sbatch --parsable --array=3 --output="$work/again-%A_%a.out" \
  "$repo/scripts/slurm/eval-family.sbatch" "$fam/family.csv" "$fam/tokens.npy" "$work/again")
for _ in $(seq 120); do
  [ -z "$(squeue -h -j "${again%%;*}" 2>/dev/null)" ] && break
  sleep 0.5
done
cmp "$work/again/shard3.csv" "$out/shard3.csv" ||
  { log "FAILED: task 3 run alone (CEQ_SHARDS=8 sbatch --array=3) differs from the array's shard 3"; exit 1; }
log "passed: 8 array tasks + merge under Slurm = the unsharded run ($(($(wc -l <"$work/whole.csv") - 1)) rows, CSV, per_seq.npy and per_seq_n.npy byte for byte)"
