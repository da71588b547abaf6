"""Plans for people (text), pull requests (markdown) and pipelines (JSON)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ccops.inventory.model import Host
from ccops.inventory.ranges import compress
from ccops.plan.build import Plan, PlannedStep, inventory_label, waves_record
from ccops.runner.capacity import Estimate, duration, plan_estimate
from ccops.text.safe_text import markdown_cell, visible


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "verb": plan.verb.name,
        "inventory": inventory_label(plan.inventory),
        "inventory_sha256": plan.inventory.digest(),
        "selectors": plan.selector.as_dict(),
        "hosts": len(plan.hosts),
        "waves": waves_record(plan.waves),
        "actions": [
            {
                "os": a.os,
                "playbook": a.playbook,
                "tasks": [s.as_dict() for s in a.steps],
                "on_failure": [s.as_dict() for s in a.on_failure],
                "vars": a.vars,
                "hosts": a.hosts,
            }
            for a in plan.actions
        ],
        "excluded": {reason: [h.name for h in hosts] for reason, hosts in plan.excluded.items()},
        "estimate": plan_estimate(plan).as_dict(),
        **({"content": plan.content} if plan.content else {}),
        **({section: SECTIONS[section].details(plan)} if (section := plan.verb.plan_section) else {}),
        **_select_json(plan),
        **_night_json(plan),
    }


def _select_json(plan: Plan) -> dict[str, Any]:
    """A verb with a select pass (ccops.verbs.Preselect) says so: which hosts it asks, and what it does."""
    preselect = plan.verb.preselect
    if preselect is None:
        return {}
    # as ccops.run.preselect asks: the families it answers for, never a site run through its own node
    asked = [h.name for h in plan.hosts if h.os_family in preselect.families and not plan.inventory.sites[h.site].node]
    return {"select_pass": {"action": preselect.action, "hosts": asked, "says": preselect.note}}


def _select_line(plan: Plan) -> str:
    """'select pass first (6 hosts): ...', or '' for a verb without one."""
    data = _select_json(plan).get("select_pass")
    return f"select pass first ({len(data['hosts'])} host(s)): {data['says']}" if data else ""


def _night_json(plan: Plan) -> dict[str, Any]:
    """What decides the night (gates, windows, reboot, package source, offline) and the summary line."""
    from ccops.plan.night import night

    data = night(plan)
    for site in data["sites"].values():
        site.get("windows", {}).pop("site_time", None)  # the minute it was planned is no part of the plan
    return {"summary": data.pop("summary"), "night": data}


def _night_markdown(plan: Plan) -> list[str]:
    from ccops.plan.night import night, night_lines

    return ["", "**What decides the night:**", ""] + [f"- {markdown_cell(line)}" for line in night_lines(night(plan))]


def _night_text(plan: Plan) -> list[str]:
    from ccops.plan.night import night, night_lines

    return ["", "what decides the night:", *(f"  {line}" for line in night_lines(night(plan)))]


def _summary(plan: Plan) -> str:
    from ccops.plan.night import summary_line

    return summary_line(plan)


def _decommission(plan: Plan) -> dict[str, Any]:
    """Per host: what is revoked, wiped and removed (the reviewer approves exactly this)."""
    from ccops.decommission.guards import host_details

    return {h.name: host_details(plan.inventory, h) for h in plan.hosts}


def _decommission_text(details: dict[str, Any]) -> list[str]:
    out = ["", "per host (revoked, wiped, removed):"]
    for name, d in details.items():
        revoke = d["revoke"]
        out += [
            f"  {name}",
            f"    final backup: {', '.join(d['final_backup']) or 'package list only'}",
            f"    revoke: hooks {len(revoke['hooks'])}; accounts {', '.join(revoke['accounts']) or '-'}; "
            f"certificates {', '.join(revoke['certificates']) or '-'}"
            + ("; domain membership" if revoke["domain"] else "")
            + (f"; SSH keys of {revoke['ssh_keys_of']} (last)" if revoke["ssh_keys_of"] else ""),
            f"    wipe: {', '.join(d['wipe']['paths']) or 'no data path declared'} ({d['wipe']['method']})",
            f"    then: {d['end_state'].replace('_', ' ')}; inventory {d['inventory']}",
        ]
    return out


def _decommission_markdown(details: dict[str, Any]) -> list[str]:
    out = ["", "| host | revoked | wiped | then |", "|---|---|---|---|"]
    for name, d in details.items():
        revoke = d["revoke"]
        revoked = [*revoke["accounts"], *revoke["certificates"], f"{len(revoke['hooks'])} hook(s)"]
        revoked += ["domain"] if revoke["domain"] else [f"SSH keys of {revoke['ssh_keys_of']} (last)"]
        wiped = ", ".join(map(str, d["wipe"]["paths"])) or "-"
        out.append(_cells(name, ", ".join(map(str, revoked)), wiped, f"{d['end_state']}; retired in the inventory"))
    return out


@dataclass(frozen=True)
class PlanSection:
    """A section of the plan that one verb adds (Verb.plan_section): its data, and how text and markdown show it."""

    details: Callable[[Plan], dict[str, Any]]
    text: Callable[[dict[str, Any]], list[str]]
    markdown: Callable[[dict[str, Any]], list[str]]


SECTIONS = {"decommission": PlanSection(_decommission, _decommission_text, _decommission_markdown)}


def _content_rows(plan: Plan) -> list[list[str]]:
    """Per host, what a content verb (software) changes: app, action, from, to; 'nothing' when up to date."""
    rows = []
    for host, changes in (plan.content.get("software") or {}).items():
        if not changes:
            rows.append([host, "-", "nothing", "", ""])
        for c in changes:
            rows.append([host, c["app"], c["action"], c["from"] or "-", c["to"] or "-"])
    return rows


def _package_rows(plan: Plan) -> list[list[str]]:
    """Per host, the exact versions a patch from approved content installs: host, snapshot, package, from, to."""
    rows = []
    for host, entry in (plan.content.get("patch_content") or {}).items():
        if not entry["packages"]:
            rows.append([host, entry["snapshot"], "-", "nothing", ""])
        for p in entry["packages"]:
            rows.append([host, entry["snapshot"], p["package"], p["from"] or "(new)", p["to"]])
    return rows


def _snapshots(plan: Plan) -> dict[str, str]:
    return {e["snapshot"]: e["approved"] for e in (plan.content.get("patch_content") or {}).values()}


def _names(hosts: Sequence[str | Host], limit: int = 6) -> str:
    names = compress([h if isinstance(h, str) else h.name for h in hosts])
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit} more ranges)" if len(names) > limit else "")


def _vars(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "defaults"


def _steps(steps: list[PlannedStep]) -> str:
    return "; ".join(s.label() for s in steps)


def _cells(*values: object) -> str:
    """One markdown table row: every cell escaped, so a reported version or a group var is only text."""
    return "| " + " | ".join(markdown_cell(v) for v in values) + " |"


def _code(value: object) -> str:
    """A name ccops made (playbook, snapshot id, digest) as code; anything else as escaped text."""
    text = str(value)
    return f"`{text}`" if _PLAIN.fullmatch(text) else markdown_cell(text)


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,200}")


def _estimate_lines(estimate: Estimate) -> list[str]:
    """How long the run will take, per site, from the site's own past runs of the verb."""
    out = [f"estimate: {estimate.summary()}"]
    for site in estimate.sites:
        took = "no estimate" if site.seconds is None else f"about {duration(site.seconds)}"
        out.append(
            f"  {site.site:<8} {took:<16} {site.batches} batch(es), {site.hosts} host(s); {site.note(estimate.verb)}"
        )
    return out


