"""ccops lab up|status|down: real Debian hosts on this machine, for trying and testing ccops."""

from __future__ import annotations

from pathlib import Path

import click

from ccops.cli.options import output_option
from ccops.cli.output import echo, emit_json, table
from ccops.errors import EXIT_HOSTS_FAILED, LabError
from ccops.inventory.variants import DEBIAN_VARIANTS


@click.group()
def lab() -> None:
    """A local fleet of Debian hosts (podman containers with systemd and sshd).

    Images are built once with mmdebstrap from this machine's own Debian
    sources. Hosts live on the lab's own internal podman network (ccops-lab,
    10.213.0.0/24, no route out), reached from this machine at their
    addresses, and are written into inventory/lab, which ccops (and
    ansible-inventory) use by default.
    """


def _variants(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@lab.command()
@click.option(
    "--hosts",
    "count",
    type=click.IntRange(1, 60),
    default=3,
    show_default=True,
    help="How many hosts, spread round-robin over the variants.",
)
@click.option(
    "--variants", default=",".join(DEBIAN_VARIANTS), show_default=True, help="Comma-separated Debian variants."
)
@click.option(
    "--first-address",
    default="10.213.0.10",
    show_default=True,
    help="The first host's address on the lab network; hosts get consecutive ones.",
)
def up(count: int, variants: str, first_address: str) -> None:
    """Bring the fleet to exactly --hosts hosts (idempotent).

    Existing hosts are checked too: a host whose boot stalled (or that never
    boots) is recreated, a few times at most. The inventory lists the hosts
    that came up; those that did not are named, and the exit code is 2.
    """
    from ccops.lab import fleet
    from ccops.lab.network import parse_first_address

    first = parse_first_address(first_address)
    result = fleet.up(count, _variants(variants), first, say=lambda m: echo(m, err=True))
    if result.hosts:
        echo(table([[h.name, h.variant, f"{h.address}:22"] for h in result.hosts], ["HOST", "VARIANT", "SSH"]))
    if result.failed:
        named = "; ".join(f"{name}: {why}" for name, why in result.failed.items())
        raise LabError(
            f"{len(result.failed)} of {count} lab host(s) did not come up ({named}); "
            f"{fleet.inventory_dir()} lists the {len(result.hosts)} that did; "
            "ccops lab up again retries them",
            exit_code=EXIT_HOSTS_FAILED,
        )
    echo(f"lab ready: {len(result.hosts)} host(s) in {fleet.inventory_dir()}; next: ccops inspect", err=True)


@lab.command()
@output_option()
def status(output: str) -> None:
    """Each lab host's container state and whether sshd answers."""
    from ccops.lab import fleet

    hosts = fleet.status()
    if output == "json":
        emit_json(hosts)
        return
    if not hosts:
        echo("no lab hosts; start some with: ccops lab up")
        return
    echo(
        table(
            [[h["host"], h["variant"], f"{h['address']}:22", h["container"], h["ssh"]] for h in hosts],
            ["HOST", "VARIANT", "SSH", "CONTAINER", "SSHD"],
        )
    )


@lab.command()
@click.option("--images", is_flag=True, help="Also remove the lab images (the next lab up rebuilds them).")
def down(images: bool) -> None:
    """Remove the lab hosts, the lab's virtual machines and the lab inventory; nothing else."""
    from ccops.lab import fleet, vm_fleet, vms

    removed = fleet.down(images, say=lambda m: echo(m, err=True))
    echo(f"removed {removed} lab host(s)")
    if vms.known():  # the lab's virtual machines go with it (their site file may sit in the lab inventory)
        echo(f"removed {vm_fleet.down(say=lambda m: echo(m, err=True))} lab machine(s)")


@lab.command()
@click.option("--require", "version", help="Require this softphone version on every Debian lab host (1.0, 2.0, 2.1).")
def catalogue(version: str | None) -> None:
    """Build the test softphone (dpkg-deb, 1.0, 2.0 and a broken 2.1) into the
    lab's cache and write the lab inventory's software catalogue for it."""
    from ccops.lab import fleet
    from ccops.paths import state_dir
    from ccops.software.lab import write_lab_catalogue

    path = write_lab_catalogue(fleet.inventory_dir(), state_dir() / "lab" / "artefacts", version)
    echo(f"catalogue written: {path}; next: ccops software stage")


@lab.group()
def vm() -> None:
    """Blank virtual machines that network-boot (QEMU, software emulation), for ccops deploy.

    Each machine has an empty disk, a fixed MAC address and SSH forwarded to
    127.0.0.1; its network is QEMU's user mode with restrict=on, so it reaches
    nothing but the distribution point ccops deploy serves. The machines are
    written into the inventory as planned hosts (sites/lab-vm.yml).
    """


@vm.command("up")
@click.option("--count", type=click.IntRange(1, 4), default=1, show_default=True, help="How many machines.")
@click.option(
    "--inventory",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Inventory folder for the site file (default: the lab inventory).",
)
def vm_up(count: int, folder: Path | None) -> None:
    """Bring the VM lab to exactly --count machines; new ones are blank and wait at PXE."""
    from ccops.lab import vm_fleet

    machines = vm_fleet.up(count, folder, say=lambda m: echo(m, err=True))
    echo(table([[v.name, v.mac, f"127.0.0.1:{v.ssh_port}"] for v in machines], ["HOST", "MAC", "SSH"]))


@vm.command("status")
@output_option()
def vm_status(output: str) -> None:
    """Each lab machine: QEMU running or off, its disk blank or written."""
    from ccops.lab import vm_fleet

    rows = vm_fleet.status()
    if output == "json":
        emit_json(rows)
        return
    if not rows:
        echo("no lab machines; start some with: ccops lab vm up")
        return
    echo(table([list(r.values()) for r in rows], ["HOST", "MAC", "SSH", "QEMU", "DISK"]))


@vm.command("down")
def vm_down() -> None:
    """Power off and remove the lab machines (their QEMU processes, by pid) and their site file."""
    from ccops.lab import vm_fleet

    echo(f"removed {vm_fleet.down(say=lambda m: echo(m, err=True))} lab machine(s)")
