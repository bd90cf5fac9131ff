#!/usr/bin/env bash
# Build, once, the Debian 12 LXC template every lab host is cloned from.
#
# The template is an ordinary stopped LXC container named cutover-tmpl-<hash>, where
# <hash> covers this script and scripts/lab-template.packages: an edit to either builds
# a new template, an unchanged pair reuses the existing one in about a second. A marker
# file written last (.cutover-ready) tells a finished template from a half-made one, which
# is destroyed and rebuilt.
#
#   scripts/lab-template.sh              ensure the template exists; print its name last
#   scripts/lab-template.sh --print-name print the name only (no build)
#   scripts/lab-template.sh --gc         also destroy older templates no container uses
#
# Services are installed in a chroot with /proc, /sys and /dev mounted and a policy-rc.d
# that refuses to start daemons (see LAB-NOTES.md: without /proc postfix ends with
# `inet_protocols =` and never listens).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES_FILE="$ROOT/scripts/lab-template.packages"
LXCPATH=${CUTOVER_LXCPATH:-$(lxc-config lxc.lxcpath)}
MIRROR=${CUTOVER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${CUTOVER_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

HASH=$(cat "${BASH_SOURCE[0]}" "$PACKAGES_FILE" | sha256sum | cut -c1-12)
NAME="cutover-tmpl-$HASH"
DIR="$LXCPATH/$NAME"
ROOTFS="$DIR/rootfs"
MARKER="$DIR/.cutover-ready"

say() { printf '[lab-template] %s\n' "$*" >&2; }

if [[ "${1:-}" == "--print-name" ]]; then
    echo "$NAME"
    exit 0
fi

# Older templates are kept while any container's config still points into them: overlay
# clones read the template's rootfs as their lower layer.
gc_old_templates() {
    local dir other
    for dir in "$LXCPATH"/cutover-tmpl-*; do
        [[ -d "$dir" && "$dir" != "$DIR" ]] || continue
        other=$(basename "$dir")
        if grep -qs -- "$dir/rootfs" "$LXCPATH"/*/config; then
            say "keeping $other: containers are still cloned from it"
            continue
        fi
        say "destroying unused older template $other"
        lxc-destroy -n "$other" >/dev/null 2>&1 || rm -rf "$dir"
    done
}

if [[ -f "$MARKER" ]]; then
    [[ "${1:-}" == "--gc" ]] && gc_old_templates
    echo "$NAME"
    exit 0
fi

# --- a half-made template (killed build) is destroyed, never patched -----------------
unmount_chroot() {
    local m
    # Deepest first, so /dev/pts goes before /dev.
    for m in dev/pts dev sys proc; do
        if mountpoint -q "$ROOTFS/$m" 2>/dev/null; then umount -l "$ROOTFS/$m"; fi
    done
}
if [[ -d "$DIR" ]]; then
    say "removing half-made template $NAME"
    unmount_chroot
    lxc-destroy -n "$NAME" >/dev/null 2>&1 || rm -rf "$DIR"
fi

started=$(date +%s)
say "building $NAME (Debian 12 bookworm; a few minutes the first time)"

# debootstrap through the lxc debian template; it caches the bare rootfs in
# /var/cache/lxc/debian, so a rebuild after an edit skips the download.
lxc-create -n "$NAME" -t debian -- -r bookworm \
    --mirror="$MIRROR" --security-mirror="$SECURITY_MIRROR" >&2

trap unmount_chroot EXIT
mount -t proc proc "$ROOTFS/proc"
mount -t sysfs sysfs "$ROOTFS/sys"
mount --bind /dev "$ROOTFS/dev"
mount --bind /dev/pts "$ROOTFS/dev/pts"

in_chroot() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

# No daemon may start inside the chroot: it would outlive the build and hold mounts.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"

# Postfix asks questions at install time; answer them. The real mailname of each host
# is set by Ansible; this one only has to be valid.
in_chroot debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string lab.invalid
SEL

mapfile -t PACKAGES < <(grep -v '^\s*\(#\|$\)' "$PACKAGES_FILE")
in_chroot apt-get update -qq
in_chroot apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
in_chroot apt-get clean

# --- identity: each clone gets its own machine-id and SSH host keys at first boot ------
: >"$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
cat >"$ROOTFS/etc/systemd/system/cutover-ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate this host's own SSH host keys (the template has none)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target ssh.service
UNIT
in_chroot systemctl enable cutover-ssh-hostkeys.service >&2

# --- sshd: root by key only ------------------------------------------------------------
cat >"$ROOTFS/etc/ssh/sshd_config.d/cutover.conf" <<'SSHD'
# Lab hosts are reached by the lab's own key, never by password.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
SSHD
install -d -m 0700 "$ROOTFS/root/.ssh"
: >"$ROOTFS/root/.ssh/authorized_keys"
chmod 0600 "$ROOTFS/root/.ssh/authorized_keys"

# --- network: LXC sets the address; DHCP on eth0 would hang the boot -------------------
cat >"$ROOTFS/etc/network/interfaces" <<'NET'
auto lo
iface lo inet loopback

# The address comes from lxc.net.0.ipv4.address; there is no DHCP in the lab.
auto eth0
iface eth0 inet manual
NET
# Resolution inside the lab is configured by Ansible (the lab resolver host).
: >"$ROOTFS/etc/resolv.conf"

# --- BIND: authoritative-only by default (no internet: recursion would spin on the roots)
cat >"$ROOTFS/etc/bind/named.conf.options" <<'BIND'
options {
	directory "/var/cache/bind";
	// The lab has no internet: no recursion, no root priming (see LAB-NOTES.md).
	recursion no;
	allow-query { any; };
	listen-on-v6 { none; };
	dnssec-validation no;
};
BIND

rm -f "$ROOTFS/usr/sbin/policy-rc.d"
unmount_chroot
trap - EXIT

touch "$MARKER"
say "built $NAME in $(($(date +%s) - started)) s"
[[ "${1:-}" == "--gc" ]] && gc_old_templates
echo "$NAME"
