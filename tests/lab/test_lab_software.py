"""Software distribution on the three lab hosts (Debian 11, 12, 13) from the lab site's distribution point.

The test softphone (built here with dpkg-deb) is staged on the point (its first
host, serving over the lab network): an interrupted stage resumes without
re-sending what arrived intact, a corrupted artefact is refused. Version 1.0 is
installed everywhere in waves; the broken 2.1 is rolled back to 1.0 on the
canary and the run halts; resumed once the catalogue requires 2.0, it upgrades
every host in waves, and a reboot under the lab restore card keeps 2.0. A
second apply changes nothing; status matches dpkg-query, and drift made by
hand is named (status, plan). Removing it from one host takes a verified
backup of its configuration first, and a reboot does not bring it back.

The tests run in file order and build on each other; the hosts are left clean.
"""

import contextlib
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot, versions

pytestmark = pytest.mark.lab
HOSTS = ["lab-deb11-01", "lab-deb12-01", "lab-deb13-01"]
POINT = "lab-deb11-01"  # the lab site's distribution point: its first host
POINT_DIR = "/srv/ccops-dist"
APP = "ccops-softphone"


@pytest.fixture(scope="module")
def lab(lab_home):
    yield lab_home
    for host in HOSTS:  # leave the hosts as the lab made them, for the next modules
        pexec(host, "apt-get", "purge", "-y", "-qq", APP, check=False)
        pexec(
            host,
            "rm",
            "-rf",
            "/etc/apt/sources.list.d/ccops-software.sources",
            "/etc/apt/keyrings/ccops-software.gpg",
            "/etc/apt/apt.conf.d/80ccops-software",
            "/etc/ccops-softphone",
            check=False,
        )
    pexec(POINT, "systemctl", "disable", "--now", "ccops-distribution-point.service", check=False)
    pexec(POINT, "rm", "-rf", "/etc/systemd/system/ccops-distribution-point.service", POINT_DIR, check=False)
    for host in HOSTS:
        pexec(host, "/usr/local/sbin/ccops-restore-card", "rebaseline", check=False)


def catalogue(home: Path, version: str) -> None:
    run_ccops(home, "lab", "catalogue", "--require", version, check=True, timeout=120)


def software(home: Path, *args: str, timeout: float = 900) -> tuple[int, dict]:
    result = run_ccops(home, "software", *args, "--output", "json", timeout=timeout)
    assert result.stdout, result.stderr[-3000:]
    return result.returncode, payload(result.stdout)


def apply(home: Path, change: str) -> tuple[int, dict]:
    return software(home, "apply", "--yes", "--change-id", change)


def why(result: dict) -> str:
    """The run's message and each failed host's own report, for an assertion message."""
    failed = {
        h["host"]: (h["message"], result["reports"].get(h["host"])) for h in result["hosts"] if h["outcome"] != "ok"
    }
    return f"{result['message']}: {json.dumps(failed)[:3000]}"


def point_files() -> dict[str, str]:
    """sha256 of every file on the point, by path under its folder."""
    out = pexec(POINT, "sh", "-c", f"cd {POINT_DIR} 2>/dev/null && find . -type f -exec sha256sum {{}} + || true")
    return {line.split("  ", 1)[1].removeprefix("./"): line.split("  ", 1)[0] for line in out.splitlines()}


def point_url() -> str:
    site = yaml.safe_load((ROOT / "inventory" / "lab" / "sites" / "lab.yml").read_text())
    return str(site["site"]["distribution_point"]["url"])


def answers(host: str) -> str:
    """What the softphone answers on its port, read from inside the host."""
    probe = "import socket; print(socket.create_connection(('127.0.0.1', 5070), 5).recv(64).decode())"
    return pexec(host, "python3", "-c", probe, check=False).strip()


def installed(host: str) -> str | None:
    return versions(host).get(APP)


def test_a_corrupted_artefact_is_refused_and_nothing_is_installed_from_it(lab):
    catalogue(lab, "1.0")
    cache = lab / "lab" / "artefacts" / f"{APP}_2.1_all.deb"
    good = cache.read_bytes()
    cache.write_bytes(good[:-16] + b"damaged in cache")
    try:
        result = run_ccops(lab, "software", "stage", timeout=600)
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"refused {APP} 2.1 (debian12) {APP}_2.1_all.deb: its sha256 differs" in result.stdout
        assert not any("2.1" in rel for rel in point_files()) and any("2.0" in rel for rel in point_files())
        catalogue(lab, "2.1")
        refused = run_ccops(lab, "software", "apply", "--yes", "--change-id", "CHG-SW-BAD", timeout=600)
        assert refused.returncode == 5 and "2.1 (debian12) is not staged and verified" in refused.stderr
        assert {installed(h) for h in HOSTS} == {None}
    finally:
        cache.write_bytes(good)
        catalogue(lab, "1.0")
    pexec(POINT, "find", POINT_DIR, "-mindepth", "1", "-delete")  # the next test stages to an empty point


