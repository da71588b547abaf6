"""ccops's helper on an execution node (standard library only; `ccops node prepare` installs it).

The job itself is ansible-runner's: this helper only supervises `ansible-runner worker` so
that a job survives a lost stream with its results kept, and leaves no secret behind.

  install        (from the bundle prepare sent) install the wheels and collections, switch `current`
  preflight      what this node runs, after removing what killed jobs left (their secrets first)
  run JOB        one job: stdin -> worker -> stdout, a journal of its events, everything removed at the end
  collect JOB S  wait up to S seconds for a job whose stream was lost, print its journal, remove it

Every job lives in memory-backed private storage (/dev/shm or $XDG_RUNTIME_DIR, 0700):
JOB/pdd is the worker's private data (where ansible-runner writes its command file with
the job's environment), JOB/cp Ansible's ssh control sockets, JOB/tmp its local temp.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
JOB_ID = re.compile(r"[a-z0-9-]{1,40}")


def fail(message: str) -> None:
    print(json.dumps({"ccops_error": message}), flush=True)
    sys.exit(3)


def is_memory(path: str) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(f.split()[1] == path and f.split()[2] in ("tmpfs", "ramfs") for f in mounts if len(f.split()) > 2)


JOBS_FOLDER = re.compile(r"ccops-node-[A-Za-z0-9_-]{1,64}")


def jobs_folder_name() -> str:
    """ccops-node-<uid> on every node. CCOPS_NODE_JOBS_FOLDER may name another folder of that form in
    the same storage: the tests give each run its own, so two test runs never share (or wait on)
    one another's jobs. Anything else in it is refused, never turned into a path."""
    name = os.environ.get("CCOPS_NODE_JOBS_FOLDER") or f"ccops-node-{os.getuid()}"
    if not JOBS_FOLDER.fullmatch(name):
        fail(f"CCOPS_NODE_JOBS_FOLDER must match {JOBS_FOLDER.pattern}")
    return name


def jobs_root() -> Path:
    """A 0700 folder of ours on a memory-backed file system: secrets never reach a disk."""
    for base in ("/dev/shm", os.environ.get("XDG_RUNTIME_DIR") or ""):  # noqa: S108 (checked: tmpfs, 0700 folder of ours)
        if not base or not is_memory(base) or not os.access(base, os.W_OK):
            continue
        root = Path(base) / jobs_folder_name()
        with contextlib.suppress(FileExistsError):
            root.mkdir(mode=0o700)
        info = root.lstat()
        if root.is_symlink() or not root.is_dir() or info.st_uid != os.getuid():
            fail(f"{root} is not a folder of this user; remove it")
        root.chmod(0o700)
        return root
    fail("no memory-backed private storage on this node (/dev/shm or $XDG_RUNTIME_DIR as tmpfs)")
    raise SystemExit  # fail() exits; this line is for readers and type checkers


