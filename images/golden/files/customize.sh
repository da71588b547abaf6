#!/bin/sh
# mmdebstrap customize hook for golden images: runs on the build machine with
# the new root file system as $1. Settings arrive as CCOPS_IMAGE_* variables
# (checked by ccops before the build: plain names, no shell).
set -eu
root="$1"
user="$CCOPS_IMAGE_ADMIN_USER"

# the account ccops converges through; its key arrives with the deployment (the seed)
chroot "$root" useradd --create-home --shell /bin/bash "$user"
chroot "$root" install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$user" > "$root/etc/sudoers.d/ccops"
chmod 0440 "$root/etc/sudoers.d/ccops"

# sshd: no root logins; password logins as the policy says
mkdir -p "$root/etc/ssh/sshd_config.d"
password=no
[ "$CCOPS_IMAGE_SSH_PASSWORD_LOGIN" = true ] && password=yes
printf 'PasswordAuthentication %s\nKbdInteractiveAuthentication no\nPermitRootLogin no\nUseDNS no\n' "$password" \
  > "$root/etc/ssh/sshd_config.d/ccops-image.conf"

# every clone makes its own host keys and machine id at first boot: the image carries none
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  > "$root/etc/systemd/system/ssh.service.d/ccops-hostkeys.conf"
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo localhost > "$root/etc/hostname"

# the seed the imager writes to the second partition: the admin key and the host name
install -m 0755 "$CCOPS_IMAGE_FILES/ccops-seed" "$root/usr/local/sbin/ccops-seed"
install -m 0644 "$CCOPS_IMAGE_FILES/ccops-seed.service" "$root/etc/systemd/system/ccops-seed.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/ccops-seed.service "$root/etc/systemd/system/multi-user.target.wants/ccops-seed.service"

# DHCP on the wired interface, the root file system by label
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/20-wired.network"
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
printf 'LABEL=ccops-root / ext4 defaults,discard 0 1\n' > "$root/etc/fstab"

# policies and settings
if [ "$CCOPS_IMAGE_USB_STORAGE" = blocked ]; then
  printf 'blacklist usb-storage\ninstall usb-storage /bin/false\n' > "$root/etc/modprobe.d/ccops-usb-storage.conf"
fi
ln -sf "/usr/share/zoneinfo/$CCOPS_IMAGE_TIMEZONE" "$root/etc/localtime"
echo "$CCOPS_IMAGE_TIMEZONE" > "$root/etc/timezone"
printf '%s' "$CCOPS_IMAGE_MOTD" > "$root/etc/motd"

# apt keeps the sources the image was built from, plus -updates and -security
rm -f "$root/etc/apt/sources.list"
cp "$CCOPS_IMAGE_SOURCES" "$root/etc/apt/sources.list.d/debian.sources"
chmod 0644 "$root/etc/apt/sources.list.d/debian.sources"
printf 'Acquire::Check-Valid-Until "false";\n' > "$root/etc/apt/apt.conf.d/99ccops-image"

# what this image is: read by the first converge into the asset record
mkdir -p "$root/etc/ccops"
cp "$CCOPS_IMAGE_STAMP" "$root/etc/ccops/image.json"
chmod 0644 "$root/etc/ccops/image.json"

# a small initramfs that knows the virtual disk; fewer modules when the image is for VMs
printf 'MODULES=list\nCOMPRESS=zstd\n' > "$root/etc/initramfs-tools/conf.d/ccops"
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >> "$root/etc/initramfs-tools/modules"
if [ "$CCOPS_IMAGE_TRIM_MODULES" = true ]; then
  for dir in "$root"/lib/modules/*/kernel; do
    for drop in sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet drivers/infiniband \
                drivers/staging drivers/bluetooth net/bluetooth net/wireless net/mac80211 drivers/iio \
                drivers/isdn drivers/mtd drivers/hwmon drivers/usb/serial drivers/scsi/qla2xxx \
                drivers/scsi/lpfc drivers/scsi/mpt3sas drivers/net/can drivers/input/touchscreen \
                drivers/platform drivers/thunderbolt drivers/nfc net/nfc drivers/atm fs/ocfs2 fs/xfs \
                fs/btrfs fs/nfs fs/nfsd fs/ceph fs/smb fs/cifs fs/f2fs fs/gfs2 fs/jfs fs/ntfs3 net/ceph; do
      rm -rf "${dir:?}/$drop"
    done
  done
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
  rm -rf "$root"/lib/firmware/*
fi
for kdir in "$root"/lib/modules/*; do
  chroot "$root" depmod "$(basename "$kdir")"
done
chroot "$root" update-initramfs -u -k all >/dev/null
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
