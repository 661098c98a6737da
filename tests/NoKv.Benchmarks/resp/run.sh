#!/usr/bin/env bash
# The RESP gateway against redis-server, with redis-benchmark (Debian's redis-tools), all on this machine:
#   nokv            the gateway of store 1 of a local 3-silo cluster (deploy/local-cluster.sh; port 6380)
#   redis-always    redis-server, appendonly yes, appendfsync always   (one node, durable like NoKV)
#   redis-everysec  redis-server, appendonly yes, appendfsync everysec (one node, may lose the last second)
# Each target gets a warm-up run, then `redis-benchmark -t set,get -c $C -n $N`; the figures are printed side by
# side with NoKV's ratio to each. Targets (issue 13): SET nokv/redis-always >= 1, GET nokv/redis-everysec >= 0.5.
#
# Usage: tests/NoKv.Benchmarks/resp/run.sh            (N=200000 C=50 by default; N=20000 for a quick look)
# A cluster already answering on port 6380 is used as it is; otherwise one is started and stopped afterwards.
# Run it under the machine's CPU lock when other work shares the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
N=${N:-200000}
C=${C:-50}
PORT=${NOKV_RESP_PORT:-6380}
ALWAYS_PORT=${REDIS_ALWAYS_PORT:-6390}
EVERYSEC_PORT=${REDIS_EVERYSEC_PORT:-6391}
# Redis's append-only files live on the same file system as NoKV's data (data/), so both pay the same fsync.
WORK="$ROOT/data/bench-redis"

die() { echo "resp benchmark: $*" >&2; exit 1; }
for tool in redis-benchmark redis-cli redis-server; do
  command -v "$tool" >/dev/null || die "$tool not found: apt-get install -y redis-tools redis-server"
done

started_cluster=0
cleanup() {
  for p in "$ALWAYS_PORT" "$EVERYSEC_PORT"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  if (( started_cluster )); then "$ROOT/deploy/local-cluster.sh" stop >/dev/null || true; fi
}
trap cleanup EXIT

if [[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" != "PONG" ]]; then
  echo "starting a local 3-silo cluster (deploy/local-cluster.sh start)..."
  "$ROOT/deploy/local-cluster.sh" start >/dev/null
  started_cluster=1
  for _ in $(seq 1 120); do [[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]] && break; sleep 1; done
  [[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]] || die "the gateway on port $PORT did not answer"
fi

start_redis() { # port fsync-policy
  rm -rf "$WORK/$1" && mkdir -p "$WORK/$1"
  redis-server --port "$1" --bind 127.0.0.1 --dir "$WORK/$1" --save "" --appendonly yes --appendfsync "$2" \
    --daemonize yes --pidfile "$WORK/$1/redis.pid" --logfile "$WORK/$1/redis.log" >/dev/null
  for _ in $(seq 1 50); do [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == "PONG" ]] && return; sleep 0.1; done
  die "redis-server on port $1 did not start; see $WORK/$1/redis.log"
}
start_redis "$ALWAYS_PORT" always
start_redis "$EVERYSEC_PORT" everysec

# Prints "TEST RPS P50_MS" lines from redis-benchmark's CSV output.
measure() { # port
  redis-benchmark -p "$1" -t set,get -c "$C" -n $(( N / 10 )) -q >/dev/null   # warm-up (JIT, connections, caches)
  redis-benchmark -p "$1" -t set,get -c "$C" -n "$N" --csv | tr -d '"' | awk -F, '$1=="SET"||$1=="GET" {print $1, $2, $5}'
}

echo "redis-benchmark -t set,get -c $C -n $N   ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
nokv=$(measure "$PORT")
always=$(measure "$ALWAYS_PORT")
everysec=$(measure "$EVERYSEC_PORT")

printf '%-5s | %12s %8s | %14s %8s | %16s %8s | %14s %16s\n' test "nokv rps" "p50 ms" "redis-always" "p50 ms" "redis-everysec" "p50 ms" "nokv/always" "nokv/everysec"
for test in SET GET; do
  read -r _ n_rps n_p50 <<<"$(grep "^$test " <<<"$nokv")"
  read -r _ a_rps a_p50 <<<"$(grep "^$test " <<<"$always")"
  read -r _ e_rps e_p50 <<<"$(grep "^$test " <<<"$everysec")"
  printf '%-5s | %12.0f %8s | %14.0f %8s | %16.0f %8s | %13.2fx %15.2fx\n' "$test" "$n_rps" "$n_p50" "$a_rps" "$a_p50" "$e_rps" "$e_p50" \
    "$(awk -v a="$n_rps" -v b="$a_rps" 'BEGIN{print a/b}')" "$(awk -v a="$n_rps" -v b="$e_rps" 'BEGIN{print a/b}')"
done
echo "targets: SET nokv/always >= 1.00x, GET nokv/everysec >= 0.50x"
