#!/usr/bin/env bash
# Browser test of the leaderboard site: renders a site with `recbench report` and loads
# every page in headless Chromium, failing on any console message (errors, failed
# loads, uncaught exceptions), on a page whose inline script did not run (sort headers
# missing), or on a link to a file that does not exist; then screenshots a task page.
#
# usage: scripts/browser-test.sh [RESULTS_DIR]
#   RESULTS_DIR  results to render (default: the synthetic demo results and their demo
#                claim files, written fresh; with RESULTS_DIR, the claims in tasks/claims)
# env:
#   OUT=DIR                 keep the site and screenshot here (default: a temp dir)
#   CHROMIUM=PATH           browser binary (default: chromium or chromium-browser)
#   BROWSER_TEST_REQUIRED=1 fail instead of skipping when no browser is installed
#   CARGO_PROFILE=dev       build profile (default: release)
# CI: apt-get install -y chromium && BROWSER_TEST_REQUIRED=1 scripts/browser-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CHROME="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$CHROME" ]; then
  echo "SKIP browser test: no chromium found (Debian: apt-get install -y chromium)"
  [ "${BROWSER_TEST_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

PROFILE="${CARGO_PROFILE:-release}"
cargo build --profile "$PROFILE" -p harness --bin recbench --example demo_results
TARGET="${CARGO_TARGET_DIR:-target}"
DIRNAME="$PROFILE"; [ "$PROFILE" = dev ] && DIRNAME=debug
BIN="$TARGET/$DIRNAME/recbench"
DEMO="$TARGET/$DIRNAME/examples/demo_results"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
OUT="${OUT:-$WORK/out}"
mkdir -p "$OUT"
if [ $# -ge 1 ]; then
  RESULTS="$1"
  CLAIMS="tasks/claims"
else
  RESULTS="$WORK/results"
  CLAIMS="$WORK/claims"
  "$DEMO" "$RESULTS" "$CLAIMS" >/dev/null
fi
SITE="$OUT/site"
rm -rf "$SITE"
"$BIN" report --results "$RESULTS" --claims "$CLAIMS" --out "$SITE" --resamples 2000

chrome() {
  local profile
  profile="$(mktemp -d "$WORK/profile.XXXX")"
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 --virtual-time-budget=3000 "$@"
}

fail=0
pages=0
for page in "$SITE"/*.html; do
  pages=$((pages + 1))
  name="$(basename "$page")"
  chrome --dump-dom "file://$(realpath "$page")" >"$WORK/dom.html" 2>"$WORK/log.txt" || {
    echo "FAIL $name: chromium exited with an error"; cat "$WORK/log.txt"; fail=1; continue; }
  if grep -q "CONSOLE" "$WORK/log.txt"; then
    echo "FAIL $name: console output:"; grep "CONSOLE" "$WORK/log.txt"; fail=1
  fi
  if grep -q 'class="sortable' "$page" && ! grep -q 'class="sort' "$WORK/dom.html"; then
    echo "FAIL $name: the sorting script did not run"; fail=1
  fi
  if ! grep -q "</footer>" "$WORK/dom.html"; then
    echo "FAIL $name: page did not load completely"; fail=1
  fi
  # Relative links must resolve; nothing may be fetched from elsewhere.
  for link in $(grep -o 'href="[^"]*"\|src="[^"]*"' "$page" | sed 's/^[a-z]*="//; s/"$//' | sort -u); do
    case "$link" in
      data:*|\#*) ;;
      *://*) echo "FAIL $name: external reference $link"; fail=1 ;;
      *\#*) file="${link%%#*}"; anchor="${link#*#}"
          grep -q "id=\"$anchor\"" "$SITE/$file" 2>/dev/null || { echo "FAIL $name: broken link $link"; fail=1; } ;;
      *) [ -f "$SITE/$link" ] || { echo "FAIL $name: broken link $link"; fail=1; } ;;
    esac
  done
  echo "ok   $name"
done

# Screenshots: the first task page, the claims page and the first variant's page.
variant="$(grep -l 'A variant of' "$SITE"/model-*.html | head -n 1 || true)"
for page in "$(ls "$SITE"/task-*.html | head -n 1)" "$SITE/claims.html" $variant; do
  SHOT="$OUT/screenshot-$(basename "$page" .html).png"
  chrome --window-size=1440,2400 --hide-scrollbars --screenshot="$SHOT" "file://$(realpath "$page")" \
    >/dev/null 2>"$WORK/log.txt" || true
  if [ ! -s "$SHOT" ] || [ "$(stat -c %s "$SHOT")" -lt 20000 ]; then
    echo "FAIL screenshot of $(basename "$page") missing or blank"; fail=1
  else
    echo "screenshot: $SHOT"
  fi
done
echo "$pages pages checked in $CHROME"
[ "$fail" = 0 ] && echo "browser test passed" || { echo "browser test FAILED"; exit 1; }
