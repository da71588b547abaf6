"""Where a report, JUnit or JSON file named on the command line is written, and how.

- ``-`` is standard output.
- A regular file (or a new name) is written whole or not at all: a temporary file
  beside it, then renamed over the name. A symlink to a regular file is replaced,
  not written through: ccops never follows a link to write a file somewhere else
  (a link planted in a shared folder cannot point a root run at a system file).
- Anything else that exists (a pipe, a character device such as a terminal, a
  symlink to one; never a disk) is written as a stream and never replaced: renaming over
  ``/dev/stdout`` as root would swap the machine's own device for a file.
- A folder, a missing folder or a refused write is one line naming the path.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from ccops.errors import CcopsError, UsageError

STDOUT = "-"


def check_target(target: str | Path, option: str) -> None:
    """Refuse before any work a target that can never be written: a folder, or a name in a missing folder."""
    if str(target) == STDOUT:
        return
    text = str(target)
    path = Path(target)
    if not text:
        raise UsageError(f"{option} is empty; give a file name or -")
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    if text.endswith(("/", os.sep)):  # Path() drops the slash: "report/" would become a file named report
        raise UsageError(f"{option} {text}: names a folder that does not exist; give a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise UsageError(f"{option} {path}: {path.parent} is not a folder")
    if not path.parent.is_dir():
        raise UsageError(f"{option} {path}: no such folder {path.parent}; create it first")


def write_output(target: str | Path, text: str, option: str = "--output") -> None:
    data = text.encode("utf-8", "backslashreplace")  # a stray surrogate is shown, never a crash
    if str(target) == STDOUT:
        _write_stdout(data, option)
        return
    path = Path(target)
    check_target(path, option)
    try:
        mode = path.stat().st_mode  # follows symlinks: what the name leads to decides
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise CcopsError(f"{option} {path}: cannot write ({exc.strerror})") from None
    if mode is None or stat.S_ISREG(mode):
        _replace(path, data, option)
    elif stat.S_ISBLK(mode):  # a disk: a report written onto it would destroy what it holds
        raise UsageError(f"{option} {path}: is a block device (a disk); give a file, a pipe or -")
    else:
        _write_stream(path, data, option)


def _replace(path: Path, data: bytes, option: str) -> None:
    """Whole or not at all: a temporary file in the same folder, synced, then renamed over the target."""
    try:
        old = path.lstat()
        mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else None
    except OSError:
        mode = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        temporary = Path(name)
    except OSError as exc:
        raise CcopsError(f"{option} {path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            temporary.chmod(mode)  # the file keeps the permissions it had
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise CcopsError(f"{option} {path}: cannot write ({exc.strerror})") from None


def _write_stream(path: Path, data: bytes, option: str) -> None:
    try:
        # no O_CREAT, no O_TRUNC: it exists and is not a file; O_NOCTTY: a terminal never becomes ours
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    except OSError as exc:
        raise CcopsError(f"{option} {path}: cannot write ({exc.strerror})") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:  # the reader went away, a full device
        raise CcopsError(f"{option} {path}: cannot write ({exc.strerror})") from None
    finally:
        os.close(fd)


def _write_stdout(data: bytes, option: str) -> None:
    sys.stdout.flush()
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as exc:
        raise CcopsError(f"{option} -: cannot write to standard output ({exc.strerror})") from None


class LineStream:
    """A file written as things happen (an event stream), by the same rules as write_output: ``-`` is
    standard output; a pipe or terminal is written through, never replaced; a regular file (or a
    symlink to one, which is replaced, never followed) becomes a new file at once, then grows line by
    line, so a reader following it sees each line as it is written."""

    def __init__(self, target: str | Path, option: str) -> None:
        self.target, self.option = str(target), option
        self.fd: int | None = None

    def open(self) -> None:
        """Once: several runs of one command (a snapshot per site) share the stream."""
        if self.target == STDOUT or self.fd is not None:
            return
        path = Path(self.target)
        check_target(path, self.option)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise CcopsError(f"{self.option} {path}: cannot write ({exc.strerror})") from None
        try:
            if mode is None or stat.S_ISREG(mode):
                fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                if mode is not None and not path.is_symlink():
                    Path(name).chmod(stat.S_IMODE(mode))  # the file keeps the permissions it had
                Path(name).replace(path)
                self.fd = fd
            elif stat.S_ISBLK(mode):
                raise UsageError(f"{self.option} {path}: is a block device (a disk); give a file, a pipe or -")
            else:
                self.fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        except OSError as exc:
            raise CcopsError(f"{self.option} {path}: cannot write ({exc.strerror})") from None

    def write(self, text: str) -> None:
        """Write and flush now; OSError (the reader went away, a full disk) is the caller's to judge."""
        data = text.encode("utf-8", "backslashreplace")
        if self.target == STDOUT:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        if self.fd is None:
            self.open()
        assert self.fd is not None  # noqa: S101 (open() set it or raised)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
