"""The sanitise script the decommission role runs on a host, run here on a scratch folder."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccops.inventory import host_paths
from tests.conftest import ROOT

SCRIPT = ROOT / "roles" / "decommission" / "files" / "sanitise.py"


def _run(*args: str) -> tuple[int, list[dict]]:
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


def test_files_are_overwritten_with_zeros_before_they_go_and_links_are_not_followed(tmp_path):
    data = tmp_path / "data"
    (data / "calls").mkdir(parents=True)
    (data / "calls" / "a.wav").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    (data / "notes.txt").write_text("customer 4711")
    outside = tmp_path / "keep.txt"
    outside.write_text("not data")
    (data / "link").symlink_to(outside)
    (tmp_path / "second-name").hardlink_to(data / "calls" / "a.wav")  # reads what the wipe left in the file
    log = tmp_path / "state" / "wipes.log"
    code, (result,) = _run("--run", "R1", "--log", str(log), "--", str(data))
    assert code == 0 and result["result"] == "passed" and result["files"] == 2
    assert result["bytes"] == 3 * 1024 * 1024 + 5 + len("customer 4711")
    assert "NIST SP 800-88" in result["method"] and "read back" in result["verification"]
    assert list(data.iterdir()) == []
    assert outside.read_text() == "not data"
    assert (tmp_path / "second-name").read_bytes() == bytes(3 * 1024 * 1024 + 5)
    assert log.read_text().count("run=R1 passed") == 1
    code, (again,) = _run("--check-only", "--run", "R1", "--log", str(log), "--", str(data))
    assert code == 0 and again["verification"] == "now empty folder" and log.read_text().count("\n") == 1


def test_system_folders_are_refused_and_leftovers_fail_the_check(tmp_path):
    code, results = _run("--", "/etc", "/", "relative/path", str(tmp_path / "absent"))
    assert code == 1
    assert [r["result"] for r in results] == ["refused", "refused", "refused", "not done"]
    assert Path("/etc/passwd").exists()
    code, (absent,) = _run("--", str(tmp_path / "absent"))
    assert code == 0 and absent["result"] == "passed"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, (left,) = _run("--check-only", "--", str(tmp_path / "full"))
    assert code == 1 and left["result"] == "failed" and (tmp_path / "full" / "x").exists()


def _data(folder: Path) -> Path:
    """A data folder with one file in it: whether the file is still there says whether anything was written."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "call.wav").write_bytes(b"customer voice")
    return folder


@pytest.mark.parametrize("path", ["//", "//etc", "//usr", "/./etc", "/etc/../usr", "/etc/", "/srv//x"])
def test_paths_not_in_normal_form_are_refused_and_nothing_is_written(tmp_path, path):
    keep = _data(tmp_path / "data")
    log = tmp_path / "state" / "wipes.log"
    code, results = _run("--run", "R1", "--log", str(log), "--", str(keep), path)
    assert code == 1
    assert [r["result"] for r in results] == ["not done", "refused"]
    assert "normal form" in results[1]["verification"]
    assert (keep / "call.wav").read_bytes() == b"customer voice" and not log.exists()
    assert Path("/etc/passwd").exists() and Path("/usr/bin").is_dir()


def test_a_symlink_to_the_root_or_into_a_system_folder_is_refused(tmp_path):
    (tmp_path / "to-root").symlink_to("/")
    (tmp_path / "to-etc").symlink_to("/etc")
    code, results = _run("--", str(tmp_path / "to-root"), str(tmp_path / "to-root" / "etc"), str(tmp_path / "to-etc"))
    assert code == 1 and [r["result"] for r in results] == ["refused"] * 3
    assert "resolves to /, which is the system folder /" in results[0]["verification"]
    assert "resolves to /etc" in results[1]["verification"]
    assert (tmp_path / "to-root").is_symlink() and Path("/etc/passwd").exists()


def test_a_symlink_into_a_protected_folder_is_refused_before_anything_is_written(tmp_path):
    """A stand-in protected folder (--protect): the old guard compared text and wiped through the link."""
    protected = _data(tmp_path / "protected")
    keep = _data(tmp_path / "data")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "link").symlink_to(protected)
    code, results = _run("--protect", str(protected), "--", str(keep), str(tmp_path / "srv" / "link" / "."))
    assert code == 1 and results[1]["result"] == "refused"
    code, results = _run("--protect", str(protected), "--", str(keep), str(tmp_path / "srv" / "link") + "/")
    assert code == 1 and results[1]["result"] == "refused"
    sub = tmp_path / "srv" / "inner"
    sub.symlink_to(protected / "nested", target_is_directory=True)
    _data(protected / "nested")
    code, results = _run("--protect", str(protected), "--", str(keep), str(sub / "call.wav"))
    assert code == 1 and "lies in the protected folder" in results[1]["verification"]
    assert (protected / "call.wav").exists() and (protected / "nested" / "call.wav").exists()
    assert (keep / "call.wav").exists()


