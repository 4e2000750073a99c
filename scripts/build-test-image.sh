#!/usr/bin/env bash
# Builds the tiny bootable guest the QEMU tests direct-boot: Debian's cloud kernel plus an
# initramfs made of busybox-static and a short /init. The /init prints a login banner on ttyS0
# (again after every line typed) and powers off on the ACPI power button, so `virsh shutdown`
# works end to end. Built once per package versions under a cache dir; prints that dir.
#
# Usage: scripts/build-test-image.sh [CACHE_ROOT]
#   CACHE_ROOT defaults to $TSVIRT_IMAGE_CACHE, else $XDG_CACHE_HOME/tsvirt/boot, else ~/.cache/tsvirt/boot.
# Output dir holds: vmlinuz, initrd.img, cmdline, versions.
# Needs: apt-get (download only, network to the Debian mirrors), dpkg-deb, gzip. No root needed.
set -euo pipefail

BANNER='tsvirt test guest login: '
KERNEL_META=linux-image-cloud-amd64
BUSYBOX=busybox-static

cache_root="${1:-${TSVIRT_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tsvirt/boot}}"
mkdir -p "$cache_root"

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}'; }

# The metapackage names the versioned kernel package; apt-cache reads local lists only.
kernel_pkg="$(apt-cache depends "$KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
kernel_ver="$(candidate "$kernel_pkg")"
busybox_ver="$(candidate "$BUSYBOX")"

newest_cached() { ls -1d "$cache_root"/*/ 2>/dev/null | while read -r d; do [ -s "$d/initrd.img" ] && echo "${d%/}"; done | tail -n 1; }

if [ -z "$kernel_pkg" ] || [ -z "$kernel_ver" ] || [ "$kernel_ver" = "(none)" ] || [ -z "$busybox_ver" ] || [ "$busybox_ver" = "(none)" ]; then
  # No package lists (apt-get update never ran): an earlier build is still good enough.
  found="$(newest_cached)"
  if [ -n "$found" ]; then echo "$found"; exit 0; fi
  echo "build-test-image: cannot resolve $KERNEL_META / $BUSYBOX with apt-cache (run apt-get update)" >&2
  exit 1
fi

# IMAGE_FORMAT changes whenever /init below changes, so cached images built by older scripts are not reused.
IMAGE_FORMAT=2
key="$(printf 'v%s_%s_%s_%s' "$IMAGE_FORMAT" "$kernel_pkg" "$kernel_ver" "$busybox_ver" | tr -c 'A-Za-z0-9._+-' '_')"
out="$cache_root/$key"
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then echo "$out"; exit 0; fi

work="$(mktemp -d "$cache_root/.build-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

# apt-get download runs its fetcher as _apt when it can; as root in a private dir it cannot.
if ! apt-get -q -o APT::Sandbox::User=root download "$kernel_pkg=$kernel_ver" "$BUSYBOX=$busybox_ver" >download.log 2>&1; then
  found="$(newest_cached)"
  if [ -n "$found" ]; then echo "build-test-image: download failed, using $found" >&2; echo "$found"; exit 0; fi
  cat download.log >&2
  exit 1
fi
dpkg-deb -x linux-image-*.deb kernel
dpkg-deb -x busybox-static_*.deb bb

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib/modules}
cp bb/bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
# The cloud kernel builds the ACPI power button and evdev as modules; /init loads them.
moddir="$(echo kernel/lib/modules/*)"
cp "$moddir/kernel/drivers/input/evdev.ko" "$moddir/kernel/drivers/acpi/button.ko" "$root/lib/modules/"

cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
hostname tsvirt-test
insmod /lib/modules/evdev.ko
insmod /lib/modules/button.ko
# Power button (ACPI, from QEMU's system_powerdown): any input event on it powers off. The
# banner promises that a powerdown is handled, so first wait (up to 5 s) for the button's event
# device to appear, start a watcher on each, and give the watchers a moment to open their device.
tries=0
while [ \$tries -lt 50 ]; do
  found=0
  for ev in /sys/class/input/event*; do
    [ "\$(cat "\$ev/device/name" 2>/dev/null)" = "Power Button" ] && [ -c "/dev/input/\${ev##*/}" ] && found=1
  done
  [ \$found = 1 ] && break
  usleep 100000
  tries=\$((tries + 1))
done
for ev in /sys/class/input/event*; do
  if [ "\$(cat "\$ev/device/name" 2>/dev/null)" = "Power Button" ]; then
    ( head -c 1 "/dev/input/\${ev##*/}" >/dev/null; echo; echo "tsvirt test guest: power button, powering off"; poweroff -f ) &
  fi
done
usleep 300000
echo "tsvirt test guest: up"
# A pretend getty: the banner again after each line, so a late console still sees one.
while true; do
  printf '\n%s' '$BANNER'
  read -r line || sleep 1
done
EOF
chmod 755 "$root/init"

(cd "$root" && find . | ./bin/busybox cpio -o -H newc 2>/dev/null) | gzip -9 >initrd.img

stage="$work/out"
mkdir -p "$stage"
cp kernel/boot/vmlinuz-* "$stage/vmlinuz"
mv initrd.img "$stage/initrd.img"
echo 'console=ttyS0 quiet' >"$stage/cmdline"
printf '%s %s\n%s %s\n' "$kernel_pkg" "$kernel_ver" "$BUSYBOX" "$busybox_ver" >"$stage/versions"
# Another build may have won the race; either result is the same.
mv -T "$stage" "$out" 2>/dev/null || true
echo "$out"
