#!/usr/bin/env bash
# A 3-silo NoKV cluster on this machine, for development and the quick start.
#
#   deploy/local-cluster.sh start    build (Release) if needed, start stores 1-3 under supervisors, wait until they serve
#   deploy/local-cluster.sh stop     stop the supervisors, then SIGTERM every silo and wait (SIGKILL after 60 s)
#   deploy/local-cluster.sh status   supervisors and silos, then `nokv cluster status`
#   deploy/local-cluster.sh restart  stop, then start
#   deploy/local-cluster.sh restart-store N   stop store N (supervisor, then SIGTERM), start it again, wait until it serves
#                                    (one step of deploy/rolling-restart.sh)
#
# Layout (relative to the repository root):
#   data/store-N/          store N's data directory (engine files and the STORE id file)
#   data/membership/       the Orleans membership table the stores share (File clustering, docs/cluster.md)
#   data/logs/store-N.log  store N's console and its supervisor's lines
#   data/pids/store-N.pid  the silo; store-N.supervisor.pid its supervisor; store-N.restarts how often it was restarted
# Ports: store N listens on silo port 11110+N, gateway port 29999+N (30000-30002) and HTTP port 8079+N (8080-8082:
# the dashboard at /, the JSON API at /api/, Prometheus text at /metrics; docs/dashboard.md).
# For tests and a second cluster on one machine: NOKV_DATA (default ./data), NOKV_SILO_PORT_BASE (11110),
# NOKV_GATEWAY_PORT_BASE (29999), NOKV_HTTP_PORT_BASE (8079) and NOKV_RESP_PORT_BASE (6379) move the data and the ports.
#
# No store is special: membership lives in data/membership/, so any store can die and come back while the
# others serve. Each store runs under a supervisor (a background copy of this script) that restarts its silo
# when it dies, like systemd's Restart=on-failure: after 1 s, doubling up to 30 s while it keeps dying
# soon after start, and never after exit codes 2-4 (configuration mistakes restarting cannot fix) or a stop; code 6
# (a full or failing disk) is restarted: the silo starts again once space is freed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SELF="$ROOT/deploy/local-cluster.sh"
DATA="${NOKV_DATA:-$ROOT/data}"
SILO_PORT_BASE=${NOKV_SILO_PORT_BASE:-11110}
GATEWAY_PORT_BASE=${NOKV_GATEWAY_PORT_BASE:-29999}
RESP_PORT_BASE=${NOKV_RESP_PORT_BASE:-6379}
HTTP_PORT_BASE=${NOKV_HTTP_PORT_BASE:-8079}
LOGS="$DATA/logs"
PIDS="$DATA/pids"
MEMBERSHIP="$DATA/membership"
SILO_DLL="$ROOT/silo/NoKv.Silo/bin/Release/net10.0/NoKv.Silo.dll"
CLI_DLL="$ROOT/client/NoKv.Cli/bin/Release/net10.0/nokv.dll"
STORES=(1 2 3)
START_TIMEOUT=${NOKV_START_TIMEOUT:-90}
STOP_TIMEOUT=${NOKV_STOP_TIMEOUT:-60}
BACKOFF_MAX=30
# A silo that ran this long before dying is restarted after the shortest delay again.
HEALTHY_RUN=60

die() { echo "local-cluster: $*" >&2; exit 1; }

alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

pid_in() { # prints the pid in file $1 if that process is running
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  alive "$pid" && echo "$pid"
}

silo_pid() { pid_in "$PIDS/store-$1.pid"; }
supervisor_pid() { pid_in "$PIDS/store-$1.supervisor.pid"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Whether store $1's silo serves on port $2: the silo itself must be listening (another program holding the
# port would otherwise pass for it). Without ss (iproute2), an open port and a live silo have to do.
serving() {
  local pid
  pid="$(silo_pid "$1")" || return 1
  if command -v ss >/dev/null 2>&1; then
    ss -ltnpH "sport = :$2" 2>/dev/null | grep -q "pid=$pid,"
  else
    port_open "$2"
  fi
}

stamp() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

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

# The supervisor of store $1 (runs detached, output appended to the store's log). It owns the silo process:
# starts it, waits for it, and restarts it unless told to stop (SIGTERM) or the exit code says not to.
supervise() {
  local n=$1 silo_port=$((SILO_PORT_BASE + $1)) gateway_port=$((GATEWAY_PORT_BASE + $1)) http_port=$((HTTP_PORT_BASE + $1))
  local backoff=1 silo="" stopping=0 started code
  echo $$ >"$PIDS/store-$n.supervisor.pid"
  # `stop` sends SIGTERM: leave the silo running (stop then shuts it down itself) and exit.
  trap 'stopping=1' TERM
  while (( ! stopping )); do
    started=$SECONDS
    DOTNET_gcServer=0 dotnet "$SILO_DLL" --store-id "$n" --silo-name "store-$n" \
      --data-dir "$DATA/store-$n" --silo-port "$silo_port" --gateway-port "$gateway_port" --http-port "$http_port" --resp-port $((RESP_PORT_BASE + n)) \
      --clustering File --membership-dir "$MEMBERSHIP" </dev/null &
    silo=$!
    echo "$silo" >"$PIDS/store-$n.pid"
    # wait returns early (status > 128) when SIGTERM arrives; the silo keeps running then.
    code=0
    wait "$silo" || code=$?
    (( stopping )) && break
    if alive "$silo"; then continue; fi # interrupted by another signal; the silo still runs
    case "$code" in
      0) echo "$(stamp) supervisor: store $n exited cleanly; not restarting"; break ;;
      2|3|4) echo "$(stamp) supervisor: store $n exited with code $code (a configuration or data directory problem, see above); not restarting"; break ;;
    esac
    (( SECONDS - started >= HEALTHY_RUN )) && backoff=1
    local what="exited with code $code"
    (( code > 128 )) && what="was killed by signal $((code - 128))"
    echo "$(stamp) supervisor: store $n $what; restarting in ${backoff}s"
    echo $(( $(cat "$PIDS/store-$n.restarts" 2>/dev/null || echo 0) + 1 )) >"$PIDS/store-$n.restarts"
    sleep "$backoff" &
    wait $! || true
    backoff=$(( backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2 ))
  done
  rm -f "$PIDS/store-$n.supervisor.pid"
}

