#!/usr/bin/env bash
# Regenerates test/fixtures/xml/ from real libvirt 9.0 (virsh runs the test driver in-process,
# so no daemon is needed). Each config gets a folder holding one file per object plus a
# manifest.tsv (kind, name, pool, file) that the tests iterate over.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test/fixtures/xml
DATA=/work/shared/testdata

# File-name-safe form of an object name.
safe() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

capture() {
  local uri=$1 dir=$OUT/$2
  rm -rf "$dir"; mkdir -p "$dir"
  local man=$dir/manifest.tsv
  : >"$man"
  local v="virsh -q -c $uri"
  while read -r d; do
    [ -n "$d" ] || continue
    local f; f=domain-$(safe "$d")
    $v dumpxml "$d" >"$dir/$f.xml"
    $v dumpxml --inactive "$d" >"$dir/$f.inactive.xml"
    $v dumpxml --security-info "$d" >"$dir/$f.secure.xml"
    printf 'domain\t%s\t\t%s\n' "$d" "$f" >>"$man"
  done < <($v list --all --name)
  while read -r n; do
    [ -n "$n" ] || continue
    local f; f=network-$(safe "$n")
    $v net-dumpxml "$n" >"$dir/$f.xml"
    printf 'network\t%s\t\t%s\n' "$n" "$f" >>"$man"
  done < <($v net-list --all --name)
  while read -r p; do
    [ -n "$p" ] || continue
    local f; f=pool-$(safe "$p")
    $v pool-dumpxml "$p" >"$dir/$f.xml"
    printf 'pool\t%s\t\t%s\n' "$p" "$f" >>"$man"
    # vol-list rows are "NAME  PATH"; names never hold spaces in these configs.
    while read -r vol _; do
      [ -n "$vol" ] || continue
      local vf; vf=volume-$(safe "$p")--$(safe "$vol")
      $v vol-dumpxml --pool "$p" "$vol" >"$dir/$vf.xml"
      printf 'volume\t%s\t%s\t%s\n' "$vol" "$p" "$vf" >>"$man"
    done < <($v vol-list "$p")
  done < <($v pool-list --all --name)
  while read -r i _; do
    [ -n "$i" ] || continue
    local f; f=interface-$(safe "$i")
    $v iface-dumpxml "$i" >"$dir/$f.xml"
    printf 'interface\t%s\t\t%s\n' "$i" "$f" >>"$man"
  done < <($v iface-list --all)
  $v capabilities >"$dir/capabilities.xml"
  $v nodeinfo >"$dir/nodeinfo.txt"
}

# Keep copies of the source configs next to the fixtures so the tests are self-contained.
SRC=$OUT/sources
rm -rf "$SRC"; mkdir -p "$SRC"
cp -r "$DATA/libvirt-testnode" "$DATA/virt-manager-testdriver" "$SRC/"
capture test:///default default
capture "test://$PWD/$SRC/libvirt-testnode/testnode.xml" testnode
capture "test://$PWD/$SRC/virt-manager-testdriver/testdriver.xml" testdriver
/usr/bin/python3 scripts/capture-xml-errors.py >"$OUT/errors.json"
echo "fixtures written under $OUT"