# A pull-request comment stays far below the 65,536 characters a forge takes: per-host rows up to
# HOST_ROWS, then one row per distinct change with its hosts as ranges and a count; per-batch rows
# folded under the waves (the whole list is always in -o json).
HOST_ROWS = 50
FOLDED_ROWS = 100


def _waves_markdown(plan: Plan) -> list[str]:
    """One row a wave, then every batch folded in <details> (at most FOLDED_ROWS rows)."""
    out = ["", "| wave | batches | sites | hosts |", "|---|---|---|---|"]
    for wave in plan.waves:
        sites = ", ".join(dict.fromkeys(batch.site for batch in wave.batches))
        out.append(_cells(wave.name, len(wave.batches), sites, sum(len(b.hosts) for b in wave.batches)))
    batches = [(wave.name, i, batch) for wave in plan.waves for i, batch in enumerate(wave.batches, 1)]
    out += ["", f"<details><summary>{len(batches)} batches</summary>", ""]
    out += ["| wave | batch | site | hosts | count |", "|---|---|---|---|---|"]
    out += [_cells(name, i, b.site, _names(b.hosts), len(b.hosts)) for name, i, b in batches[:FOLDED_ROWS]]
    if len(batches) > FOLDED_ROWS:
        out += ["", f"and {len(batches) - FOLDED_ROWS} more batches (every one in `-o json`)"]
    return [*out, "", "</details>"]


def _host_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    """Per-host rows for a small plan; for a large one, one row per distinct change with its hosts and count."""
    rule = "|" + "---|" * len(header)
    if len(rows) <= HOST_ROWS:
        return ["", _cells(*header), rule, *(_cells(*row) for row in rows)]
    hosts_of: dict[tuple[str, ...], list[str]] = {}
    for host, *change in rows:
        hosts_of.setdefault(tuple(change), []).append(host)
    grouped = sorted(hosts_of.items(), key=lambda item: (item[0][1] == "nothing", -len(item[1])))
    out = ["", f"{len(rows)} rows for {len({r[0] for r in rows})} hosts, by change:", ""]
    out += [_cells("hosts", *header[1:], "count"), rule + "---|"]
    out += [_cells(_names(hosts), *change, len(hosts)) for change, hosts in grouped[:FOLDED_ROWS]]
    if len(grouped) > FOLDED_ROWS:
        out += ["", f"and {len(grouped) - FOLDED_ROWS} more distinct changes (every host in `-o json`)"]
    return out


