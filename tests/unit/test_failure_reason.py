"""Why a task failed (roles/ccops/filter_plugins/failure_reason.py, shared by every role), on results
in the shapes the modules return: win_powershell after a throw (failed, no msg, the error record),
a module's msg, a command's stderr, a failed loop."""

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("failure_reason", ROOT / "roles/ccops/filter_plugins/failure_reason.py")
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


def test_a_command_that_says_why_on_stderr_gives_its_first_line():
    failed = {"failed": True, "rc": 100, "stdout": "", "stderr": "\nE: Unable to locate package x\nmore"}
    assert se.ccops_win_script_error(failed) == "E: Unable to locate package x"
    failed["msg"] = "non-zero return code"
    assert se.ccops_win_script_error(failed) == "non-zero return code: E: Unable to locate package x"


def test_a_failed_loop_gives_its_first_failed_items_reason_not_ansibles_summary():
    loop = {
        "failed": True,
        "msg": "One or more items failed",
        "results": [{"failed": False, "item": "a"}, {**THROWN, "item": "b"}, {"failed": True, "msg": "later"}],
    }
    assert se.ccops_win_script_error(loop) == "tar.exe exited 1 (unreadable or locked files): x"


def test_a_long_reason_from_the_host_is_cut_to_one_report_line():
    assert len(se.ccops_win_script_error({"failed": True, "msg": "x" * 5000})) == se.LIMIT
