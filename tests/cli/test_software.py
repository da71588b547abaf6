"""ccops plan software apply on the example centre (Debian and Windows), and the Windows tasks' real parameters."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT, run_ccops
from tests.json_output import payload
from tests.unit.test_catalogue import GOOD

COLLECTION = Path(yaml.__file__).parents[1] / "ansible_collections" / "ansible" / "windows" / "plugins" / "modules"


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    root = tmp_path / "inv"
    shutil.copytree(EXAMPLE, root)
    (root / "catalogue").mkdir()
    (root / "catalogue" / "apps.yml").write_text(GOOD)
    return root


def test_plan_lists_per_host_changes_in_markdown_and_json(centre, tmp_path):
    home = tmp_path / "home"
    args = ("plan", "software", "apply", "-i", str(centre), "--site", "shapd", "--os", "win11", "--limit", "*t000[1-3]")
    data = payload(run_ccops(home, *args, "-o", "json", check=True).stdout)
    assert data["verb"] == "software-apply"
    rows = data["content"]["software"]
    assert rows and all(
        c == [{"app": "softphone", "action": "unknown", "from": "?", "to": "2.0"}] for c in rows.values()
    )
    assert any("not staged and verified at site shapd" in r for r in data["content"]["refusals"])
    files = [t["file"] for t in data["actions"][0]["tasks"]]
    assert "roles/software/tasks/select_windows.yml" in files and "roles/software/tasks/install_windows.yml" in files
    markdown = run_ccops(home, *args, "-o", "markdown", check=True).stdout
    assert "| host | application | action | from | to |" in markdown
    assert "**Would be refused:**" in markdown


def test_plan_software_remove_names_the_application_like_the_command(centre, tmp_path):
    home = tmp_path / "home"
    args = ("plan", "software", "remove", "softphone", "-i", str(centre), "--os", "win11", "--limit", "*t000[1-2]")
    data = payload(run_ccops(home, *args, "-o", "json", check=True).stdout)
    assert data["verb"] == "software-remove"
    # no asset record yet: the version on the seat is unknown, the removal is not
    removal = [{"app": "softphone", "action": "remove", "from": "?", "to": ""}]
    assert data["content"]["software"] == dict.fromkeys(data["actions"][0]["hosts"], removal)
    assert {host.rsplit("-", 1)[1] for host in data["content"]["software"]} == {"t0001", "t0002"}
    for words, said in (
        ((), "ccops plan software remove APP"),
        (("nosuch",), "no application 'nosuch' in the catalogue; known: softphone"),
        (("softphone", "extra"), "takes one argument (the application to remove), not 'softphone extra'"),
    ):
        refused = run_ccops(home, "plan", "software", "remove", *words, "-i", str(centre))
        assert refused.returncode == 64 and said in refused.stderr, refused.stderr
    assert (
        "plan patch takes no argument, not 'now'" in run_ccops(home, "plan", "patch", "now", "-i", str(centre)).stderr
    )


def test_an_offline_inventory_is_planned_but_never_staged(centre, tmp_path):
    result = run_ccops(tmp_path / "home", "software", "stage", "-i", str(centre))
    assert result.returncode == 5 and "offline" in result.stderr


def test_a_malformed_catalogue_fails_validation_with_file_and_line(centre, tmp_path):
    path = centre / "catalogue" / "apps.yml"
    path.write_text(GOOD.replace('version: "2.0", os:', 'version: "9.9", os:'))
    result = run_ccops(tmp_path / "home", "inventory", "validate", "-i", str(centre))
    assert result.returncode == 1
    assert "apps.yml:16: requirements[0].version: version '9.9' of softphone does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def _options(module: str) -> set[str]:
    text = (COLLECTION / f"{module}.py").read_text()
    quote = "'" * 3
    block = text.split("DOCUMENTATION = r" + quote, 1)[1].split(quote, 1)[0]
    return set((yaml.safe_load(block) or {}).get("options", {}))


@pytest.mark.skipif(not COLLECTION.is_dir(), reason="ansible.windows is not installed")
def test_windows_tasks_use_only_the_real_module_parameters():
    checked = []
    for name in ("select_windows.yml", "install_windows.yml", "health_windows.yml"):
        for task in yaml.safe_load((ROOT / "roles" / "software" / "tasks" / name).read_text()):
            for key, args in task.items():
                if key.startswith("ansible.windows.") and isinstance(args, dict):
                    module = key.removeprefix("ansible.windows.")
                    assert set(args) <= _options(module), (name, key, set(args) - _options(module))
                    checked.append(module)
    # every win_package task is checked: detection, install, and removal by product code
    assert checked.count("win_package") == 4 and "win_wait_for" in checked
