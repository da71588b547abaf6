# ccops inventory plugin: stock Ansible reads the site inventory exactly as ccops does.
from __future__ import annotations

DOCUMENTATION = r"""
name: ccops
short_description: ccops call-centre site inventory
description:
  - Reads the ccops site files (one YAML file per call-centre site) named by a
    C(ccops.yml) file, expands host ranges and builds groups per site, city,
    role, OS variant, OS family, business line and lifecycle state.
  - Uses the same code as C(ccops inventory list), so both always agree.
options:
  plugin:
    description: Must be C(ccops).
    required: true
    choices: [ccops]
  sites:
    description: Folder of site files, relative to the C(ccops.yml) file.
    default: sites
  offline:
    description: The inventory is for planning only; ccops refuses to run verbs against it.
    type: bool
    default: false
"""

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

try:  # ansible-core 2.19+: values from inventory plugins are not templated unless trusted
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older cores template everything

    def trust_as_template(value: Any) -> Any:
        return value


class InventoryModule(BaseInventoryPlugin):
    NAME = "ccops"

    def verify_file(self, path: str) -> bool:
        name = Path(path).name
        return super().verify_file(path) and (
            name in ("ccops.yml", "ccops.yaml") or name.endswith(".ccops-snapshot.json")
        )

    # inventory and loader are Ansible's InventoryData and DataLoader (untyped)
    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        from ccops.inventory.export import (
            SECRET_VARS,
            TRUSTED_TEMPLATES,
            host_groups,
            host_vars,
            site_group,
            site_vars,
        )
        from ccops.inventory.load import check_inventory

        if path.endswith(".ccops-snapshot.json"):
            self._parse_snapshot(inventory, Path(path), SECRET_VARS, TRUSTED_TEMPLATES)
            return
        model, problems = check_inventory(Path(path))
        if problems or model is None:
            raise AnsibleParserError("\n".join(str(p) for p in problems))
        for site in model.sites.values():
            group = inventory.add_group(site_group(site.code))
            for key, value in site_vars(site).items():
                inventory.set_variable(group, key, value)
        for host in model.hosts.values():
            site = model.sites[host.site]
            groups = host_groups(host, site)
            for group in groups[1:]:
                inventory.add_group(group)
            inventory.add_host(host.name, group=groups[0])
            for group in groups[1:]:
                inventory.add_child(group, host.name)
            for key, value in host_vars(model, host).items():
                # only ccops's own constant templates are trusted; site file data never is
                trusted = trust_as_template(value) if key in SECRET_VARS and value in TRUSTED_TEMPLATES else value
                inventory.set_variable(host.name, key, trusted)

    def _parse_snapshot(
        self, inventory: Any, path: Path, secret_vars: tuple[str, ...], trusted_templates: frozenset[str]
    ) -> None:
        """A run's frozen inventory (written by ccops when it planned the run)."""
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            groups, hosts = data["groups"], data["hosts"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AnsibleParserError(f"{path}: not a ccops run snapshot ({exc})") from None
        for name, body in groups.items():
            inventory.add_group(name)
            for key, value in body["vars"].items():
                inventory.set_variable(name, key, value)
        for name, body in hosts.items():
            inventory.add_host(name, group=body["groups"][0])
            for group in body["groups"][1:]:
                inventory.add_child(group, name)
            for key, value in body["vars"].items():
                trusted = trust_as_template(value) if key in secret_vars and value in trusted_templates else value
                inventory.set_variable(name, key, trusted)
