#!/usr/bin/env bash
# Copies the result records (seed-<n>.json) of a results root into results/published,
# the committed snapshot the published leaderboard is rendered from. The per-example
# and per-user .bin files stay behind (megabytes per Beauty cell): the report ranks and
# checks claims from the records' seed-level metrics and notes the cells without them.
# A record already published for the same cell is replaced.
#
# usage: scripts/publish-results.sh RESULTS_ROOT [RUN ...]
#   RESULTS_ROOT  a `recbench run --out` folder (holds <run>/<task>/<model>/seed-<n>.json)
#   RUN           only these runs (default: every run under RESULTS_ROOT)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,11p' "$0"; exit 2; }
src="$1"; shift
[ -d "$src" ] || { echo "no such results root: $src" >&2; exit 1; }
runs=("$@")
if [ ${#runs[@]} -eq 0 ]; then
  mapfile -t runs < <(find "$src" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
fi
n=0
for run in "${runs[@]}"; do
  [ -d "$src/$run" ] || { echo "no run $run under $src" >&2; exit 1; }
  while IFS= read -r f; do
    rel="${f#"$src"/}"
    dest="results/published/$rel"
    mkdir -p "$(dirname "$dest")"
    tmp="$(mktemp "$(dirname "$dest")/.publish.XXXXXX")"
    cp "$f" "$tmp" && chmod 644 "$tmp" && mv "$tmp" "$dest"
    n=$((n + 1))
  done < <(find "$src/$run" -mindepth 3 -maxdepth 3 -name 'seed-*.json' | sort)
done
echo "published $n records under results/published"
