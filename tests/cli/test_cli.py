"""The ccops command as a user meets it: help, errors, inventory, plan, runs."""

from tests.conftest import EXAMPLE, online_example, site_text, write_inventory
from tests.json_output import payload


def test_help_teaches_the_commands_and_exit_codes(ccops):
    result = ccops("--help")
    assert result.returncode == 0
    for command in ("inventory", "plan", "inspect", "host", "runs", "lab"):
        assert f"  {command}" in result.stdout
    assert "Exit codes" in result.stdout and "ccops lab up" in result.stdout


def test_validate_reports_every_problem_on_one_line_each_without_traceback(ccops, tmp_path):
    bad = site_text().replace("code: tst", "code: NO").replace("os: debian12", "os: win7")
    inventory = write_inventory(tmp_path / "inv", {"a.yml": bad, "b.yml": "site: [unclosed\n"})
    result = ccops("inventory", "validate", "-i", str(inventory))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 3
    assert all(line.split(":")[0].endswith(".yml") and line.split(":")[1].isdigit() for line in lines)
    assert any("a.yml:2: site.code: NO is read by YAML 1.1 as a boolean" in line for line in lines)
    assert any("b.yml:2: bad YAML" in line for line in lines)


def test_validate_json_for_pipelines(ccops, tmp_path):
    bad = write_inventory(tmp_path / "inv", {"a.yml": site_text().replace("city: testcity", "city: 12")})
    result = ccops("inventory", "validate", "-i", str(bad), "--output", "json")
    data = payload(result.stdout)
    assert result.returncode == 1 and data["ok"] is False
    assert data["problems"][0]["line"] == 4


def test_validate_and_list_the_example(ccops):
    result = ccops("inventory", "validate", "-i", str(EXAMPLE))
    assert result.returncode == 0 and "3 site(s), 3200 host(s), no problems" in result.stdout
    listed = ccops("inventory", "list", "-i", str(EXAMPLE), "--site", "njjy", "--role", "database_server")
    assert listed.returncode == 0
    rows = listed.stdout.strip().splitlines()
    assert rows[0].split()[:4] == ["HOST", "SITE", "ROLE", "OS"] and len(rows) == 21


def test_show_a_host_with_its_variables_and_source(ccops):
    result = ccops("inventory", "show", "shapd-aw0-t0007", "-i", str(EXAMPLE), "--output", "json")
    data = payload(result.stdout)
    assert data["vars"]["ccops_lifecycle"] == "retiring"
    # a Kerberos WinRM host is reached by its DNS name (the profile's dns_domain), not its address
    assert data["vars"]["ansible_host"] == "shapd-aw0-t0007.shapd.cc.example"
    # a constant template; the variable's name travels as data beside it
    assert data["vars"]["ansible_password"] == "{{ lookup('ansible.builtin.env', ccops_secret_password_env) }}"
    assert data["vars"]["ccops_secret_password_env"] == "CCOPS_SHAPD_WINRM_PASSWORD"
    lines = (EXAMPLE / "sites" / "shapd.yml").read_text().splitlines()
    assert data["defined_at"].endswith(f"shapd.yml:{lines.index('  shapd-aw0-t0007:') + 1}")
    assert "site_shapd" in data["groups"] and "os_win11" in data["groups"]


def test_unknown_host_is_one_line(ccops):
    result = ccops("inventory", "show", "nope", "-i", str(EXAMPLE))
    assert result.returncode == 64 and result.stderr.strip().count("\n") == 0 and "no host 'nope'" in result.stderr


def test_plan_markdown_and_json_describe_the_same_run(ccops):
    md = ccops("plan", "inspect", "-i", str(EXAMPLE), "--site", "shapd", "--output", "markdown")
    js = ccops("plan", "inspect", "-i", str(EXAMPLE), "--site", "shapd", "--output", "json")
    assert md.returncode == 0 and js.returncode == 0
    data = payload(js.stdout)
    assert data["verb"] == "inspect" and data["hosts"] == 1360  # every shapd host; the retiring seat is inspected too
    assert "| wave | batch | site | hosts | count |" in md.stdout
    assert "`playbooks/inspect.yml`" in md.stdout and "asset: inspect_windows.yml" in md.stdout
    assert sum(len(a["hosts"]) for a in data["actions"]) == data["hosts"]


