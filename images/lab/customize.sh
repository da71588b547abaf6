#!/bin/sh
# mmdebstrap customize hook for lab images: runs on the build machine with the
# new root file system as $1. CCOPS_LAB_SOURCES names the apt sources the image
# keeps (release, -updates, -security); CCOPS_LAB_USER the account ccops uses.
set -eu
root="$1"
user="${CCOPS_LAB_USER:-ccops}"

chroot "$root" useradd --create-home --shell /bin/bash "$user"
chroot "$root" install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
printf '%s ALL=(ALL:ALL) ALL\n' "$user" > "$root/etc/sudoers.d/ccops"
chmod 0440 "$root/etc/sudoers.d/ccops"

# keys only, no root logins
mkdir -p "$root/etc/ssh/sshd_config.d"
printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\nUseDNS no\n' \
  > "$root/etc/ssh/sshd_config.d/ccops-lab.conf"

# every container makes its own host keys at first boot; ccops lab up records them
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  > "$root/etc/systemd/system/ssh.service.d/ccops-hostkeys.conf"
chroot "$root" systemctl enable ssh.service >/dev/null 2>&1 || true

# units that only make sense on bare metal
for unit in systemd-udevd.service systemd-udev-trigger.service getty@tty1.service \
            systemd-remount-fs.service systemd-firstboot.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# the lab restore card (reverts /usr, /etc and /var/lib/dpkg at boot once enabled)
here="$(dirname "$0")"
install -m 0755 "$here/restore-card" "$root/usr/local/sbin/ccops-restore-card"
install -m 0644 "$here/ccops-restore-card.service" "$root/etc/systemd/system/ccops-restore-card.service"
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sf /etc/systemd/system/ccops-restore-card.service \
  "$root/etc/systemd/system/sysinit.target.wants/ccops-restore-card.service"
# an application health check the lab inventory declares, and a seat-busy flag folder
install -m 0755 "$here/health" "$root/usr/local/bin/ccops-lab-health"
mkdir -p "$root/var/lib/ccops-lab" "$root/etc/ccops-lab"
printf 'setting=1\n' > "$root/etc/ccops-lab/app.conf"

# apt inside the image uses the same sources it was built from, plus updates and security
rm -f "$root/etc/apt/sources.list"
cp "$CCOPS_LAB_SOURCES" "$root/etc/apt/sources.list.d/debian.sources"
printf 'Acquire::Check-Valid-Until "false";\n' > "$root/etc/apt/apt.conf.d/99ccops-lab"
