"""Where ccops finds its project files and keeps its state.

ccops runs from one of two trees of Ansible files (ansible.cfg, playbooks/,
roles/, images/):
- a checkout: the package is imported from ``<checkout>/src/ccops`` (an
  editable install, or PYTHONPATH=src); the top-level folders are used as
  they are, and the lab inventory is written to ``<checkout>/inventory/lab``
  as the docs and the tests expect;
- an installed wheel: setup.py copies those folders into the package as
  ``ccops/_tree`` at build time (the top-level folders stay the only source);
  that tree may be read-only (site-packages), so the lab inventory is written
  under the state folder instead: ``$CCOPS_HOME/lab/inventory``.
"""

import os
import stat
from pathlib import Path

from ccops.errors import CcopsError

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE_DIR.parents[1]
# written by setup.py's build step; absent in a checkout
SHIPPED_TREE = _PACKAGE_DIR / "_tree"


def _imported_from_checkout() -> bool:
    return _PACKAGE_DIR.parent.name == "src" and (_CHECKOUT / "ansible.cfg").is_file()


def project_root() -> Path:
    """The tree holding ansible.cfg, playbooks/, roles/ and images/.

    ``CCOPS_PROJECT`` wins; otherwise the checkout this package is imported
    from, else the tree shipped inside the installed package.
    """
    env = os.environ.get("CCOPS_PROJECT")
    if env:
        return Path(env).resolve()
    if _imported_from_checkout():
        return _CHECKOUT
    if not (SHIPPED_TREE / "ansible.cfg").is_file():
        raise CcopsError(
            f"{SHIPPED_TREE}: ccops is installed without its Ansible files; install it from a wheel "
            "built from the repository (pip wheel) or set CCOPS_PROJECT to a checkout"
        )
    return SHIPPED_TREE


def runs_installed() -> bool:
    """True when the Ansible files are the copy shipped in the package, not a checkout's."""
    return project_root() == SHIPPED_TREE.resolve()


def _state_location() -> Path:
    env = os.environ.get("CCOPS_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ccops"


def state_dir() -> Path:
    """Run records, artifacts, asset records and lab secrets live here, private to this user (0700).

    ``CCOPS_HOME`` wins; the default follows the XDG state convention.
    """
    return private_dir(_state_location())


def private_dir(path: Path) -> Path:
    """``path`` exists as a folder only its owner can enter; a looser mode is tightened.

    A shared folder (sticky, like /tmp, or another user's) is refused rather
    than chmod-ed: closing it would break everyone else who uses it.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except FileExistsError:
        raise CcopsError(f"{path}: not a folder; set CCOPS_HOME to a folder for ccops's state") from None
    except OSError as exc:
        raise CcopsError(
            f"{path}: cannot create ccops's state folder ({exc.strerror}); set CCOPS_HOME to a "
            "folder this user can write"
        ) from None
    if info.st_mode & 0o077:
        if info.st_mode & stat.S_ISVTX or info.st_uid != os.getuid():
            raise CcopsError(
                f"{path}: a shared folder (mode {stat.S_IMODE(info.st_mode):o}) cannot hold ccops's "
                "private state; set CCOPS_HOME to a folder of its own"
            )
        try:
            path.chmod(0o700)
        except OSError as exc:
            raise CcopsError(
                f"{path}: cannot make ccops's state folder private ({exc.strerror}); run chmod 700 on it"
            ) from None
    return path


def lab_inventory() -> Path:
    """Where ``ccops lab up`` writes the lab inventory and ``lab down`` removes it.

    A checkout keeps it in ``inventory/lab`` (next to the example, where stock
    ``ansible-inventory`` finds it); an installed ccops keeps it in the state
    folder, since site-packages is no place for files a command writes.
    """
    if runs_installed():
        return _state_location() / "lab" / "inventory"
    return project_root() / "inventory" / "lab"


def default_inventory() -> Path:
    """``CCOPS_INVENTORY`` or the lab inventory, the one inventory safe to run by default."""
    env = os.environ.get("CCOPS_INVENTORY")
    return Path(env) if env else lab_inventory()
