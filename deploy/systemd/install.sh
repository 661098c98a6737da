#!/usr/bin/env bash
# Installs (or upgrades) the NoKV silo on this VM as a systemd service. Run as root from a checkout:
#
#   deploy/systemd/install.sh [--config deploy/appsettings.redis.json] [--publish-dir DIR]
#
# Publishes silo and CLI (Release) unless --publish-dir names a directory with silo/ and cli/ already published
# (make publish), installs them under /opt/nokv, creates the nokv user, installs the unit and, only if they do not
# exist yet, /etc/nokv/nokv.json (from --config) and /etc/nokv/nokv.env (from nokv.env.example). It never starts
# the silo and never touches /var/lib/nokv: edit /etc/nokv/nokv.env, then `systemctl enable --now nokv-silo`.
# It also creates /etc/nokv/auth.keys (a random client authentication key) unless it exists.
# An upgrade is this script followed by deploy/rolling-restart.sh over the cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONFIG="$ROOT/deploy/appsettings.redis.json"
PUBLISH=""
while (( $# > 0 )); do
  case "$1" in
    --config) CONFIG="${2:?}"; shift 2 ;;
    --publish-dir) PUBLISH="${2:?}"; shift 2 ;;
    *) echo "usage: $0 [--config FILE] [--publish-dir DIR]" >&2; exit 2 ;;
  esac
done
[[ $EUID -eq 0 ]] || { echo "install.sh: run as root" >&2; exit 2; }
command -v dotnet >/dev/null || { echo "install.sh: the .NET 10 runtime is required at /usr/bin/dotnet" >&2; exit 2; }

if [[ -z "$PUBLISH" ]]; then
  PUBLISH="$(mktemp -d)"
  dotnet publish "$ROOT/silo/NoKv.Silo/NoKv.Silo.csproj" -c Release -o "$PUBLISH/silo" -nologo -v quiet
  dotnet publish "$ROOT/client/NoKv.Cli/NoKv.Cli.csproj" -c Release -o "$PUBLISH/cli" -nologo -v quiet
fi

install -d -m 0755 /opt/nokv /opt/nokv/docs
rm -rf /opt/nokv/silo.new /opt/nokv/cli.new
cp -a "$PUBLISH/silo" /opt/nokv/silo.new
cp -a "$PUBLISH/cli" /opt/nokv/cli.new
# Swap whole directories so a running silo's files are never half replaced (it keeps the old inode until restarted).
rm -rf /opt/nokv/silo.old /opt/nokv/cli.old
[[ -d /opt/nokv/silo ]] && mv /opt/nokv/silo /opt/nokv/silo.old
[[ -d /opt/nokv/cli ]] && mv /opt/nokv/cli /opt/nokv/cli.old
mv /opt/nokv/silo.new /opt/nokv/silo
mv /opt/nokv/cli.new /opt/nokv/cli
cp "$ROOT/docs/deployment.md" /opt/nokv/docs/ 2>/dev/null || true
printf '#!/bin/sh\nexec /usr/bin/dotnet /opt/nokv/cli/nokv.dll "$@"\n' >/usr/local/bin/nokv
chmod 0755 /usr/local/bin/nokv

install -D -m 0644 "$ROOT/deploy/systemd/nokv.sysusers.conf" /usr/lib/sysusers.d/nokv.conf
if command -v systemd-sysusers >/dev/null; then
  systemd-sysusers /usr/lib/sysusers.d/nokv.conf
elif ! id nokv >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/nokv --shell /usr/sbin/nologin --user-group nokv
fi

install -d -m 0750 -g nokv /etc/nokv
[[ -f /etc/nokv/nokv.json ]] || install -m 0640 -g nokv "$CONFIG" /etc/nokv/nokv.json
[[ -f /etc/nokv/nokv.env ]] || install -m 0640 -g nokv "$ROOT/deploy/systemd/nokv.env.example" /etc/nokv/nokv.env
# The cluster's client authentication key (docs/security.md). Generated on the first VM only: copy it to the others
# (and to the application hosts) before starting them, or they refuse each other's calls.
if [[ ! -f /etc/nokv/auth.keys ]]; then
  ( umask 0027; printf '# NoKV client authentication keys: id:secret, first line signs. Same file on every silo and client.\nk1:%s\n' \
      "$(head -c 32 /dev/urandom | base64)" >/etc/nokv/auth.keys )
  chgrp nokv /etc/nokv/auth.keys
  echo "created /etc/nokv/auth.keys with a new random key: copy it to every other silo VM and application host"
fi
install -m 0644 "$ROOT/deploy/systemd/nokv-silo.service" /etc/systemd/system/nokv-silo.service
systemctl daemon-reload
echo "installed. Next: edit /etc/nokv/nokv.env (store id, address, membership credentials), then"
echo "  systemctl enable --now nokv-silo && journalctl -u nokv-silo -f"
