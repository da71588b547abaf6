"""ccops software stage: each selected site's distribution point gets the catalogue's artefacts, once.

The controller checks every artefact against the catalogue's sha256 (a corrupted
one is refused and never reaches a point), builds the site's signed repository,
then one run of the software-stage verb sends each point what it does not
already hold intact and verifies every file on arrival. What a point holds
verified is kept in the controller's state; software apply refuses to install
anything that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.errors import EXIT_HOSTS_FAILED, CcopsError, UsageError
from ccops.inventory.load import load_inventory
from ccops.inventory.select import Selector
from ccops.run.prepare import refuse_offline
from ccops.runner.progress import Progress
from ccops.software.catalogue import load_catalogue
from ccops.software.points import build_site_tree, ensure_key, load_staged, save_staged


@dataclass
class SiteStage:
    site: str
    point: str
    sent: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # before sending (catalogue checksum) or on arrival
    outcome: str = "not run"


@dataclass
class StageResult:
    run: Any  # RunResult
    sites: list[SiteStage]

    @property
    def exit_code(self) -> int:
        code: int = self.run.exit_code
        if code == 0 and any(s.refused for s in self.sites):
            return EXIT_HOSTS_FAILED
        return code

    def as_dict(self) -> dict[str, Any]:
        return {**self.run.as_dict(), "sites": [vars(s) for s in self.sites]}


def stage_sites(
    inventory_path: Path, sites: tuple[str, ...], change_id: str | None, progress: Progress | None = None
) -> StageResult:
    from ccops.run import RunRequest, run_verb

    inventory = load_inventory(inventory_path)
    refuse_offline(inventory)
    catalogue = load_catalogue(inventory.root)
    for code in sites:
        if code not in inventory.sites:
            raise UsageError(f"unknown site {code!r}; this inventory has: {', '.join(inventory.sites)}")
    chosen = list(sites) or [c for c, s in inventory.sites.items() if s.distribution_point.get("host")]
    points: dict[str, str] = {}
    for code in chosen:
        site = inventory.sites[code]
        host = site.distribution_point.get("host")
        if not host or not site.distribution_point.get("path") or host not in inventory.hosts:
            raise CcopsError(
                f"{site.file}: site {code} needs distribution_point.host (a host of the inventory) and .path to stage"
            )
        points[code] = host
    if not points:
        raise UsageError("no site of this inventory declares a distribution point")
    keys = ensure_key(inventory)
    trees = {code: build_site_tree(inventory, catalogue, code, keys) for code in points}
    request = RunRequest(
        inventory_path,
        "software-stage",
        Selector(limit=tuple(points.values())),
        change_id=change_id,
        options={
            "distribution_point_stage": {
                code: {"source": str(tree.root), "files": [list(f) for f in tree.files]} for code, tree in trees.items()
            }
        },
    )
    run = run_verb(request, progress)
    out = []
    for code, point in points.items():
        tree = trees[code]
        report = run.reports.get(point) or {}
        stage = SiteStage(code, point, refused=list(tree.refused))
        outcome = next((o for o in run.hosts if o.host == point), None)
        stage.outcome = outcome.outcome if outcome else "not run"
        if "sent" in report:
            stage.sent, stage.kept = list(report["sent"]), list(report["kept"])
            arrived_bad = list(report.get("refused") or [])
            stage.refused += [f"{rel}: sha256 differs on arrival; removed from the point" for rel in arrived_bad]
            verified = {rel: sha for rel, sha in tree.files if rel not in arrived_bad}
            save_staged(inventory, code, verified)
        elif load_staged(inventory, code):
            # an interrupted stage proves nothing new: what was verified before stays, the rest is checked next time
            pass
        out.append(stage)
    return StageResult(run, out)
