"""The lab's software catalogue: the test softphone, built here, required on every Debian lab host."""

from __future__ import annotations

from pathlib import Path

import yaml

from ccops.checksums import sha256_file
from ccops.inventory.variants import DEBIAN_VARIANTS
from ccops.software.catalogue import CATALOGUE_DIR
from ccops.software.testapps import SOFTPHONE, SOFTPHONE_PORT, build_all

HEADER = "# Written by `ccops lab catalogue`; `ccops lab down` removes it with the lab inventory.\n"


def lab_catalogue(cache: Path, desired: str | None) -> dict[str, object]:
    debs = build_all(cache)
    versions = {
        version: {
            variant: {
                "type": "deb",
                "package": SOFTPHONE,
                "version": version,
                "file": path.name,
                "sha256": sha256_file(path),
            }
            for variant in DEBIAN_VARIANTS
        }
        for version, path in debs.items()
    }
    doc: dict[str, object] = {
        "artefacts": str(cache),
        "applications": {
            SOFTPHONE: {
                "health": {"service": SOFTPHONE, "port": SOFTPHONE_PORT},
                "config_paths": ["/etc/ccops-softphone"],
                "versions": versions,
            }
        },
        "requirements": [],
    }
    if desired is not None:
        doc["requirements"] = [{"app": SOFTPHONE, "version": desired, "os": list(DEBIAN_VARIANTS)}]
    return doc


def write_lab_catalogue(inventory: Path, cache: Path, desired: str | None) -> Path:
    folder = inventory / CATALOGUE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "softphone.yml"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + yaml.safe_dump(lab_catalogue(cache, desired), sort_keys=False, width=100))
    tmp.replace(path)
    return path