def plan_markdown(plan: Plan) -> str:
    """The plan as a pull-request comment: site files and host records only ever fill escaped cells."""
    out = [
        f"### ccops plan: {_code(plan.verb.name)}",
        "",
        f"**{markdown_cell(_summary(plan))}**",
        "",
        f"Inventory {_code(inventory_label(plan.inventory))} (sha256 {_code(plan.inventory.digest()[:12])}).",
        *_waves_markdown(plan),
    ]
    if line := _select_line(plan):
        out += ["", f"**{markdown_cell(line)}**"]
    out += [
        "",
        "| hosts | OS | playbook | runs, in order (role: task file) | on failure "
        "| variables differing from defaults | count |",
        "|---|---|---|---|---|---|---|",
    ]
    for action in plan.actions:
        playbook = _code(action.playbook)
        out.append(
            f"| {markdown_cell(_names(action.hosts))} | {markdown_cell(action.os)} | {playbook} "
            f"| {markdown_cell(_steps(action.steps))} | {markdown_cell(_steps(action.on_failure) or '-')} "
            f"| {markdown_cell(_vars(action.vars))} | {len(action.hosts)} |"
        )
    estimate = plan_estimate(plan)
    out += ["", f"Estimate: {markdown_cell(estimate.summary())}", "", "| site | batches | hosts | estimate | basis |"]
    out.append("|---|---|---|---|---|")
    for site in estimate.sites:
        took = "-" if site.seconds is None else f"about {duration(site.seconds)}"
        out.append(_cells(site.site, site.batches, site.hosts, took, site.note(estimate.verb)))
    for refusal in plan.content.get("refusals") or []:
        out += ["", f"**Would be refused:** {markdown_cell(refusal)}"]
    if rows := _content_rows(plan):
        out += _host_rows(["host", "application", "action", "from", "to"], rows)
    if rows := _package_rows(plan):
        out += [""] + [f"Approved content {_code(sid)}: {markdown_cell(how)}" for sid, how in _snapshots(plan).items()]
        out += _host_rows(["host", "snapshot", "package", "from", "to"], rows)
    if plan.excluded:
        out += ["", "Not touched:", ""]
        out += [
            f"- {markdown_cell(f'{reason}: {_names(hosts)} ({len(hosts)})')}" for reason, hosts in plan.excluded.items()
        ]
    if section := plan.verb.plan_section:
        out += SECTIONS[section].markdown(SECTIONS[section].details(plan))
    out += _night_markdown(plan)
    out += ["", f"**{markdown_cell(_summary(plan))}**"]
    return "\n".join(out) + "\n"


def plan_text(plan: Plan) -> str:
    out = [
        f"plan: {plan.verb.name} on {len(plan.hosts)} hosts from {inventory_label(plan.inventory)}"
        f" (inventory sha256 {plan.inventory.digest()[:12]})",
        "",
    ]
    for wave in plan.waves:
        out.append(f"{wave.name}: {len(wave.hosts)} hosts in {len(wave.batches)} batch(es)")
        for i, batch in enumerate(wave.batches, 1):
            out.append(f"  batch {i:>3}  {batch.site:<8} {len(batch.hosts):>5}  {_names(batch.hosts, 4)}")
    if line := _select_line(plan):
        out += ["", line]
    out += ["", *_estimate_lines(plan_estimate(plan)), "", "what each host gets:"]
    for action in plan.actions:
        out.append(f"  {len(action.hosts):>5} x {action.os:<14} {action.playbook}")
        out.append(f"        hosts: {_names(action.hosts, 4)}")
        out.append(f"        runs:  {_steps(action.steps)}")
        if action.on_failure:
            out.append(f"        on failure: {_steps(action.on_failure)}")
        out.append(f"        vars:  {_vars(action.vars)}")
    out += [f"WOULD BE REFUSED: {refusal}" for refusal in plan.content.get("refusals") or []]
    if rows := _content_rows(plan):
        out += ["", "changes per host (from the asset records; 'unknown' where none says):"]
        out += [f"  {row[0]:<20} {row[1]:<20} {row[2]:<10} {row[3]} -> {row[4]}" for row in rows]
    if rows := _package_rows(plan):
        out += ["", *(f"approved content {sid}: {how}" for sid, how in _snapshots(plan).items())]
        out += ["package versions per host (from the snapshot, as each host needed them when it was taken):"]
        out += [f"  {row[0]:<20} {row[2]:<32} {row[3]} -> {row[4]}" for row in rows]
    for reason, hosts in plan.excluded.items():
        out.append(f"not touched ({reason}): {len(hosts)}  {_names(hosts, 4)}")
    if section := plan.verb.plan_section:
        out += SECTIONS[section].text(SECTIONS[section].details(plan))
    out += _night_text(plan)
    out += ["", _summary(plan)]
    return "\n".join(visible(line) for line in out)  # each entry one line, whatever a value held