def versions() -> dict[str, Any]:
    sys.path.insert(0, str(SITE))
    python = ".".join(str(part) for part in sys.version_info[:3])
    out: dict[str, Any] = {"python": python, "helper": sha256(Path(__file__))}
    try:
        from importlib.metadata import version

        import ansible.release

        out["ansible_core"] = ansible.release.__version__
        out["ansible_runner"] = version("ansible-runner")
    except Exception as exc:  # a broken or missing install: the jump host says "prepare"
        out["error"] = f"{type(exc).__name__}: {exc}"
    collections: dict[str, str] = {}
    for manifest in sorted((SITE / "ansible_collections").glob("*/*/MANIFEST.json")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            info = json.loads(manifest.read_text())["collection_info"]
            collections[f"{info['namespace']}.{info['name']}"] = info["version"]
    out["collections"] = collections
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install() -> None:
    """Offline install from the bundle next to this file, then make it `current` atomically."""
    wheels = HERE / "wheels"
    pip = next(wheels.glob("pip-*.whl"))
    pins = json.loads((HERE / "pins.json").read_text())
    site = HERE / "site"
    subprocess.run(
        [sys.executable, f"{pip}/pip", "install", "--quiet", "--no-index", "--find-links", str(wheels),
         "--target", str(site), "--disable-pip-version-check", "--no-warn-script-location", *pins],
        check=True, stdout=sys.stderr,
    )  # fmt: skip
    subprocess.run(["tar", "-xzf", str(HERE / "collections.tar.gz"), "-C", str(site)], check=True)
    shutil.rmtree(wheels)
    (HERE / "collections.tar.gz").unlink()
    home = HERE.parent
    final = home / f"install-{int(time.time())}-{os.getpid()}"
    HERE.rename(final)
    link = home / "current.new"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(final.name)
    link.replace(home / "current")
    for old in home.glob("install-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    print(json.dumps({"installed": str(final)}), flush=True)


def proc_argv(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stop_job_processes(job: Path) -> int:
    """Kill every process of ours that works for this job (the worker, Ansible, its forks in their
    own sessions, ssh): each names the job's folder on its command line."""
    marker, stopped = f"{job}/", 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == os.getuid() and marker in proc_argv(entry.name):
                os.kill(int(entry.name), signal.SIGKILL)
                stopped += 1
    return stopped


def close_masters(folder: Path) -> None:
    if not folder.is_dir():
        return
    for sock in folder.iterdir():
        subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "ccops-node"],
                       capture_output=True, timeout=15, check=False)  # fmt: skip


def scrub(job: Path, done: dict[str, Any]) -> None:
    """What holds secrets or connections goes; the journal (events only) stays until collected."""
    close_masters(job / "cp")
    stop_job_processes(job)
    for name in ("pdd", "cp", "tmp"):
        shutil.rmtree(job / name, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (job / "stderr").unlink()
    write_private(job / "done.json", json.dumps(done))


def write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)


def alive(job: Path) -> bool:
    try:
        info = json.loads((job / "supervisor.json").read_text())
        stat = Path(f"/proc/{info['pid']}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, KeyError, IndexError):
        return False
    return stat[0] not in ("Z", "X") and stat[19] == info["started"]


def clean_dead_jobs(root: Path, days: float = 7) -> list[str]:
    """Jobs whose supervisor was killed: their secrets and processes go now. Old journals too."""
    found = []
    for job in sorted(root.iterdir()):
        if not job.is_dir() or job.is_symlink():
            continue
        if not (job / "done.json").exists() and not alive(job):
            scrub(job, {"status": "lost", "rc": None, "why": "its supervisor was killed"})
            found.append(job.name)
        elif (job / "done.json").exists() and time.time() - (job / "done.json").stat().st_mtime > days * 86400:
            shutil.rmtree(job, ignore_errors=True)
    return found


def preflight() -> None:
    root = jobs_root()
    print(json.dumps({**versions(), "jobs": str(root), "site": str(SITE), "cleaned": clean_dead_jobs(root)}))


def read_frame(stream: IO[bytes], line: bytes) -> bytes:
    """The payload that follows a {"zipfile": N} line: N bytes of zip, base64-encoded, no newline."""
    with contextlib.suppress(ValueError, AttributeError):
        size = json.loads(line).get("zipfile")
        if isinstance(size, int):
            return stream.read(4 * ((size + 2) // 3))
    return b""


class Supervisor:
    def __init__(self, job: Path) -> None:
        self.job = job
        self.lost = False
        self.status = "unstarted"
        self.worker: subprocess.Popen[bytes] | None = None

    def feed(self) -> None:
        """The job stream into the worker; after its eof line, "cancel" lines from the jump host."""
        if self.worker is None or self.worker.stdin is None:
            return
        source, sink = sys.stdin.buffer, self.worker.stdin
        try:
            while True:
                line = source.readline()
                if not line:  # the jump host went away before the job was whole
                    self.worker.send_signal(signal.SIGTERM)
                    return
                sink.write(line + read_frame(source, line))
                with contextlib.suppress(ValueError):
                    if "eof" in json.loads(line):
                        break
            sink.close()
        except OSError:
            return
        for line in source:  # EOF here: the stream is lost, the job goes on and keeps its journal
            if line.strip() == b"cancel":
                self.worker.send_signal(signal.SIGTERM)

    def run(self) -> int:
        env = {**os.environ, "PYTHONPATH": str(SITE), "PATH": f"{SITE / 'bin'}:{os.environ.get('PATH', '')}"}
        pdd = self.job / "pdd"
        # the worker's stderr is kept here, not on the ssh channel: a lost channel must not break it
        stderr = os.open(self.job / "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "ansible_runner", "worker", "--private-data-dir", str(pdd)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(stderr)
        threading.Thread(target=self.feed, daemon=True).start()
        out = self.worker.stdout
        if out is None:
            return 1
        fd = os.open(self.job / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "wb") as journal:
            for raw in iter(out.readline, b""):
                payload = read_frame(out, raw)
                self.send((raw if payload else self.record(journal, raw)) + payload)
        rc = self.worker.wait()
        if not self.lost:
            with contextlib.suppress(OSError):
                sys.stderr.write((self.job / "stderr").read_text(errors="replace")[-4000:])
        scrub(self.job, {"status": self.status, "rc": rc, "lost": self.lost})
        if not self.lost:
            shutil.rmtree(self.job, ignore_errors=True)
        return rc

    def record(self, journal: IO[bytes], line: bytes) -> bytes:
        """Journal events and statuses; a status loses the job's environment (it holds the secrets)."""
        try:
            data = json.loads(line)
        except ValueError:
            return line
        if "status" in data:
            self.status = data["status"]
            data.pop("env", None)
            line = json.dumps(data).encode() + b"\n"
        if "eof" not in data and data.get("event") != "keepalive":
            journal.write(line)
            journal.flush()
        return line

    def send(self, data: bytes) -> None:
        if self.lost:
            return
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except OSError:
            self.lost = True


def run(job_id: str) -> None:
    if not JOB_ID.fullmatch(job_id):
        fail(f"bad job id {job_id!r}")
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the jump host's connection may drop; the job goes on
    job = jobs_root() / job_id
    job.mkdir(mode=0o700)
    for name in ("pdd", "cp", "tmp"):
        (job / name).mkdir(mode=0o700)
    started = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19]
    write_private(job / "supervisor.json", json.dumps({"pid": os.getpid(), "started": started}))
    sys.exit(Supervisor(job).run())


def collect(job_id: str, timeout: float) -> None:
    if not JOB_ID.fullmatch(job_id):
        fail(f"bad job id {job_id!r}")
    root = jobs_root()
    job = root / job_id
    deadline = time.monotonic() + timeout
    while job.is_dir() and not (job / "done.json").exists() and alive(job) and time.monotonic() < deadline:
        time.sleep(1)
    if not job.is_dir():
        print(json.dumps({"ccops_done": {"status": "gone"}}), flush=True)
        return
    if not (job / "done.json").exists():
        reason = "still running after the wait; stopped" if alive(job) else "its supervisor was killed"
        scrub(job, {"status": "lost", "rc": None, "why": reason})
    with contextlib.suppress(OSError), (job / "journal.jsonl").open("rb") as journal:
        shutil.copyfileobj(journal, sys.stdout.buffer)
    sys.stdout.buffer.write(json.dumps({"ccops_done": json.loads((job / "done.json").read_text())}).encode() + b"\n")
    sys.stdout.buffer.flush()
    shutil.rmtree(job, ignore_errors=True)


def main() -> None:
    os.umask(0o077)
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "install":
        install()
    elif command == "preflight":
        preflight()
    elif command == "run" and len(args) == 1:
        run(args[0])
    elif command == "collect" and len(args) == 2:
        collect(args[0], float(args[1]))
    else:
        fail(f"usage: {Path(__file__).name} install | preflight | run JOB | collect JOB SECONDS")


if __name__ == "__main__":
    main()
