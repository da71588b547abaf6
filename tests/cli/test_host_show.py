"""ccops host show prints what is known about a host's hardware, never placeholders."""

from ccops.store.records import Store
from tests.conftest import EXAMPLE

RECORD = {
    "os": {"distribution": "Debian", "version": "12", "variant": "debian12", "kernel": "6.1.0"},
    "hardware": {"vendor": "NA", "product": "NA", "cpus": 2, "memory_mb": 1987, "virtualization": ""},
    "uptime_seconds": 3600,
    "packages": {"count": 300},
    "updates": {"pending": 0, "security": 0},
}


def test_host_show_omits_unknown_hardware(ccops):
    store = Store(ccops.home / "ccops.db")
    store.start_run(
        "20990101T000000Z-aaaaaa",
        "inspect",
        operator="test",
        change_id=None,
        git_commit=None,
        inventory=str(EXAMPLE),
        inventory_sha256="0" * 64,
        selectors={},
        request={},
        plan=[],
    )
    store.save_assets("20990101T000000Z-aaaaaa", {"njjy-db0001": RECORD})
    result = ccops("host", "show", "njjy-db0001", "-i", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("hardware"))
    assert line.split(None, 1)[1] == "2 CPU, 1987 MB RAM"
    assert "NA" not in line and "None" not in line
