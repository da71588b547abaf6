"""A site's distribution point as built on the controller: the test softphone in a signed apt repository."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ccops.inventory.load import load_inventory
from ccops.software.catalogue import load_catalogue
from ccops.software.desired import desired_items
from ccops.software.lab import write_lab_catalogue
from ccops.software.points import build_site_tree, ensure_key, load_staged, save_staged, unstaged
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.skipif(
    not (shutil.which("apt-ftparchive") and shutil.which("gpg") and shutil.which("dpkg-deb")),
    reason="needs apt-utils, gpg and dpkg-deb (scripts/setup)",
)


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    root = tmp_path / "inv"
    shutil.copytree(EXAMPLE, root)
    write_lab_catalogue(root, tmp_path / "cache", "2.0")
    return load_inventory(root)


def test_the_repository_is_signed_by_the_inventory_key_and_rebuilt_only_when_it_changes(inventory, tmp_path):
    keys = ensure_key(inventory)
    assert (keys.home.stat().st_mode & 0o777) == 0o700
    private = list(keys.home.rglob("*.key"))
    assert private and all((p.stat().st_mode & 0o077) == 0 for p in private)
    catalogue = load_catalogue(inventory.root)
    tree = build_site_tree(inventory, catalogue, "shapd", keys)
    assert tree.refused == []
    names = [rel for rel, _ in tree.files]
    assert "debian/pool/debian12/ccops-softphone_2.0_all.deb" in names
    # artefacts first, then each variant's index, its InRelease last: hosts never see an index ahead of its files
    first_index = min(i for i, n in enumerate(names) if "/dists/" in n)
    assert all("/pool/" in n for n in names[:first_index])
    assert names.index("debian/dists/debian12/InRelease") > names.index(
        "debian/dists/debian12/main/binary-all/Packages"
    )
    dist = tree.root / "debian" / "dists" / "debian12"
    packages = (dist / "main" / "binary-all" / "Packages").read_text()
    assert "Package: ccops-softphone\nVersion: 2.1" in packages or "Version: 2.1" in packages
    verified = subprocess.run(
        ["gpgv", "--keyring", str(keys.public), str(dist / "InRelease")], capture_output=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    release = (dist / "InRelease").read_bytes()
    again = build_site_tree(inventory, catalogue, "shapd", keys)
    assert (dist / "InRelease").read_bytes() == release  # nothing changed: nothing to send again
    assert again.files == tree.files


def test_a_corrupted_artefact_is_refused_and_left_out_of_the_repository(inventory, tmp_path):
    keys = ensure_key(inventory)
    catalogue = load_catalogue(inventory.root)
    deb = tmp_path / "cache" / "ccops-softphone_2.1_all.deb"
    deb.write_bytes(deb.read_bytes()[:-10] + b"corrupted!")
    tree = build_site_tree(inventory, catalogue, "shapd", keys)
    assert any("ccops-softphone 2.1 (debian12)" in r and "differs from the catalogue" in r for r in tree.refused)
    assert not any("2.1" in rel for rel, _ in tree.files)
    packages = (tree.root / "debian/dists/debian12/main/binary-all/Packages").read_text()
    assert "Version: 2.1" not in packages and "Version: 2.0" in packages


def test_runs_are_refused_until_the_point_holds_the_artefacts_verified(inventory):
    catalogue = load_catalogue(inventory.root)
    hosts = [h for h in inventory.hosts.values() if h.site == "shapd" and h.os == "debian12"][:3]
    items = desired_items(catalogue, hosts)
    assert any("not staged and verified at site shapd" in r for r in unstaged(inventory, hosts, items))
    keys = ensure_key(inventory)
    tree = build_site_tree(inventory, catalogue, "shapd", keys)
    save_staged(inventory, "shapd", dict(tree.files))
    assert load_staged(inventory, "shapd") == dict(tree.files)
    assert unstaged(inventory, hosts, items) == []
