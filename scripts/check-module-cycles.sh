#!/usr/bin/env bash
# Fails when a crate's module graph has a cycle: module A uses an item of module B and
# B (directly or through others) uses an item of A. The graph is cargo-modules' "uses"
# edges between modules (functions, types and traits folded into their modules; the
# parent-owns-child edges left out); graphviz's `acyclic` decides, `sccmap` names the
# modules of each cycle. Needs cargo-modules and graphviz (.ci/run installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in baselines harness; do
  dot=$(mktemp)
  cargo modules dependencies -p "$crate" --lib --no-externs --no-sysroot \
    --no-fns --no-types --no-traits --no-owns > "$dot"
  if acyclic -n "$dot"; then
    echo "$crate: no module cycles"
  else
    status=1
    echo "$crate: module cycles (each block is one strongly connected set of modules):"
    sccmap "$dot" 2>/dev/null | grep -E '^\s*"[^"]+"\s*\[' | sed -E 's/^\s*"([^"]+)".*/  \1/'
  fi
  rm -f "$dot"
done
exit $status
