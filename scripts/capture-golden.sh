#!/usr/bin/env bash
# Re-creates test/fixtures/golden/*.json from a private real libvirtd (see test/fixtures/golden/README.md).
# Needs root, libvirt-daemon-system, libvirt-clients, python3-libvirt, tshark, libvirt-wireshark.
# Usage: bash scripts/capture-golden.sh [scenario...]   (CAPTURE_PCAP_DIR=dir keeps the .pcap files)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in tshark virsh /usr/sbin/libvirtd /usr/bin/python3 unshare setpriv; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "capture-golden: missing ${missing[*]} (see .ci/run for the packages)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "capture-golden: run as root (private mount namespace, capture on lo)" >&2
  exit 1
fi
/usr/bin/python3 -c 'import libvirt' || { echo "capture-golden: python3-libvirt missing" >&2; exit 1; }
if ! tshark -G protocols 2>/dev/null | grep -q $'\tlibvirt$'; then
  echo "capture-golden: tshark has no libvirt dissector (install libvirt-wireshark)" >&2
  exit 1
fi

exec node --import tsx scripts/capture/main.ts "$@"
