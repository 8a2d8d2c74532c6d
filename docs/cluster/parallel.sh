#!/usr/bin/env bash
# A sharded sweep on one machine with GNU parallel: SHARDS single-threaded shards, as many at a
# time as there are cores, then one merge. Run from the repository root, or set SCENARIO.
set -euo pipefail

SCENARIO=${SCENARIO:-scenarios/capacity-planning.json}
FLAGS=${FLAGS:---set consumers.handlers.concurrency=12,15,20 --replications 30}
SHARDS=${SHARDS:-$(nproc)}
OUT=${OUT:-parts}

mkdir -p "$OUT"
# RAYON_NUM_THREADS=1: parallel already keeps every core busy with one shard each.
RAYON_NUM_THREADS=1 parallel --will-cite --halt now,fail=1 \
  eventflow sweep "$SCENARIO" $FLAGS --shard {}/"$SHARDS" --out "$OUT"/part-{}.json \
  ::: $(seq 1 "$SHARDS")
eventflow merge "$OUT"/part-*.json
