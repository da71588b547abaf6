"""Where ccops finds its project files and keeps its state."""

import os
import stat
from pathlib import Path

from ccops.errors import CcopsError

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
    """Run records, artifacts, asset records and lab secrets live here, private to this user (0700).

    ``CCOPS_HOME`` wins; the default follows the XDG state convention.
    """
    env = os.environ.get("CCOPS_HOME")
    if env:
        return private_dir(Path(env))
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return private_dir(Path(base) / "ccops")


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
        raise CcopsError(f"{path}: cannot create ccops's state folder ({exc.strerror}); set CCOPS_HOME to a "
                         "folder this user can write") from None
    if info.st_mode & 0o077:
        if info.st_mode & stat.S_ISVTX or info.st_uid != os.getuid():
            raise CcopsError(f"{path}: a shared folder (mode {stat.S_IMODE(info.st_mode):o}) cannot hold ccops's "
                             "private state; set CCOPS_HOME to a folder of its own")
        try:
            path.chmod(0o700)
        except OSError as exc:
            raise CcopsError(f"{path}: cannot make ccops's state folder private ({exc.strerror}); "
                             "run chmod 700 on it") from None
    return path


def default_inventory() -> Path:
    """``CCOPS_INVENTORY`` or the lab inventory, the one inventory safe to run by default."""
    env = os.environ.get("CCOPS_INVENTORY")
    return Path(env) if env else project_root() / "inventory" / "lab"
