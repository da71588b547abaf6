"""A .deb's control fields and changelog are read as data, within caps; a hostile file is damaged, never a crash."""

import subprocess

import pytest

from ccops.vulns import deb
from ccops.vulns.deb import DebDamaged, read_deb
from tests.vulns_debs import build_deb, changelog


@pytest.mark.parametrize("compress", ["xz", "gzip", "zstd", "none"])
def test_real_deb_gives_package_source_and_changelog(tmp_path, compress):
    text = changelog("openssl", [("3.0.15-1~deb12u1", "high", ["CVE-2024-5535"])])
    path = build_deb(tmp_path, "libssl3", "3.0.15-1~deb12u1", text, source="openssl", compress=compress)
    info = read_deb(path)
    assert (info.package, info.version, info.source, info.changelog) == ("libssl3", "3.0.15-1~deb12u1", "openssl", text)


def test_source_with_its_own_version_and_no_source_field(tmp_path):
    with_version = build_deb(tmp_path, "libc6", "2.36-9+deb12u4", "x", source="glibc (2.36-9+deb12u4)")
    assert read_deb(with_version).source == "glibc"
    assert read_deb(build_deb(tmp_path, "curl", "7.88.1-10", "x")).source == "curl"


def test_a_doc_folder_link_means_no_changelog_of_its_own(tmp_path):
    info = read_deb(build_deb(tmp_path, "libssl-dev", "3.0.15-1", None, source="openssl", doc_link="libssl3"))
    assert info.changelog is None and info.source == "openssl"


def test_a_changelog_bomb_stops_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(deb, "MAX_CHANGELOG_BYTES", 1 << 20)
    bomb = b"x (1-1) sid; urgency=low\n" + b"  " * (8 << 20)  # 16 MiB of text, a few kB packed
    path = build_deb(tmp_path, "bomb", "1-1", bomb)
    assert path.stat().st_size < 100_000
    with pytest.raises(DebDamaged, match="more than"):
        read_deb(path)


def test_a_data_tar_bomb_stops_at_the_cap(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: big\nVersion: 1-1\nArchitecture: all\nMaintainer: m\n"
                                              "Description: d\n")  # fmt: skip
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "zeros").write_bytes(b"\0" * (4 << 20))
    out = tmp_path / "big.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(out)], check=True, capture_output=True)
    monkeypatch.setattr(deb, "MAX_TAR_BYTES", 1 << 20)
    with pytest.raises(DebDamaged, match="larger than"):
        read_deb(out)


def test_not_a_gzip_changelog_is_damaged(tmp_path):
    path = build_deb(tmp_path, "odd", "1-1", "", packed=b"\x1f\x8b but not gzip \x1b[2J")
    with pytest.raises(DebDamaged, match="does not unpack"):
        read_deb(path)


def test_a_changelog_link_is_not_followed(tmp_path):
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: lnk\nVersion: 1-1\nArchitecture: all\nMaintainer: m\n"
                                              "Description: d\n")  # fmt: skip
    (root / "usr" / "share" / "doc" / "lnk").mkdir(parents=True)
    (root / "usr" / "share" / "doc" / "lnk" / "changelog.Debian.gz").symlink_to("/etc/shadow")
    out = tmp_path / "lnk.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(out)], check=True, capture_output=True)
    assert read_deb(out).changelog is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not an archive at all",
        b"!<arch>\n" + b"debian-binary   " + b"0" * 32 + b"99999999  `\n",  # a member past the file's end
        b"!<arch>\n" + b"x" * 59,  # a cut header
    ],
)
def test_files_that_are_not_debs_are_damaged(tmp_path, content):
    path = tmp_path / "x.deb"
    path.write_bytes(content)
    with pytest.raises(DebDamaged):
        read_deb(path)


def test_a_truncated_deb_is_damaged(tmp_path):
    path = build_deb(tmp_path, "cut", "1-1", changelog("cut", [("1-1", "low", [])]))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DebDamaged):
        read_deb(path)


def test_a_zstd_data_bomb_stops_at_the_cap_and_its_decompressor_is_stopped(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: big\nVersion: 1-1\nArchitecture: all\nMaintainer: m\n"
                                              "Description: d\n")  # fmt: skip
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "zeros").write_bytes(b"\0" * (8 << 20))
    out = tmp_path / "big.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(out)], check=True,
                   capture_output=True)  # fmt: skip
    monkeypatch.setattr(deb, "MAX_TAR_BYTES", 1 << 20)
    started = []
    real_popen = subprocess.Popen

    def popen(argv, **kwargs):
        started.append(real_popen(argv, **kwargs))
        return started[-1]

    monkeypatch.setattr(deb.subprocess, "Popen", popen)
    with pytest.raises(DebDamaged, match="larger than"):
        read_deb(out)
    assert [p.args for p in started] == [["zstd", "-d", "-c", "-q"]] * 2  # control.tar.zst, data.tar.zst
    assert [p.returncode is not None for p in started] == [True, True]  # stopped and reaped, none left running
