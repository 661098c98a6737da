#!/usr/bin/env bash
# A 3-silo NoKV cluster on this machine, for development and the quick start.
#
#   deploy/local-cluster.sh start    build (Release) if needed, start stores 1-3, wait until they serve
#   deploy/local-cluster.sh stop     SIGTERM every silo, wait for a clean shutdown (SIGKILL after 60 s)
#   deploy/local-cluster.sh status   which silos run, then `nokv cluster status`
#
# Layout (relative to the repository root):
#   data/store-N/        store N's data directory (engine files and the STORE id file)
#   data/logs/store-N.log
#   data/pids/store-N.pid
# Ports: store N listens on silo port 11110+N and gateway port 29999+N (30000-30002). Store 1 is the
# primary silo of Orleans localhost clustering; the others join through it, so start it first and stop it last.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="$ROOT/data"
LOGS="$DATA/logs"
PIDS="$DATA/pids"
SILO_DLL="$ROOT/silo/NoKv.Silo/bin/Release/net10.0/NoKv.Silo.dll"
CLI_DLL="$ROOT/client/NoKv.Cli/bin/Release/net10.0/nokv.dll"
STORES=(1 2 3)
START_TIMEOUT=${NOKV_START_TIMEOUT:-90}
STOP_TIMEOUT=${NOKV_STOP_TIMEOUT:-60}

die() { echo "local-cluster: $*" >&2; exit 1; }

pid_of() { # prints the pid of store $1 if it is running
  local file="$PIDS/store-$1.pid"
  [[ -f "$file" ]] || return 1
  local pid
  pid="$(cat "$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

build() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK is required (dotnet not on PATH)"
  if [[ ! -f "$SILO_DLL" || ! -f "$CLI_DLL" || -n "${NOKV_REBUILD:-}" ]]; then
    echo "building NoKV (Release)..."
    dotnet build "$ROOT/silo/NoKv.Silo/NoKv.Silo.csproj" -c Release -nologo -v quiet >"$LOGS/build.log" 2>&1 \
      || die "silo build failed; see $LOGS/build.log"
    dotnet build "$ROOT/client/NoKv.Cli/NoKv.Cli.csproj" -c Release -nologo -v quiet >>"$LOGS/build.log" 2>&1 \
      || die "CLI build failed; see $LOGS/build.log"
  fi
}

start_store() {
  local n=$1 silo_port=$((11110 + $1)) gateway_port=$((29999 + $1))
  if pid="$(pid_of "$n")"; then
    echo "store $n already running (pid $pid)"
    return
  fi
  local primary=()
  [[ "$n" != 1 ]] && primary=(--primary "127.0.0.1:11111")
  DOTNET_gcServer=0 nohup dotnet "$SILO_DLL" --store-id "$n" --silo-name "store-$n" \
    --data-dir "$DATA/store-$n" --silo-port "$silo_port" --gateway-port "$gateway_port" \
    --clustering Localhost "${primary[@]}" >>"$LOGS/store-$n.log" 2>&1 &
  echo $! >"$PIDS/store-$n.pid"
  echo "store $n starting (pid $!, silo port $silo_port, gateway port $gateway_port, log data/logs/store-$n.log)"
}

wait_serving() {
  local n=$1 gateway_port=$((29999 + $1)) deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$gateway_port"; do
    if ! pid_of "$n" >/dev/null; then
      echo "store $n exited during start-up; last log lines:" >&2
      tail -n 20 "$LOGS/store-$n.log" >&2
      exit 1
    fi
    (( SECONDS < deadline )) || die "store $n did not open gateway port $gateway_port within ${START_TIMEOUT}s; see $LOGS/store-$n.log"
    sleep 0.5
  done
}

start() {
  mkdir -p "$LOGS" "$PIDS"
  build
  for n in "${STORES[@]}"; do
    start_store "$n"
    # The primary must be up before the others try to join through it.
    [[ "$n" == 1 ]] && wait_serving 1
  done
  for n in "${STORES[@]}"; do wait_serving "$n"; done
  echo "NoKV is up: 3 stores, gateways 127.0.0.1:30000-30002, data under data/."
  echo "try: deploy/nokv put hello world && deploy/nokv get hello"
}

stop_store() {
  local n=$1 pid
  pid="$(pid_of "$n")" || { rm -f "$PIDS/store-$n.pid"; return; }
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS >= deadline )); then
      echo "store $n (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDS/store-$n.pid"
  echo "store $n stopped"
}

stop() {
  # Secondaries first, the primary (membership host) last.
  for (( i=${#STORES[@]}-1; i>=0; i-- )); do stop_store "${STORES[$i]}"; done
}

status() {
  local running=0
  for n in "${STORES[@]}"; do
    if pid="$(pid_of "$n")"; then
      echo "store $n: running (pid $pid)"; running=$((running + 1))
    else
      echo "store $n: stopped"
    fi
  done
  if (( running > 0 )) && [[ -f "$CLI_DLL" ]]; then
    echo
    dotnet "$CLI_DLL" cluster status || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
