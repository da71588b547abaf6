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


RULES = {"required_one_of": [["argv", "cmd"]], "mutually_exclusive": [["argv", "cmd"]]}


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


def _ran() -> dict:
    """start, end, delta: the real module sets them once the program has run (never on a launch failure)."""
    return {"start": "2026-11-23 02:00:00.000000", "end": "2026-11-23 02:00:01.000000", "delta": "0:00:01.000000"}


def _dism_remove(argv, state):
    """dism /Online /Remove-Package /PackageName:NAME /Quiet /NoRestart: exit 3010 (removed,
    reboot to finish) unless the seat's model names another for that package."""
    names = [a.split(":", 1)[1] for a in argv if a.startswith("/PackageName:")]
    if len(names) != 1 or "/Remove-Package" not in argv or "/Online" not in argv:
        return 87, "Error: 87 The option is unknown."
    name = names[0]
    if name not in state["packages"]:
        return -2146498548, "Error: 0x800f080c Package is not installed"
    code = state.get("dism_exit", {}).get(name, 3010)
    if code in (0, 3010):
        state.setdefault("pending_removals", []).append(name)
        if code == 0:  # removed at once
            state["pending_removals"].remove(name)
            state["packages"].remove(name)
    return code, ""


def _shutdown(argv, state):
    """shutdown /s /t N schedules the power-off; /a cancels it (exit 1116: none was scheduled)."""
    if argv[1] == "/s":
        state["power_off_scheduled"] = True
        return 0
    return 0 if state.pop("power_off_scheduled", False) else 1116


def handle(params, state):
    argv = params["argv"]
    if argv is None:
        return "win_command", {"failed": True, "msg": "contract model: ccops runs win_command with argv only"}
    if argv[0].lower().endswith("\\dism.exe"):
        rc, out = _dism_remove(argv, state)
        result = {"changed": True, "rc": rc, "stdout": out, "stderr": "", "cmd": " ".join(argv), **_ran()}
        if rc != 0:
            result.update(failed=True, msg="non-zero return code")
        return "dism.remove", result
    if state.get("deepfreeze") and argv[0] == state["deepfreeze"]["dfc"]:
        rc, out = _dfc(argv, state, params)
    elif argv[0] in state.get("uninstallers", {}):  # an application's own uninstaller
        spec = state["uninstallers"][argv[0]]
        rc, out = spec.get("exit", 0), ""
        if rc in (0, 3010):
            state.get("programs", {}).pop(spec.get("product_id"), None)
            if spec.get("creates") in state.get("program_files", []):
                state["program_files"].remove(spec["creates"])
    elif argv[0].lower() == "shutdown.exe" and argv[1:2] in (["/s"], ["/a"]):
        rc, out = _shutdown(argv, state), ""
    else:
        rc = state.get("commands", {}).get(argv[0], 0)
        out = ""
        if rc == "missing":
            # the real module sets rc to the launch error's native code (2: file not found)
            return "win_command", {
                "failed": True,
                "changed": False,
                "rc": 2,
                "cmd": " ".join(argv),
                "msg": f"Failed to run: '{argv[0]}': Exception calling SearchPath: The system cannot find the file",
            }
    result = {"changed": True, "rc": rc, "stdout": out, "stderr": "", "cmd": " ".join(params["argv"]), **_ran()}
    if rc != 0:
        result.update(failed=True, msg="non-zero return code")
    return "win_command", result


if __name__ == "__main__":
    run("win_command", SPEC, handle, RULES)
