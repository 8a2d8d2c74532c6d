#!/usr/bin/env bash
#SBATCH --job-name=eventflow-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=eventflow-sweep-%A_%a.out
# One Slurm array task per shard. SHARDS must equal the size of --array (1-8 above); keeping it
# fixed here, not taken from the array, lets a failed shard be rerun alone:
#   sbatch --array=5 slurm-sweep.sh
set -euo pipefail

SCENARIO=${SCENARIO:-scenarios/capacity-planning.json}
FLAGS=${FLAGS:---set consumers.handlers.concurrency=12,15,20 --replications 30}
SHARDS=${SHARDS:-8}
OUT=${OUT:-parts}
K=${SLURM_ARRAY_TASK_ID:?submit with sbatch --array=1-$SHARDS}

mkdir -p "$OUT"
# Use the cores Slurm gave this task, not every core of the node.
export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
eventflow sweep "$SCENARIO" $FLAGS --shard "$K/$SHARDS" --out "$OUT/part-$K.json"
