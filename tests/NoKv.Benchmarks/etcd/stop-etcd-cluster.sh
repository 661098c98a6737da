#!/usr/bin/env bash
# Stops the cluster started by start-etcd-cluster.sh and deletes its data directory
# (--keep-data leaves the directory and its logs in place for a post-mortem).
set -euo pipefail

STATE_FILE="${NOKV_ETCD_STATE:-${TMPDIR:-/tmp}/nokv-etcd-cluster.state}"
KEEP_DATA=0
[[ "${1:-}" == "--keep-data" ]] && KEEP_DATA=1

if [[ ! -f "$STATE_FILE" ]]; then
  echo "no etcd cluster state at $STATE_FILE: nothing to stop" >&2
  exit 0
fi
# shellcheck disable=SC1090
source "$STATE_FILE"

for pid in $PIDS; do
  kill "$pid" 2>/dev/null || true
done
# Give members a few seconds to exit cleanly before forcing them.
for _ in $(seq 1 50); do
  alive=0
  for pid in $PIDS; do
    kill -0 "$pid" 2>/dev/null && alive=1
  done
  (( alive == 0 )) && break
  sleep 0.1
done
for pid in $PIDS; do
  kill -9 "$pid" 2>/dev/null || true
done

if (( KEEP_DATA == 0 )) && [[ -n "${DATA_DIR:-}" && -d "$DATA_DIR" ]]; then
  rm -rf "$DATA_DIR"
fi
rm -f "$STATE_FILE"
echo "etcd cluster stopped" >&2
