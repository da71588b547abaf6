"""The Debian inspection script's reading of apt's simulation: pending and security updates."""

import importlib.util

from tests.conftest import ROOT

SPEC = importlib.util.spec_from_file_location("debian_inventory", ROOT / "roles/asset/library/ccops_asset_debian.py")
assert SPEC is not None and SPEC.loader is not None
debian_inventory = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(debian_inventory)

SIMULATION = """\
Reading package lists...
Inst libc6 [2.41-12+deb13u4] (2.41-12+deb13u5 Debian:13.8/stable [amd64])
Inst liblzma5 [5.8.1-1+deb13u1] (5.8.1-1+deb13u2 Debian:13.8/stable, Debian-Security:13/stable-security [amd64])
Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64]) []
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable, Debian:12-updates/stable-updates [all])
Conf libc6 (2.41-12+deb13u5 Debian:13.8/stable [amd64])
"""


def test_a_version_that_a_point_release_and_the_security_suite_both_offer_counts_as_security():
    found = debian_inventory.parse_simulation(SIMULATION)
    by_name = {i["name"]: i for i in found["items"]}
    assert found["pending"] == 4 and found["security"] == 2
    assert by_name["liblzma5"]["security"] and by_name["libssl3"]["security"]
    assert not by_name["libc6"]["security"] and not by_name["tzdata"]["security"]
    assert by_name["liblzma5"]["origin"] == "Debian:13.8/stable, Debian-Security:13/stable-security"
    assert (by_name["liblzma5"]["from"], by_name["liblzma5"]["to"]) == ("5.8.1-1+deb13u1", "5.8.1-1+deb13u2")
