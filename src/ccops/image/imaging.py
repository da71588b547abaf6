"""One machine's way from network boot to a running system, phase by phase.

pxe: the machine asks the point for its boot script; download: the imager
starts and fetches the image; checksum: the image's sha256 is the manifest's;
write: the image and the seed are on the disk; first-boot: the machine comes
back from its own disk and sshd answers with its own, new host key. A phase
that does not end in time, or that the imager reports failed, ends the
machine's deployment there: it is never converged nor reported active.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ccops.image.point import PointServer
from ccops.runner.sshprobe import sshd_answers

# seconds each phase may take; generous, as the lab's machines run in software emulation
TIMEOUTS = {"pxe": 240.0, "download": 420.0, "checksum": 120.0, "write": 300.0, "first-boot": 240.0}


@dataclass
class ImagingResult:
    host: str
    ok: bool
    phase: str  # the phase reached (done: "first-boot"), or the one that failed
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        return {
            "outcome": "imaged" if self.ok else "failed",
            "phase": self.phase,
            "reason": self.message,
            "phase_seconds": self.seconds,
        }


def image_machine(point: PointServer, host: str, mac: str, address: str, port: int) -> ImagingResult:
    """Wait for the machine through every phase (the machine drives; ccops watches and judges)."""
    result = ImagingResult(host, False, "pxe")
    started = time.monotonic()
    steps = (
        ("pxe", ("pxe",), "no network boot request from {mac}"),
        ("download", ("checksum-ok", "checksum-failed"), "the imager did not fetch the image"),
        ("write", ("written",), "the image was not written"),
    )
    for phase, wanted, silence in steps:
        result.phase = phase
        timeout = TIMEOUTS[phase] + (TIMEOUTS["checksum"] if phase == "download" else 0)
        event = point.wait(mac, wanted, timeout)
        result.seconds[phase] = round(time.monotonic() - started, 1)
        if event is None:
            result.message = f"{silence.format(mac=mac)} within {timeout:.0f}s"
            return result
        if event.endswith("-failed"):
            failed = event.removesuffix("-failed")
            result.phase = {"seed": "write"}.get(failed, failed)
            result.message = f"the imager reported: {failed} failed" + (
                "; the machine was powered off with its disk untouched" if failed in ("download", "checksum") else ""
            )
            return result
        if phase == "download":
            result.phase = "checksum"
            result.seconds["checksum"] = result.seconds.pop("download")
    result.phase = "first-boot"
    deadline = time.monotonic() + TIMEOUTS["first-boot"]
    while not sshd_answers(address, port):
        if time.monotonic() > deadline:
            result.message = f"no SSH answer at {address}:{port} within {TIMEOUTS['first-boot']:.0f}s of the reboot"
            return result
        time.sleep(2)
    result.seconds["first-boot"] = round(time.monotonic() - started, 1)
    result.ok = True
    return result
