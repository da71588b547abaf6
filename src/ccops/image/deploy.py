"""ccops deploy: image machines over the network from their site's point, converge them, make them active.

An engine for the run loop (run/engine.py): waves, gates, locks, records and
interrupts stay the loop's. For one batch it serves the boot files from the
site's point on 127.0.0.1, watches every machine through its phases (at most
the site's limit at once), records the new host key each machine made at its
first boot, runs the deploy playbook (converge: host name, image stamp, asset
record) on the machines that came up, and moves those that converged from
planned to active in their site file. A machine that failed a phase is
reported failed with that phase and stays planned.

Resume (ccops resume RUN): each machine's imaging that ended well is kept in
the run's folder the moment it ends (imaged/HOST.json). A resumed attempt
converges those machines without imaging them again, leaves a machine the run
already made active alone but for its converge, and powers every other one
back into its network boot: a machine caught mid-imaging starts over.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError
from ccops.image.deploy_plan import MODES
from ccops.image.imaging import ImagingResult, image_machine
from ccops.image.point import Machine, PointServer, seed_tar
from ccops.image.power import power_on_into_netboot
from ccops.image.stage import check_staged, point_root
from ccops.inventory.model import Host, Inventory, Site
from ccops.inventory.writer import set_host_fields
from ccops.run.execute import approve_own_edit, open_store
from ccops.run.prepare import PreparedRun
from ccops.runner.engine import Batch, Execution, run_batch
from ccops.runner.events import EventCollector
from ccops.runner.hostkeys import _replace_entries, endpoint, known_name, scan

SERVE_FILE = "serve.json"  # {"port": N}: a point on this machine that ccops serves itself while it deploys
IMAGED_DIR = "imaged"  # in the run's folder: HOST.json for each machine whose imaging ended well
BACKUPS_DIR = "rebuild-backups"  # in the run's folder: HOST.json, the verified backup taken before imaging


@dataclass
class DeployEngine:
    prepared: PreparedRun
    manifest: dict[str, Any]
    converge_only: bool = False
    rebuild: bool = False  # active machines: a verified backup first, the declared paths restored after
    say: Callable[[str], None] = print
    imaging: dict[str, ImagingResult] = field(default_factory=dict)

    @property
    def inventory(self) -> Inventory:
        return self.prepared.inventory

    def run(self, batch: Batch, execution: Execution) -> str:
        run_dir, collector = execution.run_dir, execution.collector
        hosts = [self.inventory.hosts[name] for name in batch.hosts]
        backups: dict[str, Any] = {}
        if self.rebuild:  # no verified backup, no rebuild
            # an earlier attempt's backup is the one taken before imaging: the disk may be new by now
            backups = {h.name: b for h in hosts if (b := read_kept(run_dir, BACKUPS_DIR, h.name))}
            fresh = [h.name for h in hosts if h.name not in backups]
            if fresh:
                taken = self._backup(replace(batch, hosts=fresh), execution)
                for name, backup in taken.items():
                    write_kept(run_dir, BACKUPS_DIR, name, backup)
                backups.update(taken)
            hosts = [h for h in hosts if h.name in backups]
        if self.converge_only:
            ready = [h.name for h in hosts]
        else:
            kept = self._already_imaged(run_dir, hosts)
            ready = kept + self._image(run_dir, [h for h in hosts if h.name not in kept], collector)
        status = "failed"
        if ready:
            extravars = {**batch.extravars, "ccops_deploy_stage": "converge", "ccops_rebuild_backups": backups}
            converge = replace(batch, hosts=ready, extravars=extravars)
            status = run_batch(converge, execution)
        failed = [name for name in batch.hosts if name not in ready]
        if failed:
            stats = collector.stats or {}
            stats.setdefault("failures", {}).update(dict.fromkeys(failed, 1))
            collector.stats = stats
        for outcome in collector.outcomes(ready):
            if outcome.outcome != "ok":
                (run_dir / IMAGED_DIR / f"{outcome.host}.json").unlink(missing_ok=True)  # imaged again next time
            elif not (self.converge_only or self.rebuild):
                self._activate(outcome.host, str(batch.extravars.get("ccops_run_id") or ""))
        return status

    def _already_imaged(self, run_dir: Path, hosts: list[Host]) -> list[str]:
        """Machines an earlier attempt of this run imaged (or even made active): converged, not imaged again."""
        kept = []
        for host in hosts:
            if not self.converge_only and not self.rebuild and host.lifecycle == "active":
                kept.append(host.name)  # made active by a killed attempt: its edit was the run's one edit
                self.say(f"  {host.name}: already active (an earlier attempt of this run); converged only")
                continue
            imaged = read_kept(run_dir, IMAGED_DIR, host.name)
            if imaged and imaged.get("image") == self._image_fields():
                kept.append(host.name)
                self.say(f"  {host.name}: imaged by an earlier attempt of this run; converged, not imaged again")
        return kept

    def _backup(self, batch: Batch, execution: Execution) -> dict[str, Any]:
        """The verified before-backup of each machine (the deploy playbook's backup stage), by host."""
        collector = execution.collector
        stage = EventCollector(on_event=collector.on_event)
        extravars = {**batch.extravars, "ccops_deploy_stage": "backup"}
        run_batch(
            replace(batch, ident=f"{batch.ident}-backup", extravars=extravars), replace(execution, collector=stage)
        )
        backups = {}
        for outcome in stage.outcomes(batch.hosts):
            report = stage.reports.get(outcome.host) or {}
            if outcome.outcome == "ok" and report.get("outcome") == "backed_up" and report["backup"].get("verified"):
                backups[outcome.host] = report["backup"]
                self.say(f"  {outcome.host}: verified backup {report['backup']['id']}")
            else:
                why = outcome.message or "no verified backup"
                collector.errors[outcome.host] = f"backup: {why}; not rebuilt"
                collector.reports[outcome.host] = {"outcome": "failed", "phase": "backup", "reason": why}
        return backups

    def _image(self, run_dir: Path, hosts: list[Host], collector: EventCollector) -> list[str]:
        by_site: dict[str, list[Host]] = {}
        for host in hosts:
            by_site.setdefault(host.site, []).append(host)
        ready = []
        for code, members in by_site.items():
            site = self.inventory.sites[code]
            results = self._image_site(run_dir, site, members)
            for result in results:
                self.imaging[result.host] = result
                if result.ok:
                    ready.append(result.host)
                else:
                    collector.errors[result.host] = f"{result.phase}: {result.message}"
                    collector.reports[result.host] = {**result.report(), "image": self._image_fields()}
                self.say(
                    f"  {result.host}: {'imaged' if result.ok else 'FAILED at ' + result.phase} "
                    f"({', '.join(f'{k} {v:.0f}s' for k, v in result.seconds.items())})"
                )
        return ready

    def _image_site(self, run_dir: Path, site: Site, hosts: list[Host]) -> list[ImagingResult]:
        folder = check_staged(site, self.manifest)
        port = _serve_port(site)
        url = str(site.distribution_point.get("url") or "").rstrip("/")
        base = f"{url}/{folder.relative_to(point_root(site)).as_posix()}"
        point = PointServer(point_root(site), port)
        for host in hosts:
            point.expect(Machine(host.name, _mac(host), self._boot_script(url, base), seed_tar(self._seed(host))))
        limit = max(1, int(site.rollout.get("batch_size") or len(hosts)))
        lock = threading.Lock()

        def one(host: Host) -> ImagingResult:
            address, ssh_port = endpoint(host, self.inventory)
            powered = power_on_into_netboot(host)
            with lock:
                how = f"powered on: {powered}" if powered else "power it on now: it boots from the network"
                self.say(f"  {host.name}: waiting for its network boot (MAC {host.mac}; {how})")
            result = image_machine(point, host.name, _mac(host), address, ssh_port)
            if result.ok:
                with lock:  # one known_hosts file for all the machines
                    self._imaged(run_dir, host, result)
            return result

        with point, ThreadPoolExecutor(max_workers=min(limit, len(hosts))) as pool:
            return list(pool.map(one, hosts))

    def _imaged(self, run_dir: Path, host: Host, result: ImagingResult) -> None:
        """Kept at once, with the key it made: a controller killed from here on does not image it again."""
        self._record_host_key(host)
        write_kept(run_dir, IMAGED_DIR, host.name, {**result.report(), "image": self._image_fields()})

    def _boot_script(self, url: str, base: str) -> str:
        sha = self.manifest["artefacts"]["disk.raw.zst"]["sha256"]
        # the checksum comes from ccops's own build manifest, never from the copy on the point
        return (
            "#!ipxe\n"
            f"set ccops-point {url}\n"
            f"set ccops-image {base}/disk.raw.zst\n"
            f"set ccops-sha256 {sha}\n"
            f"chain {base}/boot.ipxe\n"
        )

    def _seed(self, host: Host) -> dict[str, bytes]:
        profile = self.inventory.sites[host.site].connections[host.connection]
        key_file = profile.get("key_file")
        if not key_file:
            raise CcopsError(f"{host.name}: its connection profile names no key_file; the image's admin needs a key")
        key = Path(key_file).expanduser()
        public = key.with_name(key.name + ".pub")
        text = public.read_text() if public.is_file() else _public_key(key)
        return {"authorized_keys": text.encode(), "hostname": f"{host.name}\n".encode()}

    def _record_host_key(self, host: Host) -> None:
        """The key the machine made at its first boot (it had none before: ccops just wrote its disk)."""
        address, port = endpoint(host, self.inventory)
        profile = self.inventory.sites[host.site].connections[host.connection]
        known = Path(profile.get("known_hosts") or "~/.ssh/known_hosts").expanduser()
        lines = scan(address, port)
        if not lines:
            raise CcopsError(f"{host.name}: answered SSH but presented no host key")
        known.parent.mkdir(parents=True, exist_ok=True)
        known.touch(exist_ok=True)
        _replace_entries(known, known_name(address, port), lines)

    def _activate(self, name: str, run_id: str) -> None:
        """planned -> active in the site file, once; this run's own edit, not one that should halt it."""
        if self.inventory.hosts[name].lifecycle == "active":
            return  # an earlier attempt of this run made the edit
        before = self.inventory.file_digests()
        path = set_host_fields(self.inventory, name, {"lifecycle": "active"})
        approve_own_edit(open_store(), run_id, self.prepared, before)
        self.say(f"  {name}: active in {path}")

    def _image_fields(self) -> dict[str, Any]:
        return {"name": self.manifest["name"], "version": self.manifest["version"]}


def engine_for(prepared: PreparedRun, say: Callable[[str], None]) -> DeployEngine:
    """The engine for a deploy request (a new run, or the resume of one): its image's current build,
    which must still be the version the run was approved with."""
    from ccops.image.build import cached_build
    from ccops.image.definition import load_image

    options = prepared.request.options
    name, version = str(options.get("ccops_image_name")), str(options.get("ccops_image_version"))
    mode = options.get("ccops_deploy_mode", "image")
    if mode not in MODES:
        raise CcopsError(f"deploy mode {mode!r} unknown; one of {', '.join(MODES)}")
    img = load_image(name)
    built = cached_build(img)
    if built is None or img.version != version or built.manifest.get("version") != version:
        raise CcopsError(
            f"the run deploys {name} {version}, whose build is not in the cache now "
            f"(ccops image build {name}, for version {version}); start a new deploy otherwise"
        )
    return DeployEngine(prepared, built.manifest, mode == "converge", mode == "rebuild", say=say)


def write_kept(run_dir: Path, kind: str, host: str, data: dict[str, Any]) -> None:
    """What a resume of the run must know about one host, whole or not at all (written aside, renamed)."""
    folder = run_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{host}.json.part"
    part.write_text(json.dumps(data, sort_keys=True) + "\n")
    part.replace(folder / f"{host}.json")


def read_kept(run_dir: Path, kind: str, host: str) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / kind / f"{host}.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mac(host: Host) -> str:
    if not host.mac:
        raise CcopsError(f"{host.source[0]}:{host.source[1]}: {host.name} has no mac: a new machine is known by it")
    return host.mac.replace(":", "-")


def _serve_port(site: Site) -> int:
    path = point_root(site) / SERVE_FILE
    try:
        return int(json.loads(path.read_text())["port"])
    except (OSError, ValueError, KeyError, TypeError):
        raise CcopsError(
            f"site {site.code}: no boot service for its point ({path} names the 127.0.0.1 port to serve on)"
        ) from None


def _public_key(key: Path) -> str:
    proc = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CcopsError(f"{key}: cannot read its public half (no {key.name}.pub beside it)")
    return proc.stdout
