#!/usr/bin/env bash
# Fails when a crate's module graph has a cycle: module A uses an item of module B and
# B (directly or through others) uses an item of A. The graph is cargo-modules' "uses"
# edges between items (types, functions, traits, modules; uses in signatures and `use`
# declarations, not paths written inside function bodies), each item folded into the
# module that owns it (scripts/cycles/fold_to_modules.py); graphviz's `acyclic` decides
# and `sccmap` names the modules of each cycle. Needs cargo-modules, graphviz and
# python3 (.ci/run installs the first two).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in baselines harness; do
  dot=$(mktemp)
  cargo modules dependencies -p "$crate" --lib --no-externs --no-sysroot \
    | python3 scripts/cycles/fold_to_modules.py > "$dot"
  if acyclic -n "$dot"; then
    echo "$crate: no module cycles"
  else
    status=1
    echo "$crate: module cycles (each cluster is one strongly connected set, with its edges):"
    sccmap "$dot" 2>/dev/null | grep -E -- '->|^digraph cluster'
  fi
  rm -f "$dot"
done
exit $status
