"""Why a win_powershell script failed (roles/backup/filter_plugins/script_error.py), on results
in the shape ansible.windows' win_powershell returns after a throw: failed, no msg, the error record."""

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("script_error", ROOT / "roles/backup/filter_plugins/script_error.py")
assert _spec and _spec.loader
se = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(se)

THROWN = {
    "failed": True,
    "changed": True,
    "output": [],
    "result": {},
    "host_out": "",
    "host_err": "",
    "error": [
        {
            "output": "tar.exe exited 1 (unreadable or locked files): x\r\n",
            "exception": {"message": "tar.exe exited 1 (unreadable or locked files): x", "type": "RuntimeException"},
            "category_info": {"category": "OperationStopped"},
        }
    ],
}


def test_a_thrown_error_is_read_from_the_error_record():
    assert se.ccops_win_script_error(THROWN) == "tar.exe exited 1 (unreadable or locked files): x"


def test_the_error_record_wins_over_the_generic_msg_ansible_adds():
    # Ansible gives a module that fails without a msg the msg "Module failed: Unknown error."
    failed = {**THROWN, "msg": "Task failed: Module failed: Unknown error."}
    assert se.ccops_win_script_error(failed) == "tar.exe exited 1 (unreadable or locked files): x"


def test_a_msg_is_the_reason_when_there_is_no_error_record():
    assert se.ccops_win_script_error({"failed": True, "msg": "Could not find or access 'x' on Windows host"}) == (
        "Could not find or access 'x' on Windows host"
    )


def test_a_result_without_a_reason_says_failed():
    assert se.ccops_win_script_error({"failed": True, "error": [{"exception": None}, "junk"]}) == "failed"
    assert se.ccops_win_script_error(None) == "failed"
