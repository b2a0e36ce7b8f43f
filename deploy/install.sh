#!/usr/bin/env bash
# Builds softcopy in release mode and installs it on this machine:
#   /usr/local/bin/softcopy-coordinator, /usr/local/bin/softcopy-agent
#   /etc/systemd/system/softcopy-coordinator.service, softcopy-agent.service
#   /etc/softcopy/agent.env                (the example, if none exists yet)
#   /etc/softcopy/targets.yaml            (the example, if none exists yet)
#   /usr/local/share/softcopy/softcopy.avahi.service  (the static Avahi alternative, not active)
#   /etc/sysctl.d/60-softcopy.conf        (more inotify watches for archives with many folders)
#   /usr/local/share/doc/softcopy/        (docs)
# Run as root from the repository. It does not enable or start the service.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

scripts/setup.sh
swift build -c release --product softcopy-coordinator
swift build -c release --product softcopy-agent
bin="$(swift build -c release --show-bin-path)"
install -m 0755 "$bin/softcopy-coordinator" /usr/local/bin/softcopy-coordinator
install -m 0755 "$bin/softcopy-agent" /usr/local/bin/softcopy-agent
install -m 0644 deploy/softcopy-coordinator.service /etc/systemd/system/softcopy-coordinator.service
install -m 0644 deploy/softcopy-agent.service /etc/systemd/system/softcopy-agent.service
install -d -m 0755 /etc/softcopy /usr/local/share/doc/softcopy
[ -e /etc/softcopy/targets.yaml ] || install -m 0644 deploy/targets.example.yaml /etc/softcopy/targets.yaml
[ -e /etc/softcopy/agent.env ] || install -m 0644 deploy/agent.env /etc/softcopy/agent.env
install -m 0644 docs/*.md /usr/local/share/doc/softcopy/
install -d -m 0755 /usr/local/share/softcopy
install -m 0644 deploy/softcopy.avahi.service /usr/local/share/softcopy/softcopy.avahi.service
echo "fs.inotify.max_user_watches = 1048576" > /etc/sysctl.d/60-softcopy.conf
sysctl -q -p /etc/sysctl.d/60-softcopy.conf || true
id softcopy >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin softcopy
# The agent's data root, owned by the user the agent runs as (the unit's User=).
root="$(sed -n 's/^SOFTCOPY_ROOT=//p' /etc/softcopy/agent.env | tail -1)"
if [ -n "$root" ] && [ ! -e "$root" ]; then
    install -d -m 0750 -o softcopy -g softcopy "$root"
    echo "made the agent's data root $root (owned by softcopy)"
fi
command -v systemctl >/dev/null && systemctl daemon-reload || true
echo "installed. Edit /etc/softcopy/targets.yaml (its watch: folders, and User= in the unit), then: systemctl enable --now softcopy-coordinator"
echo "the dashboard is then at http://$(hostname):7480/ (with token_file set, open it as http://$(hostname):7480/#token=TOKEN)"
echo "on a storage node: edit /etc/softcopy/agent.env, then: systemctl enable --now avahi-daemon softcopy-agent"
