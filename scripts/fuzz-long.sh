#!/usr/bin/env bash
# Long fuzz runs: the targets of tests/it/fuzz.rs (loader, patterns, transforms, engine) in
# rounds of fresh case seeds, niced, until HOURS have passed. Each round's log line says the
# target, the seeds and how long it took; a failing case stops the run and prints the command
# that reproduces it. Seed corpus: fuzz/corpus/*.json and scenarios/*.json.
#
#   scripts/fuzz-long.sh [HOURS=1] [CASES_PER_ROUND=20000]
#
# The log goes to fuzz/long-run.log (one line per round) as well as to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

hours=${1:-1}
cases=${2:-20000}
log=fuzz/long-run.log
end=$(( $(date +%s) + $(awk "BEGIN { printf \"%d\", $hours * 3600 }") ))

cargo test --profile ci --test it --no-run >/dev/null 2>&1 || cargo test --profile ci --test it --no-run
bin=$(cargo test --profile ci --test it --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "it":
        print(m["executable"])' | tail -n 1)

# Run a copy, so rebuilding the tests meanwhile neither fails ("text file busy") nor changes
# what this run tests.
copy=$(mktemp /tmp/eventflow-fuzz.XXXXXX)
cp "$bin" "$copy"
chmod +x "$copy"
bin=$copy

seed=${EVENTFLOW_FUZZ_SEED:-$(( $(date +%s) % 1000000000 ))}
echo "$(date -u +%FT%TZ) start: $hours h, $cases cases per round, first seed $seed, binary $bin" | tee -a "$log"
while [ "$(date +%s)" -lt "$end" ]; do
  for target in loader patterns transforms engine; do
    n=$cases
    # An engine case runs two simulations: fewer per round.
    [ "$target" = engine ] && n=$(( cases / 20 + 1 ))
    t0=$(date +%s)
    if ! CARGO_MANIFEST_DIR=$PWD EVENTFLOW_FUZZ_SEED=$seed EVENTFLOW_FUZZ_CASES=$n nice -n 19 "$bin" --exact "fuzz::fuzz_$target" --nocapture >"$copy.out" 2>&1; then
      echo "$(date -u +%FT%TZ) FAILED $target seeds $seed..$(( seed + n - 1 ))" | tee -a "$log"
      grep -E "case seed|panicked" "$copy.out" | head -n 5 | tee -a "$log"
      exit 1
    fi
    echo "$(date -u +%FT%TZ) ok $target seeds $seed..$(( seed + n - 1 )) in $(( $(date +%s) - t0 )) s" | tee -a "$log"
    [ "$(date +%s)" -ge "$end" ] && break
  done
  seed=$(( seed + cases ))
done
echo "$(date -u +%FT%TZ) done" | tee -a "$log"
