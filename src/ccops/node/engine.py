"""A batch through its site's node: transmit here | ssh node worker | process here.

Events come back into the run's collector (the same per-host judgement, progress, gates
and records as a direct run) and are written under runs/RUN/artifacts/IDENT as ansible-runner
writes them for a direct run; the worker's artifacts come back at the end and are scrubbed.

The node logs in to the hosts with the jump host's keys through the job's own connection:
a private ssh-agent per job holds the batch's keys, is forwarded to the node for that one
ssh session and stopped when the job ends or the controller dies (ccops.node.agent); no key
file is ever copied to a node.

A stream that ends without the job's final status (link drop) leaves the batch's hosts
``unknown``; the job goes on on the node and keeps a journal of its events, which
``ccops resume`` collects (ccops.node.recover).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccops.errors import EngineError, RefusedError
from ccops.inventory.model import Inventory
from ccops.node.agent import JobAgent
from ccops.node.job import stage_job
from ccops.node.prepare import CURRENT, check_node
from ccops.node.target import NodeTarget, node_target
from ccops.runner.engine import Batch, Execution, scrub_command_file

FINAL = ("successful", "failed", "canceled", "timeout")


def with_parent(argv: list[str]) -> list[str]:
    """``argv`` killed when the thread that starts it ends (setpriv --pdeathsig: Linux, util-linux).

    Ctrl-C does not reach the job's ssh (a session of its own: ccops cancels the job through the
    stream); a killed ccops takes its end of the stream with it. The node's job goes on over the
    connections it has open and keeps its journal for ccops resume. Not for a set-id program such
    as Debian's ssh-agent: exec-ing one clears the parent-death signal (see ccops.node.agent).
    """
    return ["setpriv", "--pdeathsig", "KILL", "--", *argv] if shutil.which("setpriv") else argv


def _changes_hosts(action: str) -> bool:
    from ccops.verbs import VERBS

    return any(v.locks_hosts for v in VERBS.values() if v.action == action)


def pending_dir(run_dir: Path) -> Path:
    return run_dir / "node-jobs"


class NodeEngine:
    """Runs a site's batches on its node (an Engine, see ccops.run.engine)."""

    def __init__(self, target: NodeTarget) -> None:
        self.target = target

    def run(self, batch: Batch, execution: Execution) -> str:
        from ansible_runner.streaming import Processor, Transmitter

        run_dir, collector = execution.run_dir, execution.collector
        state = check_node(self.target)  # a node on other versions is refused before any host is touched
        job_id = f"{batch.ident}-{secrets.token_hex(4)}"
        node_job = f"{state['jobs']}/{job_id}"
        (run_dir / f"limit-{batch.ident}").write_text("\n".join(batch.hosts) + "\n")
        staged = Path(tempfile.mkdtemp(prefix=f"stage-{batch.ident}-", dir=run_dir))
        try:
            job = stage_job(staged, batch.inventory, batch.hosts, node_job, state["site"])
            record = pending_dir(run_dir) / f"{batch.ident}.json"
            _write_pending(record, self.target, job_id, batch)
            agent = JobAgent(job.keys, run_dir, batch.ident)
            try:
                streamers = (Transmitter, Processor)
                status, lost = self._stream(execution, batch, job, job_id, agent, streamers)
            finally:
                agent.stop()
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        artifacts = run_dir / "artifacts" / batch.ident
        scrub_command_file(artifacts, execution.secret_env | job.secret_names)
        if lost:
            collector.lost = (
                f"the stream from {self.target.label()} was lost ({lost}); the job goes on there: "
                "ccops resume collects what it did"
            )
            return "lost"
        record.unlink(missing_ok=True)
        if collector.stats is None and status != "canceled":
            raise EngineError(
                f"{self.target.label()}: Ansible did not run the playbook ({status}) (artifacts: {artifacts})"
            )
        return status

    def _stream(
        self, execution: Execution, batch: Batch, job: Any, job_id: str, agent: JobAgent, streamers: tuple[Any, Any]
    ) -> tuple[str, str | None]:
        """Returns the job's last status and, when the stream ended before the job did, why."""
        transmitter, processor = streamers
        run_dir, collector = execution.run_dir, execution.collector
        argv = self.target.ssh_argv("python3", f"{CURRENT}/ccops_node.py", "run", job_id, forward_agent=True)
        stderr_path = run_dir / f"node-{batch.ident}.stderr"
        with stderr_path.open("wb") as stderr:
            try:
                ssh = subprocess.Popen(
                    with_parent(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                    env={**os.environ, "SSH_AUTH_SOCK": str(agent.socket)}, start_new_session=True,
                )  # fmt: skip
            except OSError as exc:
                raise EngineError(f"{self.target.label()}: could not start ssh: {exc.strerror or exc}") from None
            assert ssh.stdin is not None and ssh.stdout is not None  # noqa: S101 (both are pipes)
            statuses: list[str] = []
            # ssh may be gone already: then the processor below reads what came back and says why
            with contextlib.suppress(OSError):
                transmitter(
                    _output=ssh.stdin, private_data_dir=str(job.staged), playbook=batch.playbook,
                    inventory=job.inventory, extravars=batch.extravars, forks=batch.forks, ident=batch.ident,
                    envvars=job.envvars, suppress_env_files=True, quiet=True,
                ).run()  # fmt: skip
            watcher = threading.Thread(target=_cancel_when, args=(execution.cancelled, ssh), daemon=True)
            watcher.start()

            def status_handler(data: dict[str, Any], runner_config: Any = None) -> None:
                statuses.append(str(data.get("status")))

            proc = processor(
                _input=ssh.stdout, private_data_dir=str(run_dir), ident=batch.ident, quiet=True,
                event_handler=collector, status_handler=status_handler,
            )  # fmt: skip
            proc.run()
            _close(ssh)
        started = any(s in ("starting", "running") for s in statuses) or bool(collector.first_seen)
        final = next((s for s in reversed(statuses) if s in FINAL), None)
        if final is not None:
            return final, None
        why = _tail(stderr_path) or f"ssh exited {ssh.returncode}"
        if not started:
            raise EngineError(f"{self.target.label()}: the job did not start: {why}")
        return statuses[-1] if statuses else "lost", why


def _cancel_when(cancelled: Callable[[], bool], ssh: subprocess.Popen[bytes]) -> None:
    """Ctrl-C on the jump host cancels the job on the node (a lost stream does not)."""
    while ssh.poll() is None:
        if cancelled():
            try:
                assert ssh.stdin is not None  # noqa: S101
                ssh.stdin.write(b"cancel\n")
                ssh.stdin.flush()
            except (OSError, ValueError):
                pass
            return
        time.sleep(0.3)


def _close(ssh: subprocess.Popen[bytes]) -> None:
    if ssh.stdin is not None:
        with contextlib.suppress(OSError):
            ssh.stdin.close()
    try:
        ssh.wait(timeout=30)
    except subprocess.TimeoutExpired:
        ssh.kill()
        ssh.wait()


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _write_pending(record: Path, target: NodeTarget, job_id: str, batch: Batch) -> None:
    """What resume needs to ask the node about this job, written before the job starts."""
    record.parent.mkdir(parents=True, exist_ok=True)
    data = {"site": target.site, "node": target.name, "job": job_id, "ident": batch.ident, "hosts": batch.hosts}
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(record)


class SiteRouter:
    """The run's engine when sites have nodes: each batch goes to its site's node, or runs here."""

    def __init__(self, inventory: Inventory, direct: Any) -> None:
        self.inventory = inventory
        self.direct = direct
        self.nodes = {
            code: NodeEngine(target)
            for code, site in inventory.sites.items()
            if (target := node_target(inventory, site)) is not None
        }

    def engine_for(self, batch: Batch) -> Any:
        site = self.inventory.hosts[batch.hosts[0]].site if batch.hosts else None
        node = self.nodes.get(site or "")
        if node is None:
            return self.direct
        if node.target.name in batch.hosts and _changes_hosts(str(batch.extravars.get("ccops_action"))):
            # its own job would run on the machine it reboots or restores
            raise RefusedError(
                f"{node.target.name} is site {site}'s execution node: a changing run does not go through "
                "the node it changes; run it from the jump host with CCOPS_NODES=off"
            )
        return node

    def side_by_side(self, site: str) -> bool:
        """Sites with a node run their batches concurrently, each on its own node."""
        return site in self.nodes

    def run(self, batch: Batch, execution: Execution) -> str:
        status: str = self.engine_for(batch).run(batch, execution)
        return status