def test_a_folder_that_is_a_protected_folder_mounted_again_is_refused(tmp_path):
    """A bind mount shows a protected folder under another name with the same device and inode.
    Stand-in: the guard knows the protected folder as alias/protected (as it knows /etc), and the
    data path reaches the same folder as real/protected; no name matches, only the inode does."""
    protected = _data(tmp_path / "real" / "protected")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    keep = _data(tmp_path / "data")
    code, results = _run("--protect", str(tmp_path / "alias" / "protected"), "--", str(keep), str(tmp_path / "real"))
    assert code == 1 and results[1]["result"] == "refused"
    assert results[1]["verification"].endswith(
        "protected is " + str(tmp_path / "alias" / "protected") + " mounted again (a bind mount): refused"
    )
    assert (protected / "call.wav").exists() and (keep / "call.wav").exists()


def test_a_real_read_only_bind_mount_of_etc_is_refused(tmp_path):
    """A real bind mount of /etc, read-only and in a private mount namespace: nothing can be written
    through it even by a broken guard, and the guard must refuse it by inode."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare for a private mount namespace")
    target = tmp_path / "srv-data"
    target.mkdir()
    script = (
        'mount --bind /etc "$1" && mount -o remount,bind,ro "$1" && ! touch "$1/ccops-probe" 2>/dev/null'
        ' && exec "$2" "$3" -- "$1"'
    )
    argv = ["unshare", "-m", "sh", "-c", script, "sh", str(target), sys.executable, str(SCRIPT)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if not proc.stdout.startswith("["):
        pytest.skip(f"no bind mount here: {proc.stderr.strip()[:200]}")
    (result,) = json.loads(proc.stdout)
    assert proc.returncode == 1 and result["result"] == "refused", result
    assert result["verification"].endswith(
        " shares its files with /etc (a bind mount), which is the system folder /etc"
    )
    assert Path("/etc/passwd").exists() and not any(target.iterdir())


def _script():
    spec = importlib.util.spec_from_file_location("sanitise", SCRIPT)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


# Lines as a Debian host's /proc/self/mountinfo has them (254:1 is the root filesystem, 254:2 a
# separate /var, 254:17 a data disk).
MOUNTINFO = """\
25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
26 25 254:2 / /var rw,relatime shared:5 - ext4 /dev/vda2 rw
27 25 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
28 25 254:17 / /srv/data rw,relatime shared:9 - ext4 /dev/vdb1 rw
51 46 0:4 net:[4026532174] /run/netns/cti rw shared:2 - nsfs nsfs rw
"""
SSH_AT_DATA_X = "40 28 254:1 /etc/ssh /srv/data/x rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"


def _mount_refusal(script, path, table):
    mounts = script.parse_mountinfo(table)
    return script.mount_refusal(path, mounts, False, script.SYSTEM_FOLDERS, script.PROTECTED_TREES)


def test_mountinfo_fields_are_read_with_the_kernels_octal_escapes():
    script = _script()
    line = r"41 25 254:1 /srv/call\040recordings\134old /srv/rec\012x rw,relatime - ext4 /dev/vda1 rw"
    assert script.parse_mountinfo(MOUNTINFO + line)[-1] == ("254:1", "/srv/call recordings\\old", "/srv/rec\nx")
    assert script.parse_mountinfo(MOUNTINFO)[4] == ("0:4", "net:[4026532174]", "/run/netns/cti")
    assert script.parse_mountinfo("25 1 254:1 / /\n") is None  # not the documented shape: refuse, never guess
    assert script.parse_mountinfo("25 1 x / / rw - ext4 /dev/vda1 rw\n") is None


def test_a_bind_mount_of_a_protected_subfolder_below_a_data_path_is_refused():
    script = _script()
    assert _mount_refusal(script, "/srv/data", MOUNTINFO) is None  # a data disk of its own
    assert _mount_refusal(script, "/srv/data/calls", MOUNTINFO) is None
    why = _mount_refusal(script, "/srv/data", MOUNTINFO + SSH_AT_DATA_X)
    assert why == "/srv/data/x shares its files with /etc/ssh (a bind mount), which lies in the protected folder /etc"
    assert _mount_refusal(script, "/srv", MOUNTINFO + SSH_AT_DATA_X).startswith("/srv/data/x shares")
    assert _mount_refusal(script, "/srv/data/x/keys", MOUNTINFO + SSH_AT_DATA_X).startswith("/srv/data/x/keys")
    assert _mount_refusal(script, "/srv/data/calls", MOUNTINFO + SSH_AT_DATA_X) is None  # beside it


def test_a_data_path_that_is_a_mount_of_a_system_filesystem_is_refused():
    script = _script()
    lib = "42 25 254:1 /var/lib /srv/lib rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    assert "/srv/lib shares its files with /var/lib" in _mount_refusal(script, "/srv/lib", MOUNTINFO + lib)
    # /var is a filesystem of its own here: its /lib/dpkg is /var/lib/dpkg
    dpkg = "43 25 254:2 /lib/dpkg /srv/dpkg rw,relatime shared:5 - ext4 /dev/vda2 rw\n"
    assert "with /var/lib/dpkg" in _mount_refusal(script, "/srv/dpkg", MOUNTINFO + dpkg)
    whole = "44 25 254:1 / /srv/root rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    assert "which is the system folder /" in _mount_refusal(script, "/srv/root/tmp", MOUNTINFO + whole)
    # a folder of the data path shown as /var/log: wiping the data path empties the system's logs
    logs = "45 26 254:17 /old/log /var/log rw,relatime shared:9 - ext4 /dev/vdb1 rw\n"
    assert "/srv/data shares its files with /var/log" in _mount_refusal(script, "/srv/data", MOUNTINFO + logs)
    assert _mount_refusal(script, "/srv/data/new", MOUNTINFO + logs) is None
    escaped = r"46 25 254:1 /etc/ssh /srv/a\040b rw - ext4 /dev/vda1 rw" + "\n"
    assert _mount_refusal(script, "/srv/a b", MOUNTINFO + escaped).startswith("/srv/a b shares its files with /etc/ssh")


def test_a_real_bind_mount_of_a_system_subfolder_is_refused_and_nothing_is_written(tmp_path):
    """/etc/ssh bound (read-only, private mount namespace) inside a data path, and as the data path
    itself: no inode matches a protected folder, only the mount table tells."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not Path("/etc/ssh").is_dir():
        pytest.skip("needs root, unshare and /etc/ssh")
    data = _data(tmp_path / "data")
    (data / "x").mkdir()
    alone = tmp_path / "alone"
    alone.mkdir()
    log = tmp_path / "state" / "wipes.log"
    script = (
        'for m in "$1/x" "$2"; do mount --bind /etc/ssh "$m" && mount -o remount,bind,ro "$m"'
        ' && ! touch "$m/ccops-probe" 2>/dev/null || exit 97; done'
        ' && "$3" "$4" --run R1 --log "$5" -- "$1"; "$3" "$4" --run R1 --log "$5" -- "$2"'
    )
    argv = ["unshare", "-m", "sh", "-c", script, "sh", str(data), str(alone), sys.executable, str(SCRIPT), str(log)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode == 97 or not proc.stdout.startswith("["):
        pytest.skip(f"no bind mount here: {proc.stderr.strip()[:200]}")
    (below,), (itself,) = (json.loads(line) for line in proc.stdout.splitlines())
    assert below["result"] == "refused" and itself["result"] == "refused"
    assert below["verification"] == (
        f"refused: {data}/x shares its files with /etc/ssh (a bind mount), which lies in the protected folder /etc"
    )
    assert itself["verification"].startswith(f"refused: {alone} shares its files with /etc/ssh")
    assert (data / "call.wav").read_bytes() == b"customer voice" and not log.exists()
    assert Path("/etc/ssh").is_dir() and not any((data / "x").iterdir()) and not any(alone.iterdir())


def test_certificate_files_below_etc_are_allowed_only_as_certificates(tmp_path):
    code, (data,) = _run("--check-only", "--", "/etc/ssl/private/ccops-test-absent.key")
    assert code == 1 and data["result"] == "refused" and "protected folder /etc" in data["verification"]
    code, (cert,) = _run("--check-only", "--certificates", "--", "/etc/ssl/private/ccops-test-absent.key")
    assert code == 0 and cert["result"] == "passed"
    code, (folder,) = _run("--check-only", "--certificates", "--", "/etc/ssl/private")
    assert code == 1 and folder["result"] == "refused"


def test_the_host_guard_keeps_the_lists_validation_uses():
    spec = importlib.util.spec_from_file_location("sanitise", SCRIPT)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.SYSTEM_FOLDERS == host_paths.SYSTEM_FOLDERS
    assert script.PROTECTED_TREES == host_paths.PROTECTED_TREES
    assert script.CERTIFICATE_TREES == host_paths.CERTIFICATE_TREES
