"""lab up raises the kernel limits its host count needs, or says in one line what to raise."""

from pathlib import Path

from ccops.lab.limits import ensure, needed


def _proc(tmp_path: Path, instances: int, watches: int) -> Path:
    inotify = tmp_path / "fs" / "inotify"
    inotify.mkdir(parents=True)
    (inotify / "max_user_instances").write_text(f"{instances}\n")
    (inotify / "max_user_watches").write_text(f"{watches}\n")
    return tmp_path


def test_stock_inotify_instances_are_raised_for_thirty_hosts(tmp_path):
    proc = _proc(tmp_path, 128, 10_000_000)
    said: list[str] = []
    ensure(30, said.append, proc)
    instances = int((proc / "fs/inotify/max_user_instances").read_text())
    assert instances == needed(30)["fs.inotify.max_user_instances"] > 128 + 4 * 30
    assert said == [f"  raised fs.inotify.max_user_instances from 128 to {instances} for 30 hosts"]
    assert (proc / "fs/inotify/max_user_watches").read_text() == "10000000\n"  # never lowered


def test_limits_high_enough_are_left_alone_silently(tmp_path):
    proc = _proc(tmp_path, 100_000, 10_000_000)
    said: list[str] = []
    assert ensure(30, said.append, proc) == [] and said == []


def test_a_limit_it_cannot_write_is_named_in_one_line(tmp_path, monkeypatch):
    proc = _proc(tmp_path, 128, 10_000_000)

    def refuse(self: Path, text: str) -> int:
        raise PermissionError(13, "Permission denied", str(self))  # /proc/sys in a container without the right

    monkeypatch.setattr(Path, "write_text", refuse)
    said: list[str] = []
    ensure(30, said.append, proc)
    want = needed(30)["fs.inotify.max_user_instances"]
    assert said == [
        f"  fs.inotify.max_user_instances is 128; 30 hosts need {want}: "
        f"raise it (sysctl -w fs.inotify.max_user_instances={want})"
    ]
