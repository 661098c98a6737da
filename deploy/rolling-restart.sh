#!/usr/bin/env bash
# Restarts a NoKV cluster's silos one at a time (an upgrade, a configuration change, a kernel update), never taking
# down a second replica of any shard before the first is back:
#
#   1. checks the cluster is healthy (below) and refuses to start otherwise: a restart would then cost availability;
#   2. for each store: runs the restart command, then waits until the cluster is healthy again before the next.
#
# Healthy, as `nokv cluster status --output json` reports it: every store up; every shard has a leader; every replica
# of every shard answers, is not halted, and has applied to within --max-lag entries of its leader's commit index.
#
# Usage:
#   deploy/rolling-restart.sh [--stores "1 2 3"] [--restart-command CMD] [--timeout SECONDS] [--max-lag N] [-- nokv options]
#
#   --restart-command  run once per store with {store} replaced by its id. Default: the local cluster,
#                      'deploy/local-cluster.sh restart-store {store}'. On VMs, for example:
#                      --restart-command 'ssh nokv-{store}.internal sudo systemctl restart nokv-silo'
#   --stores           the order (default: every store the cluster reports, in id order)
#   --timeout          seconds to wait for health after each restart (default 180); on timeout the roll stops with
#                      exit code 1 and prints the status, leaving the remaining stores untouched
#   --max-lag          how far (in entries) a replica may trail its leader and count as caught up (default 100)
#   after --            options for nokv (e.g. --gateway 10.0.0.11:30000 --cluster-id nokv-prod)
#
# Exit codes: 0 every store restarted and the cluster healthy; 1 unhealthy before or after a restart (the roll
# stopped); 2 usage or a failed restart command. Needs jq.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NOKV="${NOKV_CLI:-$ROOT/deploy/nokv}"
RESTART_COMMAND="$ROOT/deploy/local-cluster.sh restart-store {store}"
STORES=""
TIMEOUT=180
MAX_LAG=100
NOKV_ARGS=()

die() { echo "rolling-restart: $*" >&2; exit 2; }
say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) rolling-restart: $*"; }

while (( $# > 0 )); do
  case "$1" in
    --restart-command) RESTART_COMMAND="${2:?}"; shift 2 ;;
    --stores) STORES="${2:?}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    --max-lag) MAX_LAG="${2:?}"; shift 2 ;;
    --) shift; NOKV_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
command -v jq >/dev/null 2>&1 || die "jq is required (apt-get install jq)"
[[ "$TIMEOUT" =~ ^[0-9]+$ && "$MAX_LAG" =~ ^[0-9]+$ ]] || die "--timeout and --max-lag take whole numbers"

status_json() { "$NOKV" cluster status --output json --timeout 5 "${NOKV_ARGS[@]}" 2>/dev/null; }

# Prints why the cluster is not healthy (nothing when it is). Input: nokv cluster status --output json.
HEALTH_FILTER='
  [ (.stores[] | select(.state != "up") | "store \(.id) is down"),
    (.shards[] | . as $s
      | (if .leader == null then "shard \($s.id) has no leader" else empty end),
        ( ([.replicas[] | .commit // 0] | max) as $commit
          | .replicas[]
          | if .error != null then "shard \($s.id) replica on store \(.store) does not answer: \(.error)"
            elif .apply_halt != null then "shard \($s.id) replica on store \(.store) halted: \(.apply_halt)"
            elif ($commit - (.applied // 0)) > $lag then "shard \($s.id) replica on store \(.store) is \($commit - (.applied // 0)) entries behind"
            else empty end))
  ] | .[]'

problems() {
  local json
  json="$(status_json)" || { echo "nokv cluster status failed (no gateway answered)"; return; }
  jq -r --argjson lag "$MAX_LAG" "$HEALTH_FILTER" <<<"$json"
}

wait_healthy() { # $1 = what we wait for, $2 = seconds
  local deadline=$((SECONDS + $2)) last=""
  while true; do
    last="$(problems)"
    [[ -z "$last" ]] && return 0
    if (( SECONDS >= deadline )); then
      say "not healthy after ${2}s waiting for $1:"
      sed 's/^/  /' <<<"$last" >&2
      "$NOKV" cluster status "${NOKV_ARGS[@]}" >&2 || true
      exit 1
    fi
    sleep 1
  done
}

if [[ -z "$STORES" ]]; then
  json="$(status_json)" || { echo "rolling-restart: cannot read the cluster status" >&2; exit 1; }
  STORES="$(jq -r '[.stores[].id] | sort | map(tostring) | join(" ")' <<<"$json")"
fi
[[ -n "$STORES" ]] || die "no stores to restart"

say "checking the cluster is healthy before the first restart"
wait_healthy "health before starting" 30
for store in $STORES; do
  command="${RESTART_COMMAND//\{store\}/$store}"
  say "restarting store $store: $command"
  started=$SECONDS
  bash -c "$command" || die "restart command for store $store failed (exit $?); the roll stopped here"
  wait_healthy "store $store to rejoin and its replicas to catch up" "$TIMEOUT"
  say "store $store back; cluster healthy after $((SECONDS - started))s"
done
say "done: restarted stores $STORES one at a time"