start_store() {
  local n=$1 pid
  if pid="$(supervisor_pid "$n")"; then
    echo "store $n already supervised (supervisor pid $pid)"
    return
  fi
  if pid="$(silo_pid "$n")"; then
    echo "store $n runs without a supervisor (pid $pid); use '$0 restart' to supervise it" >&2
    return
  fi
  rm -f "$PIDS/store-$n.restarts"
  # A session of its own, so closing the terminal does not take the supervisor (or its silo) with it
  # (setsid is util-linux; where it is missing, nohup at least ignores the hangup).
  if command -v setsid >/dev/null 2>&1; then
    setsid "$SELF" __supervise "$n" </dev/null >>"$LOGS/store-$n.log" 2>&1 &
  else
    nohup "$SELF" __supervise "$n" </dev/null >>"$LOGS/store-$n.log" 2>&1 &
  fi
  echo "store $n starting (silo port $((SILO_PORT_BASE + n)), gateway port $((GATEWAY_PORT_BASE + n)), HTTP port $((HTTP_PORT_BASE + n)), log $LOGS/store-$n.log)"
}

# A store serves once its gateway, Redis-protocol and HTTP ports all listen: the silo opens the gateway before the
# other two, and "up" must mean that every address printed for it answers.
serving_all() {
  local n=$1
  serving "$n" $((GATEWAY_PORT_BASE + n)) && serving "$n" $((RESP_PORT_BASE + n)) && serving "$n" $((HTTP_PORT_BASE + n))
}

wait_serving() {
  local n=$1 gateway_port=$((GATEWAY_PORT_BASE + $1)) began=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  until serving_all "$n"; do
    # Give the supervisor a moment to write its pid file before judging it gone.
    if (( SECONDS - began > 2 )) && ! supervisor_pid "$n" >/dev/null && ! silo_pid "$n" >/dev/null; then
      echo "store $n stopped during start-up; last log lines:" >&2
      tail -n 20 "$LOGS/store-$n.log" >&2
      exit 1
    fi
    (( SECONDS < deadline )) || die "store $n did not open its gateway ($gateway_port), Redis ($((RESP_PORT_BASE + n))) and HTTP ($((HTTP_PORT_BASE + n))) ports within ${START_TIMEOUT}s; see $LOGS/store-$n.log"
    sleep 0.5
  done
}

start() {
  mkdir -p "$LOGS" "$PIDS" "$MEMBERSHIP"
  build
  for n in "${STORES[@]}"; do start_store "$n"; done
  for n in "${STORES[@]}"; do wait_serving "$n"; done
  echo "NoKV is up: 3 stores, gateways 127.0.0.1:$((GATEWAY_PORT_BASE + 1))-$((GATEWAY_PORT_BASE + 3)), Redis protocol 127.0.0.1:$((RESP_PORT_BASE + 1))-$((RESP_PORT_BASE + 3)), dashboard http://127.0.0.1:$((HTTP_PORT_BASE + 1))/, data under $DATA."
  echo "try: deploy/nokv put hello world && deploy/nokv get hello"
}

stop_supervisor() {
  local n=$1 pid
  pid="$(supervisor_pid "$n")" || { rm -f "$PIDS/store-$n.supervisor.pid"; return; }
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while alive "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDS/store-$n.supervisor.pid"
}

stop_silo() {
  local n=$1 pid
  pid="$(silo_pid "$n")" || { rm -f "$PIDS/store-$n.pid"; return; }
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while alive "$pid"; do
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
  # Supervisors first, so none of them restarts a silo that is being stopped on purpose.
  for n in "${STORES[@]}"; do stop_supervisor "$n"; done
  for n in "${STORES[@]}"; do stop_silo "$n"; done
}

status() {
  local running=0 pid sup restarts
  for n in "${STORES[@]}"; do
    restarts="$(cat "$PIDS/store-$n.restarts" 2>/dev/null || echo 0)"
    if sup="$(supervisor_pid "$n")"; then sup="supervisor pid $sup, $restarts restarts"; else sup="no supervisor"; fi
    if pid="$(silo_pid "$n")"; then
      echo "store $n: running (pid $pid; $sup)"; running=$((running + 1))
    else
      echo "store $n: stopped ($sup)"
    fi
  done
  if (( running > 0 )) && [[ -f "$CLI_DLL" ]]; then
    echo
    dotnet "$CLI_DLL" cluster status --gateway $(for n in "${STORES[@]}"; do printf '127.0.0.1:%d ' $((GATEWAY_PORT_BASE + n)); done) || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  restart-store)
    [[ " ${STORES[*]} " == *" ${2:-} "* ]] || die "usage: $0 restart-store N (N one of ${STORES[*]})"
    mkdir -p "$LOGS" "$PIDS" "$MEMBERSHIP"
    stop_supervisor "$2"; stop_silo "$2"; start_store "$2"; wait_serving "$2" ;;
  __supervise) supervise "$2" ;;
  *) echo "usage: $0 start|stop|status|restart|restart-store N" >&2; exit 2 ;;
esac