def test_an_interrupted_stage_resumes_without_sending_intact_files_again(lab):
    proc = subprocess.Popen(
        [str(BIN / "ccops"), "software", "stage"],
        cwd=ROOT,
        env=ccops_env(lab),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        # the marker: two packages have arrived (one is damaged below, the other must be kept)
        while time.monotonic() < deadline and proc.poll() is None:
            if sum(p.endswith(".deb") for p in point_files()) >= 2:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    arrived = point_files()
    damaged = sorted(rel for rel in arrived if rel.endswith(".deb"))[0]
    pexec(POINT, "sh", "-c", f"echo tampered >> {POINT_DIR}/{damaged}")  # damaged on the point: sent again
    del arrived[damaged]
    code, result = software(lab, "stage")
    assert code == 0, result
    site = result["sites"][0]
    assert site["point"] == POINT and site["refused"] == []
    staged = point_files()
    intact = {rel for rel, sha in arrived.items() if staged.get(rel) == sha}
    assert intact, "the interrupted stage left nothing on the point"
    assert sorted(site["kept"]) == sorted(intact)  # what arrived intact was not sent again ...
    assert site["sent"] != [damaged], "the first stage was not interrupted half-way"
    assert damaged in site["sent"] and set(site["sent"]).isdisjoint(intact)  # ... and only the rest was sent
    assert set(site["sent"]) | set(site["kept"]) <= set(staged)
    # the point serves a signed repository over the lab network (another host fetches its index)
    url = f"{point_url()}/debian/dists/debian13/InRelease"
    release = pexec("lab-deb13-01", "python3", "-c",
                    f"import urllib.request as u; print(u.urlopen({url!r}, timeout=10).read().decode()[:200])",
                    check=False)  # fmt: skip
    assert "-----BEGIN PGP SIGNED MESSAGE-----" in release or "Origin: ccops" in release, release


def test_version_1_in_waves_from_the_point_on_three_debian_variants(lab):
    plan = payload(run_ccops(lab, "plan", "software", "apply", "-o", "json", check=True).stdout)
    assert plan["content"]["software"] and plan["content"]["refusals"] == []
    code, result = apply(lab, "CHG-SW-1")
    assert code == 0, why(result)
    assert [w["wave"] for w in result["waves"]] == ["canary", "wave 1 (50%)", "wave 2 (100%)"]
    assert {installed(h) for h in HOSTS} == {"1.0"}
    assert all(result["reports"][h]["changes"] == [{"app": APP, "action": "install", "from": "", "to": "1.0"}]
               for h in HOSTS)  # fmt: skip
    assert all(answers(h) == "ccops-softphone 1.0" for h in HOSTS)
    source = pexec("lab-deb12-01", "cat", "/etc/apt/sources.list.d/ccops-software.sources")
    assert f"URIs: {point_url()}/debian" in source and "Signed-By: /etc/apt/keyrings/ccops-software.gpg" in source


def test_a_failing_version_is_rolled_back_on_the_canary_then_resume_upgrades_in_waves_and_a_reboot_keeps_it(lab):
    catalogue(lab, "2.1")
    code, result = apply(lab, "CHG-SW-2")
    assert code == 3, why(result)  # the gate halts the run
    assert [w["wave"] for w in result["waves"]] == ["canary"]
    [host] = list(result["reports"])
    report = result["reports"][host]
    assert report["outcome"] == "rolled_back" and "health check failed" in report["reason"]
    assert report["health_after_rollback"]["ok"]
    assert {installed(h) for h in HOSTS} == {"1.0"}  # the canary back on 1.0, the others untouched
    assert answers(host) == "ccops-softphone 1.0"
    catalogue(lab, "2.0")  # the fix: 2.1 withdrawn, 2.0 required
    resumed = run_ccops(lab, "resume", result["run_id"], "--yes", "--output", "json", timeout=900)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "the catalogue changed since run" in resumed.stderr
    done = payload(resumed.stdout)
    # the halted run goes on in its waves, the canary first again, every host upgraded to the fixed version
    assert [w["wave"] for w in done["waves"]] == ["canary", "wave 1 (50%)", "wave 2 (100%)"]
    assert {h: r["outcome"] for h, r in done["reports"].items()} == dict.fromkeys(HOSTS, "applied")
    assert all(done["reports"][h]["changes"] == [{"app": APP, "action": "upgrade", "from": "1.0", "to": "2.0"}]
               for h in HOSTS)  # fmt: skip
    assert {installed(h) for h in HOSTS} == {"2.0"}
    assert all(answers(h) == "ccops-softphone 2.0" for h in HOSTS)
    reboot("lab-deb13-01")  # the lab restore card reverts what was not re-baselined
    assert installed("lab-deb13-01") == "2.0"
    deadline = time.monotonic() + 30
    while answers("lab-deb13-01") != "ccops-softphone 2.0" and time.monotonic() < deadline:
        time.sleep(1)
    assert answers("lab-deb13-01") == "ccops-softphone 2.0"


def test_status_matches_dpkg_drift_is_named_and_a_second_apply_changes_nothing(lab):
    code, result = apply(lab, "CHG-SW-3")
    assert code == 0, why(result)
    assert {h: r["outcome"] for h, r in result["reports"].items()} == dict.fromkeys(HOSTS, "up_to_date")
    assert not any(h["changed"] for h in result["hosts"])
    # drift made by hand: one host back on 1.0, one without the application
    pexec("lab-deb12-01", "apt-get", "install", "-y", "-qq", "--allow-downgrades", f"{APP}=1.0")
    pexec("lab-deb13-01", "apt-get", "purge", "-y", "-qq", APP)
    run_ccops(lab, "inspect", check=True, timeout=600)
    rows = payload(run_ccops(lab, "software", "status", APP, "-o", "json", check=True).stdout)
    assert {r["host"]: r["installed"] for r in rows} == {h: installed(h) for h in HOSTS}
    assert {r["host"]: r["state"] for r in rows} == {
        "lab-deb11-01": "ok",
        "lab-deb12-01": "DRIFT: 1.0 installed, desired 2.0",
        "lab-deb13-01": "DRIFT: not installed, desired 2.0",
    }
    plan = payload(run_ccops(lab, "plan", "software", "apply", "-o", "json", check=True).stdout)
    assert plan["content"]["software"] == {
        "lab-deb11-01": [],
        "lab-deb12-01": [{"app": APP, "action": "upgrade", "from": "1.0", "to": "2.0"}],
        "lab-deb13-01": [{"app": APP, "action": "install", "from": "", "to": "2.0"}],
    }
    markdown = run_ccops(lab, "plan", "software", "apply", "-o", "markdown", check=True).stdout
    assert "| lab-deb11-01 | - | nothing |  |  |" in markdown, markdown
    assert "| lab-deb12-01 | ccops-softphone | upgrade | 1.0 | 2.0 |" in markdown
    assert "| lab-deb13-01 | ccops-softphone | install | - | 2.0 |" in markdown


def test_remove_takes_one_application_off_after_a_verified_backup_and_a_reboot_keeps_it_off(lab):
    host = "lab-deb12-01"  # on 1.0 since the drift made by hand above
    planned = run_ccops(lab, "plan", "software", "remove", APP, "--limit", host, "-o", "json", check=True).stdout
    removal = [{"app": APP, "action": "remove", "from": "1.0", "to": ""}]
    assert payload(planned)["content"]["software"] == {host: removal}
    code, result = software(lab, "remove", APP, "--limit", host, "--yes", "--change-id", "CHG-SW-4")
    assert code == 0, why(result)
    report = result["reports"][host]
    assert (report["outcome"], report["changes"]) == ("applied", removal)
    assert installed(host) is None and answers(host) != "ccops-softphone 1.0"
    # the verified backup taken before holds what putting it back needs: the application's config
    archive = lab / "lab" / "backups" / host / report["backup_before"]["id"] / "archive.tar.gz"
    listed = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True, check=True).stdout
    assert any("etc/ccops-softphone/softphone.conf" in line for line in listed.splitlines()), listed
    assert installed("lab-deb11-01") == "2.0"  # a host outside --limit keeps it
    reboot(host)  # removed under the lab restore card, and re-baselined: the reboot does not bring it back
    assert installed(host) is None
    assert pexec(host, "sh", "-c", "test -e /etc/ccops-softphone && echo kept || echo purged") == "purged\n"
