# Contract-test stand-in for ansible.windows.win_command, and the programs it
# starts that ccops uses: Deep Freeze's DFC.exe (Faronics' command-line
# reference: get /ISFROZEN exits 1 frozen, 0 thawed; /THAWNEXTBOOT and
# /FREEZENEXTBOOT set the next boot; /BOOTTHAWED and /BOOTFROZEN restart at once
# and fail when the seat is already so), and the site's health and busy commands.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import reboot, run

SPEC = {
    "cmd": {"type": "str"},
    "argv": {"type": "list", "elements": "str"},
    "chdir": {"type": "path"},
    "creates": {"type": "path"},
    "removes": {"type": "path"},
    "stdin": {"type": "str"},
    "output_encoding_override": {"type": "str"},
}


def _dfc(argv, state, params):
    df = state["deepfreeze"]
    if argv[1:] == ["get", "/ISFROZEN"]:
        return 1 if df["frozen"] else 0, ""
    password, command = argv[1], argv[2]
    params["argv"] = [argv[0], "<password>" if password == df["password"] else "<wrong password>", command]
    if password != df["password"]:
        return 2, "invalid password"
    if command in ("/THAWNEXTBOOT", "/FREEZENEXTBOOT"):
        df["next_frozen"] = command == "/FREEZENEXTBOOT"
        return 0, ""
    want_frozen = command == "/BOOTFROZEN"
    if df["frozen"] == want_frozen:
        return 5, "already in that state"
    df["next_frozen"] = want_frozen
    reboot(state)  # DFC restarts the machine by itself
    return 0, ""


def handle(params, state):
    argv = params["argv"]
    if state.get("deepfreeze") and argv[0] == state["deepfreeze"]["dfc"]:
        rc, out = _dfc(argv, state, params)
    else:
        rc = state.get("commands", {}).get(argv[0], 0)
        out = ""
        if rc == "missing":
            return "win_command", {
                "failed": True,
                "changed": False,
                "msg": f"Exception calling SearchPath: {argv[0]} The system cannot find the file",
            }
    result = {"changed": True, "rc": rc, "stdout": out, "stderr": "", "cmd": " ".join(params["argv"])}
    if rc != 0:
        result.update(failed=True, msg="non-zero return code")
    return "win_command", result


if __name__ == "__main__":
    run("win_command", SPEC, handle)
