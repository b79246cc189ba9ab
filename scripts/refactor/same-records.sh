#!/usr/bin/env bash
# Runs one seed of every registered model (and the embedding-strategy variants) on its
# smallest synthetic task, with a short budget, under two recbench binaries, and
# compares the records field by field: metrics, validation metrics, the curve (losses
# and validation metrics per epoch; wall seconds dropped), best epoch, parameter counts,
# bytes and FLOPs. A refactor that must not change results passes with "identical".
#
#   scripts/refactor/same-records.sh OLD_RECBENCH NEW_RECBENCH [WORKDIR]
#
# The short tasks are written from tasks/synth-{ctr,seq,gen}.json by digest.py: fewer
# events and at most 2 epochs, so the whole comparison takes minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=$(realpath "$1"); new=$(realpath "$2")
work=${3:-$(mktemp -d)}
mkdir -p "$work/tasks"
python3 scripts/refactor/digest.py tasks "$work/tasks"
for side in old new; do
  bin=$old; [ "$side" = new ] && bin=$new
  for t in "$work"/tasks/*.json; do
    "$bin" run "$t" --seeds 1 --out "$work/$side" --resume --checkpoint-minutes 0 --json >/dev/null
  done
  python3 scripts/refactor/digest.py --digest "$work/$side" > "$work/$side.digest.json"
done
if diff -u "$work/old.digest.json" "$work/new.digest.json" > "$work/diff.txt"; then
  echo "identical: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/old.digest.json") records ($work)"
else
  echo "records differ ($work/diff.txt):"; head -60 "$work/diff.txt"; exit 1
fi
