"""Where ccops finds its project files and keeps its state."""

import os
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The checkout holding ansible.cfg, playbooks/ and roles/.

    ``CCOPS_PROJECT`` wins; otherwise the checkout this package was installed
    from (``pip install -e .``), which is how ccops is run from a jump host.
    """
    env = os.environ.get("CCOPS_PROJECT")
    root = Path(env) if env else _PACKAGE_ROOT
    return root.resolve()


def state_dir() -> Path:
    """Run records, artifacts, asset records and lab secrets live here.

    ``CCOPS_HOME`` wins; the default follows the XDG state convention.
    """
    env = os.environ.get("CCOPS_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ccops"


def default_inventory() -> Path:
    """``CCOPS_INVENTORY`` or the lab inventory, the one inventory safe to run by default."""
    env = os.environ.get("CCOPS_INVENTORY")
    return Path(env) if env else project_root() / "inventory" / "lab"
