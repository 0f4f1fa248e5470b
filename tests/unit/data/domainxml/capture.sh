#!/bin/bash
# Re-capture the domain XML test data from the project's lab: run as root from the project
# directory (it needs .venv). The lab runs in a throwaway network and mount namespace, so
# nothing touches the machine's network, and `lab down` always runs.
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
lab=$(mktemp -d /tmp/domainxml-lab.XXXXXX)
rmdir "$lab"

OUT=$out LAB=$lab unshare --net --mount -- bash -c '
set -euo pipefail
ip link set lo up
H() { .venv/bin/hvbridge --lab-dir "$LAB" "$@"; }
on() { H lab ssh hv01 "$@"; }
trap "H lab down" EXIT
H lab up --hosts 1 >/dev/null

on virsh dumpxml --inactive v1 >"$OUT/v1-inactive.xml"
on cat /etc/libvirt/qemu/v1.xml >"$OUT/v1-file.xml"
on virsh start v1 >/dev/null
on virsh dumpxml v1 >"$OUT/v1-live.xml"
on virsh destroy v1 >/dev/null

on "cat >/tmp/v2-input.xml" <"$OUT/v2-input.xml"
on virsh define /tmp/v2-input.xml >/dev/null
on virsh dumpxml --inactive v2 >"$OUT/v2-inactive.xml"

# What libvirt makes of an edit of ours: its own serialisation, with the PCI address it
# assigns to the added interface. A second edit of it must change nothing.
edit="
import sys
from hvbridge.domainxml import WantedInterface, edit_interfaces
wanted = [WantedInterface(\"br0\", \"52:54:00:48:00:01\"), WantedInterface(\"br1\", \"52:54:00:48:00:02\")]
print(edit_interfaces(sys.stdin.read(), wanted).xml, end=\"\")
"
.venv/bin/python -c "$edit" <"$OUT/v1-inactive.xml" | on "cat >/tmp/v1-bridged.xml"
on virsh define /tmp/v1-bridged.xml >/dev/null
on virsh dumpxml --inactive v1 >"$OUT/v1-bridged-inactive.xml"
on virsh version >"$OUT/versions.txt"
'
