#!/usr/bin/env bash
# Runs the chaos harness (docs/chaos.md). Arguments go to the harness, e.g.
#   tests/NoKv.Chaos/run.sh --silos 3 --runs 5 --duration 60 --json chaos.json
#   tests/NoKv.Chaos/run.sh --silos 3 --runs 0 --failover-trials 20 --failover-faults kill
#   tests/NoKv.Chaos/run.sh --silos 3 --runs 1 --duration 60 --faults slow-disk,kill --slow-disk-ms 300
#   nice -n 10 tests/NoKv.Chaos/run.sh --silos 3 --soak 40     # a fault a minute; per-minute RSS, disk, latency; growth
# As root it installs nftables when missing (partitions need it); without root the harness runs on loopback and
# says which faults it could not inject. NOKV_CHAOS_NO_BUILD=1 skips the build (CI builds first).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ "$(id -u)" == 0 ]] && ! command -v nft >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "chaos: installing nftables (network partitions)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null 2>&1; } \
    || echo "chaos: could not install nftables; partitions will be skipped" >&2
fi

# Leftovers of a harness that was killed before it could clean up (namespaces nkc<pid>n<store>, bridge
# nkc<pid>b, tmpfs mounts under nokv-chaos-* folders): removed when that process is gone.
if [[ "$(id -u)" == 0 ]]; then
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^nkc[0-9]+n[0-9]+$' || true); do
    pid="${ns#nkc}"; pid="${pid%n*}"
    if ! kill -0 "$pid" 2>/dev/null; then
      ip netns del "$ns" 2>/dev/null || true
      ip link del "nkc${pid}b" 2>/dev/null || true
    fi
  done
  for mnt in $(awk '$3 == "tmpfs" && $2 ~ /nokv-chaos-[0-9]+-/ {print $2}' /proc/mounts); do
    pid="$(sed -E 's|.*/nokv-chaos-([0-9]+)-.*|\1|' <<<"$mnt")"
    kill -0 "$pid" 2>/dev/null || umount "$mnt" 2>/dev/null || true
  done
fi

if [[ "${NOKV_CHAOS_NO_BUILD:-0}" != 1 ]]; then
  dotnet build tests/NoKv.Chaos -c Release -nologo -v quiet >/dev/null
fi
exec dotnet tests/NoKv.Chaos/bin/Release/net10.0/NoKv.Chaos.dll "$@"
