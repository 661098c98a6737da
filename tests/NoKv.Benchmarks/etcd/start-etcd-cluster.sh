#!/usr/bin/env bash
# Starts a 3-member etcd cluster on 127.0.0.1 for the cluster benchmark's etcd side.
#
#   tests/NoKv.Benchmarks/etcd/start-etcd-cluster.sh      # prints the client endpoints
#   tests/NoKv.Benchmarks/etcd/stop-etcd-cluster.sh
#
# Installs Debian's etcd-server if `etcd` is not on PATH (needs root, as apt-get does). Members listen
# on client ports 23791-23793 and peer ports 23801-23803 (not etcd's defaults, so a system etcd on
# 2379 is left alone), keep their data under a fresh temporary directory, and fsync every commit
# (etcd's default; nothing here relaxes durability). The state file below records the directory and
# the member PIDs for the stop script. Environment: NOKV_ETCD_STATE overrides the state file path.
set -euo pipefail

STATE_FILE="${NOKV_ETCD_STATE:-${TMPDIR:-/tmp}/nokv-etcd-cluster.state}"
CLIENT_PORTS=(23791 23792 23793)
PEER_PORTS=(23801 23802 23803)

if [[ -f "$STATE_FILE" ]]; then
  echo "error: a cluster seems to be running already (state file $STATE_FILE); run stop-etcd-cluster.sh first" >&2
  exit 1
fi

if ! command -v etcd >/dev/null 2>&1; then
  echo "etcd not found: installing Debian's etcd-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package may start its own system service on a systemd host; the ports used here do not clash with it, but stop it to free the cores.
  apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
    systemctl stop etcd || true
  fi
fi
command -v etcd >/dev/null 2>&1 || { echo "error: etcd is still not on PATH after installing etcd-server" >&2; exit 1; }

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/nokv-etcd.XXXXXX")"
INITIAL_CLUSTER=""
for i in 0 1 2; do
  INITIAL_CLUSTER+="m$((i + 1))=http://127.0.0.1:${PEER_PORTS[$i]},"
done
INITIAL_CLUSTER="${INITIAL_CLUSTER%,}"

PIDS=()
for i in 0 1 2; do
  name="m$((i + 1))"
  etcd --name "$name" \
    --data-dir "$DATA_DIR/$name" \
    --listen-client-urls "http://127.0.0.1:${CLIENT_PORTS[$i]}" \
    --advertise-client-urls "http://127.0.0.1:${CLIENT_PORTS[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${PEER_PORTS[$i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${PEER_PORTS[$i]}" \
    --initial-cluster "$INITIAL_CLUSTER" \
    --initial-cluster-token nokv-bench \
    --initial-cluster-state new \
    >"$DATA_DIR/$name.log" 2>&1 &
  PIDS+=("$!")
done

{
  echo "DATA_DIR=$DATA_DIR"
  echo "PIDS=\"${PIDS[*]}\""
} >"$STATE_FILE"

ENDPOINTS=""
for port in "${CLIENT_PORTS[@]}"; do
  ENDPOINTS+="http://127.0.0.1:$port,"
done
ENDPOINTS="${ENDPOINTS%,}"

# Healthy means every member answers /health with "true", i.e. the cluster has a leader.
deadline=$((SECONDS + 30))
for port in "${CLIENT_PORTS[@]}"; do
  until curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"health":"true"'; do
    if (( SECONDS >= deadline )); then
      echo "error: etcd member on port $port not healthy after 30 s; logs in $DATA_DIR" >&2
      bash "$(dirname "$0")/stop-etcd-cluster.sh" --keep-data || true
      exit 1
    fi
    sleep 0.2
  done
done

echo "etcd cluster up: $ENDPOINTS (data in $DATA_DIR, state in $STATE_FILE)" >&2
echo "$ENDPOINTS"
