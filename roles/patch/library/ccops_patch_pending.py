#!/usr/bin/python3
"""ccops_patch_pending: whether a Debian host has anything to install, in one call (ccops patch).

Runs first, before any pre-check or backup: a host with nothing to install is recognised here and
ends its patch without a change. It says ``nothing_to_do`` only when sure: no interrupted patch to
finish, package lists it can trust (an approved snapshot already named by the host's snapshot
source with its lists in place, since a snapshot never changes; else lists younger than
``max_age``, refreshed when older), and a simulation that selects nothing under the allow and
deny lists. Anything else sends the host down the full patch, which decides the same again.
"""
import os
import re
import subprocess
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ccops_patch_pending
short_description: Say whether a Debian host has anything to install, before any backup
options:
  allow: {type: list, elements: str, default: []}
  deny: {type: list, elements: str, default: []}
  marker: {type: path, required: true}
  snapshot_source: {type: path, default: ""}
  snapshot_uri: {type: str, default: ""}
  suite: {type: str, default: ""}
  empty_dir: {type: path, default: ""}
  max_age: {type: int, default: 3600}
  stamp: {type: path, default: /var/lib/ccops/apt-lists-refreshed}
"""

LISTS = "/var/lib/apt/lists"
INST = re.compile(r"^Inst (\S+)", re.MULTILINE)
# apt names a source's list files after its URI: these characters %-quoted, then "/" as "_"
APT_QUOTED = set('\\|{}[]<>"^~_=!@#$%&*')


def run(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"), check=False)
    except OSError:
        return 127, ""
    return done.returncode, done.stdout


def list_prefix(uri, suite):
    bare = uri.split("://", 1)[-1].rstrip("/")
    quoted = "".join("%%%02x" % ord(c) if c in APT_QUOTED else c for c in bare)
    return quoted.replace("/", "_") + "_dists_" + suite + "_"


def snapshot_in_place(params):
    """The apt options that read the approved snapshot alone, when the host already has it; else None."""
    try:
        with open(params["snapshot_source"], encoding="utf-8") as handle:
            lines = {line.strip() for line in handle}
    except OSError:
        return None
    if "URIs: " + params["snapshot_uri"] not in lines or "Suites: " + params["suite"] not in lines:
        return None
    prefix = list_prefix(params["snapshot_uri"], params["suite"])
    try:
        lists = os.listdir(LISTS)
    except OSError:
        return None
    if not os.path.isdir(params["empty_dir"]) or not any(n.startswith(prefix) and "Packages" in n for n in lists):
        return None
    return ["-o", "Dir::Etc::sourcelist=" + params["snapshot_source"],
            "-o", "Dir::Etc::sourceparts=" + params["empty_dir"]]


def lists_fresh(stamp, max_age):
    """The host's configured sources' lists, refreshed when older than max_age; False when that failed."""
    try:
        if 0 <= time.time() - os.stat(stamp).st_mtime < max_age:
            return True
    except OSError:
        pass
    if run(["apt-get", "update", "-qq"])[0] != 0:
        return False
    os.makedirs(os.path.dirname(stamp), mode=0o755, exist_ok=True)
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(datetime.now(timezone.utc).isoformat() + "\n")
    return True


def decide(params):
    if os.path.exists(params["marker"]):
        return {"nothing_to_do": False, "reason": "an interrupted patch is to be finished"}
    if params["snapshot_source"]:
        options = snapshot_in_place(params)
        if options is None:
            return {"nothing_to_do": False, "reason": "the approved snapshot is not in place yet"}
        source = "the approved snapshot"
    else:
        if not lists_fresh(params["stamp"], params["max_age"]):
            return {"nothing_to_do": False, "reason": "the package lists could not be refreshed"}
        options, source = [], "the configured sources"
    rc, out = run(["apt-get", "-s", "-o", "Debug::NoLocking=1", *options, "dist-upgrade"])
    if rc != 0:
        return {"nothing_to_do": False, "reason": "the update simulation failed"}
    offered = INST.findall(out)
    selected = [n for n in offered if (not params["allow"] or n in params["allow"]) and n not in params["deny"]]
    if selected:
        return {"nothing_to_do": False, "reason": "%d update(s) to install" % len(selected), "pending": selected}
    return {"nothing_to_do": True, "pending": [],
            "reason": "nothing to install: no selected update pending from %s" % source}


def main():
    module = AnsibleModule(
        argument_spec={
            "allow": {"type": "list", "elements": "str", "default": []},
            "deny": {"type": "list", "elements": "str", "default": []},
            "marker": {"type": "path", "required": True},
            "snapshot_source": {"type": "path", "default": ""},
            "snapshot_uri": {"type": "str", "default": ""},
            "suite": {"type": "str", "default": ""},
            "empty_dir": {"type": "path", "default": ""},
            "max_age": {"type": "int", "default": 3600},
            "stamp": {"type": "path", "default": "/var/lib/ccops/apt-lists-refreshed"},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **decide(module.params))


if __name__ == "__main__":
    main()
