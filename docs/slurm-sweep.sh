#!/usr/bin/env bash
# Slurm job array: one joulevisor sweep spread over N shards, merged at the end.
#
#   sbatch docs/slurm-sweep.sh                      # the array: shards 1..8
#   sbatch --dependency=afterok:<JOBID> --wrap \
#     "joulevisor db merge sweeps/fig8-gains.db sweeps/fig8-gains.shard*.db"
#
# or, in one go, submit both with the merge depending on the array:
#
#   jid=$(sbatch --parsable docs/slurm-sweep.sh)
#   sbatch --dependency=afterok:$jid --job-name=merge --wrap \
#     "joulevisor db merge sweeps/fig8-gains.db sweeps/fig8-gains.shard*.db && \
#      joulevisor db ls sweeps/fig8-gains.db"
#
# Each task runs the K-th of N deterministic slices of the grid (point i
# belongs to shard i mod N + 1) with its own database and run directories,
# so tasks never share a file. A task that fails or is pre-empted is simply
# resubmitted (sbatch --array=K docs/slurm-sweep.sh): it skips the points its
# database already holds. `db merge` refuses duplicate points and databases
# of different schema versions, and the merged database equals a sweep run
# in one process, point for point. Compare it with a baseline afterwards:
#   joulevisor regress --baseline base.db --candidate sweeps/fig8-gains.db --report report.md
#
#SBATCH --job-name=jv-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=1G
#SBATCH --time=01:00:00
#SBATCH --output=sweeps/slurm-%A_%a.out

set -euo pipefail
N=${SLURM_ARRAY_TASK_COUNT:-8}      # must equal the size of --array
K=${SLURM_ARRAY_TASK_ID:?run me with sbatch --array=1-$N}
JV=${JV:-joulevisor}                # the joulevisor binary (on PATH on every node)
SCENARIO=${SCENARIO:-scenarios/fig8.ini}
NAME=${NAME:-fig8-gains}
OUT=${OUT:-sweeps}

mkdir -p "$OUT"
exec "$JV" sweep "$SCENARIO" \
  --grid manager.disk_gain_damp=0.125,0.25,0.5 \
  --grid manager.disk_gain_amp=1.1,1.333,2 \
  --grid manager.disk_controller=paper,pi \
  --seeds 1-3 \
  --shard "$K/$N" \
  -j "${SLURM_CPUS_PER_TASK:-1}" \
  --db "$OUT/$NAME.shard$K.db" \
  --out-dir "$OUT/$NAME.shard$K.runs" \
  --discard-dirs