def test_plan_refuses_an_unknown_verb_and_site(ccops):
    assert "unknown verb 'reboot'" in ccops("plan", "reboot", "-i", str(EXAMPLE)).stderr
    assert "unknown site 'xyz'" in ccops("plan", "inspect", "-i", str(EXAMPLE), "--site", "xyz").stderr


def test_offline_inventory_is_never_run_against(ccops):
    result = ccops("inspect", "-i", str(EXAMPLE), "--limit", "shapd-db0001")
    assert result.returncode != 0 and "offline: true" in result.stderr  # the code: tests/cli/test_exit_codes.py


def test_missing_default_inventory_is_explained(ccops, tmp_path):
    result = ccops("inventory", "validate", "-i", str(tmp_path / "nothing"))
    assert result.returncode == 1 and "no inventory here" in result.stderr


def test_runs_list_starts_empty_and_unknown_run_is_an_error(ccops):
    result = ccops("runs", "list", "--output", "json")
    assert result.returncode == 0 and payload(result.stdout) == []
    missing = ccops("runs", "show", "20990101")
    assert missing.returncode == 64 and "no run" in missing.stderr  # an unknown name, like every command's


def test_plan_patch_on_the_example_gives_windows_and_debian_their_own_tasks(ccops):
    result = ccops("plan", "patch", "-i", str(EXAMPLE), "--site", "njjy", "--output", "json")
    data = payload(result.stdout)
    assert result.returncode == 0
    assert [w["name"] for w in data["waves"]][:2] == ["canary", "wave 1 (10%)"]
    assert max(len(b["hosts"]) for w in data["waves"] for b in w["batches"]) == 50
    tasks = {a["os"]: [t["file"] for t in a["tasks"]] for a in data["actions"]}
    assert tasks["win10"][0] == "roles/precheck/tasks/check_windows.yml"
    assert tasks["debian13"][0] == "roles/precheck/tasks/check_debian.yml"
    # the retiring seat is inspected but never patched
    assert data["excluded"] == [{"reason": "lifecycle retiring", "hosts": ["njjy-aw0-t0007"]}]


def test_patch_needs_a_change_id_and_confirmation(ccops, tmp_path):
    missing = ccops("patch", "-i", str(EXAMPLE))
    assert missing.returncode == 64 and "--change-id" in missing.stderr
    online = online_example(tmp_path / "online")  # the offline example is refused before any prompt
    unconfirmed = ccops("patch", "-i", str(online), "--change-id", "CHG-1", "--site", "njjy")
    # 5 (refused) once patch_cmd asks through ccops.cli.confirm; its own _confirm still exits 1
    assert unconfirmed.returncode == 5 and "pass --yes" in unconfirmed.stderr


def test_resume_and_rollback_explain_what_is_missing(ccops, tmp_path):
    assert "no run 'nope'" in ccops("resume", "nope", "--yes").stderr
    online = online_example(tmp_path / "online")
    result = ccops("rollback", "shapd-db0001", "--to", "x", "-i", str(online), "--yes", "--change-id", "CHG-1")
    assert result.returncode == 64 and "no backup 'x' of shapd-db0001" in result.stderr


def test_every_markdown_plan_of_the_example_fits_a_pull_request_comment(ccops):
    """3,200 hosts, whatever the verb: under 20,000 characters, tables whole, batches folded."""
    from markdown_it import MarkdownIt

    from ccops.verbs import VERBS

    sizes = {}
    for name in VERBS:
        words = name.split("-") + (["softphone"] if name == "software-remove" else [])
        result = ccops("plan", *words, "-i", str(EXAMPLE), "-o", "markdown")
        if result.returncode != 0:  # a verb the example cannot plan (no built image): said in one line
            assert result.stderr.count("\n") == 1, (name, result.stderr)
            continue
        sizes[name] = len(result.stdout)
        tokens = MarkdownIt("commonmark").enable("table").parse(result.stdout)
        assert any(t.type == "table_open" for t in tokens), name
        assert "<details><summary>" in result.stdout and "</details>" in result.stdout, name
    assert {"inspect", "patch", "software-apply", "comply"} <= set(sizes)
    assert all(size < 20_000 for size in sizes.values()), sizes
