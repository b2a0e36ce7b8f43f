#!/usr/bin/env bash
# Separate hosts on one machine, for discovery tests: network namespaces on a bridge, each
# with its own dbus-daemon and avahi-daemon (see docs/testing.md). Needs root.
#   tools/netns.sh up PREFIX N      hosts PREFIX1..PREFIXN at 10.77.0.11.., a switch PREFIXsw
#   tools/netns.sh exec PREFIX I CMD...   run CMD on host I, on that host's system bus
#   tools/netns.sh restart-avahi PREFIX I   kill host I's avahi-daemon and start it again
#   tools/netns.sh down PREFIX      stop everything in the hosts, delete them
# PREFIX must be short (interface names are at most 15 characters), such as sc4711.
set -euo pipefail
cmd=$1
prefix=$2
state=/tmp/softcopy-netns-$prefix

host() { echo "${prefix}h$1"; }

case "$cmd" in
up)
    n=$3
    mkdir -p "$state" /run/dbus /run/avahi-daemon
    ip netns add "${prefix}sw"
    ip -n "${prefix}sw" link add br0 type bridge mcast_snooping 0
    ip -n "${prefix}sw" link set br0 up
    for i in $(seq 1 "$n"); do
        h=$(host "$i")
        ip netns add "$h"
        ip link add eth0 netns "$h" type veth peer name "p$i" netns "${prefix}sw"
        ip -n "${prefix}sw" link set "p$i" master br0 up
        ip -n "$h" addr add "10.77.0.$((10 + i))/24" dev eth0
        ip -n "$h" link set eth0 up
        ip -n "$h" link set lo up
        mkdir -p "$state/$h/run-dbus" "$state/$h/run-avahi"
        chmod 755 "$state/$h/run-dbus" "$state/$h/run-avahi"
        cat > "$state/$h/avahi.conf" <<CONF
[server]
host-name=$h
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
CONF
        # ip netns exec gives the command a mount namespace of its own: the daemons see the
        # host's folders as /run/dbus and /run/avahi-daemon, and nothing else does.
        ip netns exec "$h" sh -c "
            mount --bind '$state/$h/run-dbus' /run/dbus &&
            mount --bind '$state/$h/run-avahi' /run/avahi-daemon &&
            dbus-daemon --system --fork --print-pid > '$state/$h/dbus.pid' &&
            avahi-daemon -D -f '$state/$h/avahi.conf' --no-chroot"
    done
    # Wait (bounded) for every avahi-daemon to be on its bus.
    for i in $(seq 1 "$n"); do
        h=$(host "$i")
        for _ in $(seq 1 100); do
            [ -s "$state/$h/run-avahi/pid" ] && break
            sleep 0.1
        done
        [ -s "$state/$h/run-avahi/pid" ] || { echo "netns: avahi-daemon did not start on $h" >&2; exit 1; }
    done
    ;;
restart-avahi)
    h=$(host "$3")
    kill "$(cat "$state/$h/run-avahi/pid")"
    for _ in $(seq 1 100); do [ -e "$state/$h/run-avahi/pid" ] || break; sleep 0.1; done
    rm -f "$state/$h/run-avahi/pid"
    ip netns exec "$h" sh -c "
        mount --bind '$state/$h/run-dbus' /run/dbus &&
        mount --bind '$state/$h/run-avahi' /run/avahi-daemon &&
        avahi-daemon -D -f '$state/$h/avahi.conf' --no-chroot"
    ;;
exec)
    i=$3
    shift 3
    h=$(host "$i")
    exec ip netns exec "$h" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$state/$h/run-dbus/system_bus_socket" "$@"
    ;;
down)
    for ns in $(ip netns list | awk '{print $1}' | grep "^${prefix}" || true); do
        pids=$(ip netns pids "$ns" || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
        ip netns del "$ns" || true
    done
    rm -rf "$state"
    ;;
*)
    echo "usage: $0 up PREFIX N | exec PREFIX I CMD... | restart-avahi PREFIX I | down PREFIX" >&2
    exit 2
    ;;
esac
