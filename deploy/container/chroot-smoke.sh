#!/usr/bin/env bash
# Smoke test of a built image where containers cannot run (as on the machine this project is built on: no registry,
# and crun fails to create containers). As root: creates three containers from IMAGE without starting them, mounts
# their root filesystems, and runs the image's entrypoint in each with chroot as the image's user and environment
# (plus /proc, /dev, /sys), with Redis membership on a throwaway host redis-server. Then writes and reads a key and
# checks the cluster status through the host's CLI, stops the silos with SIGTERM and verifies a store offline.
# No namespaces, cgroups or network isolation: it proves the image's files, user, environment and entrypoint, not the
# container runtime.
#
#   make image-prebuilt && sudo deploy/container/chroot-smoke.sh [IMAGE]
set -euo pipefail
IMAGE="${1:-localhost/nokv:dev}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NOKV="$ROOT/deploy/nokv"
REDIS_PORT=${REDIS_PORT:-16399}
GATEWAYS=(127.0.0.1:31001 127.0.0.1:31002 127.0.0.1:31003)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for n in 1 2 3; do
    if mnt=$(podman mount "nokv-smoke$n" 2>/dev/null); then
      umount -R "$mnt/proc" "$mnt/dev" "$mnt/sys" 2>/dev/null || umount -l "$mnt/proc" "$mnt/dev" "$mnt/sys" 2>/dev/null || true
      podman umount "nokv-smoke$n" >/dev/null 2>&1 || true
    fi
    podman rm -f "nokv-smoke$n" >/dev/null 2>&1 || true
  done
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --logfile /tmp/nokv-smoke-redis.log
mapfile -t ENVS < <(podman image inspect "$IMAGE" --format '{{range .Config.Env}}{{println .}}{{end}}' | grep -v '^$')
USERSPEC="$(podman image inspect "$IMAGE" --format '{{.Config.User}}')"
echo "image $IMAGE: user $USERSPEC, entrypoint $(podman image inspect "$IMAGE" --format '{{.Config.Entrypoint}}')"
for n in 1 2 3; do
  podman rm -f "nokv-smoke$n" >/dev/null 2>&1 || true
  podman create --name "nokv-smoke$n" "$IMAGE" >/dev/null
  mnt="$(podman mount "nokv-smoke$n")"
  mkdir -p "$mnt/proc" "$mnt/dev" "$mnt/sys"
  mount -t proc proc "$mnt/proc"; mount --rbind /dev "$mnt/dev"; mount --rbind /sys "$mnt/sys"
  echo "store $n: /var/lib/nokv owned by $(stat -c %u:%g "$mnt/var/lib/nokv")"
  env -i "${ENVS[@]}" NOKV_STOREID="$n" NOKV_ADVERTISEDADDRESS=127.0.0.1 NOKV_SILOPORT=$((21110 + n)) NOKV_GATEWAYPORT=$((31000 + n)) \
    NOKV_CLUSTERING__PROVIDER=Redis NOKV_CLUSTERING__CONNECTIONSTRING="127.0.0.1:$REDIS_PORT" NOKV_LAYOUT__INITIALSHARDS=8 \
    chroot --userspec="$USERSPEC" "$mnt" /bin/sh -c 'cd /var/lib/nokv && exec dotnet /app/silo/NoKv.Silo.dll' >"/tmp/nokv-smoke-store$n.log" 2>&1 &
  PIDS+=($!)
done

deadline=$((SECONDS + 180))
until "$NOKV" --gateway "${GATEWAYS[@]}" --timeout 10 put smoke-key smoke-value >/dev/null 2>&1; do
  (( SECONDS < deadline )) || { echo "no write accepted within 180 s; see /tmp/nokv-smoke-store*.log" >&2; exit 1; }
  sleep 2
done
[[ "$("$NOKV" --gateway "${GATEWAYS[@]}" get smoke-key)" == smoke-value ]] || { echo "read back failed" >&2; exit 1; }
"$NOKV" --gateway "${GATEWAYS[@]}" cluster status --output json \
  | jq -e '([.stores[] | select(.state == "up")] | length) == 3 and ([.shards[] | select(.leader == null)] | length) == 0' >/dev/null \
  || { echo "cluster not healthy" >&2; exit 1; }
echo "three silos from the image serve: a key written and read back, every shard led"
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${PIDS[@]}"; do wait "$pid" || { echo "a silo exited with $? on SIGTERM" >&2; exit 1; }; done
PIDS=()
echo "stopped with SIGTERM, exit code 0 each"
"$NOKV" store verify "$(podman mount nokv-smoke1)/var/lib/nokv"
