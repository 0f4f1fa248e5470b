#!/bin/bash
# Re-capture the netstate test data: run as root from anywhere.
#
# Every scenario runs in its own throwaway network and mount namespace, so the
# machine's network is never touched and every device vanishes with the shell.
# sysfs is mounted afresh inside because brctl reads bridges and ports from
# /sys/class/net, which otherwise still shows the parent namespace.
# MACs are fixed so that bridge ids (which follow the lowest port MAC, as on
# EL6) are the same on every capture.
set -euo pipefail

out=${1:-$(cd "$(dirname "$0")" && pwd)}

common='
set -euo pipefail
mount -t sysfs sysfs /sys
ip link set lo up
veth() { ip link add "$1" address "$2" type veth peer name "$3" address "$4"; ip link set "$3" up; }
wait_up() {
    for _ in $(seq 50); do
        [ "$(cat /sys/class/net/$1/operstate)" = up ] && return 0
        sleep 0.1
    done
    echo "$1 never came up" >&2; return 1
}
capture() {
    mkdir -p "$1"
    brctl show >"$1/brctl-show.txt"
    ip -j -d link show >"$1/ip-link.json"
    ip -j -4 addr show >"$1/ip-addr.json"
    ip -j -4 route show >"$1/ip-route.json"
    # The text forms that every iproute since 2.6.32 prints, for hosts without -j.
    ip -o -d link show >"$1/ip-link.txt"
    ip -o -4 addr show >"$1/ip-addr.txt"
    ip -4 route show >"$1/ip-route.txt"
}
'

# The seed after step 6, plus what a busy hypervisor also has: br0 over eth0
# holding the host address and default route, with a guest tap (vnet0, MAC
# fe:.. as libvirt makes it so the bridge never adopts it); br1 with STP and
# three ports, so brctl prints continuation lines; an empty bridge; a tun
# device outside any bridge.
bridged='
veth eth0 02:48:56:00:00:01 sw-eth0 02:48:56:00:ff:01
ip tuntap add dev vnet0 mode tap
ip link set vnet0 address fe:54:00:da:c3:dc
ip link add br0 type bridge forward_delay 0 stp_state 0
ip link set eth0 master br0 up
ip link set vnet0 master br0 up
ip link set br0 up
ip addr add 198.18.129.1/17 dev br0
wait_up br0
ip route add default via 198.18.128.1 dev br0

ip link add br1 type bridge stp_state 1 priority 28672
for p in a b c; do
    veth "vport-$p" "02:48:56:00:01:0$p" "vpeer-$p" "02:48:56:00:ff:1$p"
    ip link set "vport-$p" master br1 up
done
ip link set br1 up

ip link add br-empty address 02:48:56:00:02:00 type bridge
ip link set br-empty up
ip tuntap add dev tun0 mode tun
capture "$OUT/bridged"
'

# Before the change: eth0 holds the address and the default route, no bridge.
unbridged='
veth eth0 02:48:56:00:00:01 sw-eth0 02:48:56:00:ff:01
ip link set eth0 up
ip addr add 198.18.129.1/17 dev eth0
wait_up eth0
ip route add default via 198.18.128.1 dev eth0
capture "$OUT/unbridged"
'

# A restart that stopped half way: eth0 is enslaved to br0 but still holds the
# address and the default route; br0 has no address.
half_done='
veth eth0 02:48:56:00:00:01 sw-eth0 02:48:56:00:ff:01
ip link set eth0 up
ip addr add 198.18.129.1/17 dev eth0
wait_up eth0
ip route add default via 198.18.128.1 dev eth0
ip link add br0 type bridge forward_delay 0 stp_state 0
ip link set eth0 master br0
ip link set br0 up
wait_up br0
capture "$OUT/half-done"
'

for scenario in "$bridged" "$unbridged" "$half_done"; do
    OUT=$out unshare --net --mount -- bash -c "$common$scenario"
done
{ ip -V; brctl --version; uname -r; } >"$out/versions.txt"
