#!/usr/bin/env bash
# Measures what the README's quick start costs on a fresh machine: a clean clone of this checkout's current
# branch, an empty HOME (so empty npm cache, Maven repository and ~/.cache/eqlwatch), then `npm ci`,
# `npm run demo` and (unless --no-test) `npm test`, each timed, and the disk each cache takes.
#
#   scripts/measure-fresh.sh [--no-test]
#
# Everything goes to a temp directory that is printed (and kept, for inspection; delete it afterwards).
# As root, the unpacked distribution goes to <temp>/var-cache-eqlwatch-es instead of /var/cache/eqlwatch-es,
# so an existing one is not reused; the system user eqlwatch-es is created if missing (as on a real machine).
# Needs network access to the npm registry and Maven Central, like the quick start itself.
set -uo pipefail

run_tests=1
[[ "${1:-}" == "--no-test" ]] && run_tests=0
src="$(cd "$(dirname "$0")/.." && pwd)"
branch="$(git -C "$src" rev-parse --abbrev-ref HEAD)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/eqlwatch-fresh.XXXXXX")"
chmod 755 "$tmp" # the Elasticsearch user must reach the distribution below it
export HOME="$tmp/home"
mkdir -p "$HOME"
unset EQLWATCH_CACHE EQLWATCH_ES_STATE_DIR EQLWATCH_M2_REPO npm_config_cache
[[ "$(id -u)" -eq 0 ]] && export EQLWATCH_ES_DIST_DIR="$tmp/var-cache-eqlwatch-es"

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }
timed() { # timed <label> <command…>: runs it, logs to <tmp>/<label>.log, prints seconds and exit code
  local label="$1" start end rc
  shift
  start=$(date +%s.%N)
  "$@" >"$tmp/$label.log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  printf '%-14s %6.1f s  exit %s  (load %s)\n' "$label" "$(echo "$end - $start" | bc)" "$rc" "$(load)"
}

echo "fresh machine stand-in: $tmp (branch $branch, $(nproc) cores, load $(load))"
git clone -q --branch "$branch" "$src" "$tmp/eqlwatch" || exit 1
cd "$tmp/eqlwatch" || exit 1
timed npm-ci npm ci --no-audit --no-fund
timed demo npm run demo
((run_tests)) && timed npm-test npm test
echo
echo "disk:"
du -sh node_modules "$HOME/.npm" "$HOME/.cache/eqlwatch/dist" "$HOME/.m2/repository" \
  "${EQLWATCH_ES_DIST_DIR:-$HOME/.cache/eqlwatch/es}" demo-output 2>/dev/null | sed 's/^/  /'
echo "npm warnings: $(grep -c 'npm warn' "$tmp/npm-ci.log")   escape sequences in the demo log: $(grep -c $'\e\\[' "$tmp/demo.log")"
((run_tests)) && grep -E '^ *(Test Files|Tests) ' "$tmp/npm-test.log" | sed -E 's/\x1b\[[0-9;]*m//g; s/^ */  /'
echo "logs: $tmp/*.log"
