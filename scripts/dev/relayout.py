#!/usr/bin/env python3
"""Move the flat modules of src/ccops into packages by family, and rewrite every reference to them.

Run from the repository root on a clean tree: ``python3 scripts/dev/relayout.py``; then review
``git diff --stat`` and commit. It is idempotent (a second run changes nothing) and works by the module
map below, not by a file list, so files added after it was written are rewritten too. It leaves no shim
modules: an old module path that still exists after the move is an error.

What it rewrites, in every tracked text file (src/, tests/, benchmarks/, docs/, roles/, playbooks/,
scripts/, pyproject.toml, setup.py, MANIFEST.in, mkdocs.yml, ...):
- dotted paths ``ccops.OLD`` (imports, ``import ccops.OLD as y``, lazy-import strings such as
  ``"ccops.OLD:attr"``, monkeypatch targets ``"ccops.OLD.name"``, mypy/ruff module settings);
- ``from ccops import OLD`` (kept under its old local name when the file name changes);
- file paths ``src/ccops/OLD.py`` and ``ccops/OLD.py``, and bare ``OLD.py`` (written package-relative,
  as the docs name modules: ``store/records.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# old flat module -> new dotted path under ccops (the families: docs/development/architecture.md)
MOVES: dict[str, str] = {
    # the record store: one store, once spelt with three prefixes
    "records": "store.records",
    "record_chain": "store.chain",
    "record_parts": "store.parts",
    "record_rows": "store.rows",
    "store_db": "store.db",
    "store_ops": "store.ops",
    "store_spool": "store.spool",
    "asset_history": "store.asset_history",
    # what a run would do, before it runs
    "plan": "plan.build",
    "plan_night": "plan.night",
    "plan_render": "plan.render",
    "gates": "plan.gates",
    "maintenance": "plan.maintenance",
    # what the records say, for people
    "report": "report.morning",
    "report_html": "report.html",
    "report_svg": "report.svg",
    "report_trends": "report.trends",
    "risks": "report.risks",
    "reverted": "report.reverted",
    "asset_diff": "report.asset_diff",
    "junit": "report.junit",
    "backups": "report.backups",
    # leaving service
    "decommission": "decommission.guards",
    "certificate": "decommission.certificate",
    # output made safe for each sink
    "safe_text": "text.safe_text",
    "strict_json": "text.strict_json",
    "output_file": "text.output_file",
    "templating": "text.templating",
    # what a site declares, resolved per host
    "compliance": "inventory.compliance",
    "firewall": "inventory.firewall",
    "select": "inventory.select",
    "offline": "inventory.offline",
    # running ansible-playbook and talking SSH
    "capacity": "runner.capacity",
    "hostkeys": "runner.hostkeys",
    # the check that a run still matches its saved plan (locks.py stays flat: run/__init__ loads
    # execute, and notify/outbox.py takes a lock, so a lock in run/ would tie notify to run at import)
    "saved_plan": "run.saved_plan",
}

NEW_PACKAGES: dict[str, str] = {
    "store": "The record store: runs, host results and asset versions in SQLite, hash-chained, spooled.",
    "plan": "What a run would do, where and when, computed without touching any host.",
    "report": "What the records say, for people: the morning report, risks, reverted patches, diffs.",
    "decommission": "Leaving service: the guards, what a plan shows, the certificate a host leaves.",
    "text": "Output made inert and strict for every sink, and the files it is written to.",
}

SKIP_SUFFIXES = {".png", ".jpg", ".gz", ".xz", ".zst", ".img", ".iso", ".sqlite", ".db", ".whl", ".ico"}
SELF = Path(__file__).resolve()


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def move_modules(src: Path) -> list[str]:
    """git mv each flat module to its family; already moved ones are left alone."""
    moved = []
    for old, new in MOVES.items():
        before = src / f"{old}.py"
        after = src / (new.replace(".", "/") + ".py")
        if not before.exists():
            continue
        if after.exists():
            sys.exit(f"relayout: both {before} and {after} exist; merge them by hand first")
        package = after.parent
        if not package.exists():
            package.mkdir(parents=True)
        init = package / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{NEW_PACKAGES.get(package.name, package.name)}"""\n')
            git("add", str(init))
        git("mv", str(before), str(after))
        moved.append(f"{old} -> {new}")
    return moved


def _subpackage_names(new: str) -> list[str]:
    """Submodules of the package an old module's name now names (plan -> build, night, render...)."""
    package = new.partition(".")[0]
    return sorted({n.partition(".")[2] for n in MOVES.values() if n.partition(".")[0] == package})


def rules() -> list[tuple[re.Pattern[str], str]]:
    out: list[tuple[re.Pattern[str], str]] = []
    for old, new in sorted(MOVES.items(), key=lambda kv: -len(kv[0])):
        guard = ""
        if old in {n.partition(".")[0] for n in MOVES.values()}:
            # ccops.plan.build and "from ccops.plan import build" are already new: a second run leaves them
            subs = "|".join(map(re.escape, _subpackage_names(new)))
            guard = rf"(?!\.(?:{subs})\b|\s+import\s+(?:{subs})\b)"
        out.append((re.compile(rf"(?<![\w.])ccops\.{re.escape(old)}\b{guard}"), f"ccops.{new}"))
        rel = new.replace(".", "/") + ".py"
        out.append((re.compile(rf"(?<![\w/.-])((?:src/)?ccops/){re.escape(old)}\.py\b"), rf"\g<1>{rel}"))
        out.append((re.compile(rf"(?<![\w/.-]){re.escape(old)}\.py\b"), rel))
    return out


FROM_CCOPS = re.compile(r"^(?P<indent>[ \t]*)from ccops import (?P<names>[^\n(]+?)(?P<comment>[ \t]*#[^\n]*)?$", re.M)


def _split_from_ccops(match: re.Match[str]) -> str:
    """from ccops import records, __version__ -> one line per new package, old local names kept."""
    names = [n.strip() for n in match.group("names").split(",") if n.strip()]
    if not any(n.split(" as ")[0].strip() in MOVES for n in names):
        return match.group(0)
    lines: list[str] = []
    keep: list[str] = []
    for name in names:
        real, _, alias = (p.strip() for p in name.partition(" as "))
        if real not in MOVES:
            keep.append(name)
            continue
        package, _, module = MOVES[real].rpartition(".")
        local = alias or real
        suffix = "" if local == module else f" as {local}"
        lines.append(f"from ccops.{package} import {module}{suffix}")
    if keep:
        lines.insert(0, "from ccops import " + ", ".join(keep))
    indent = match.group("indent")
    text = "\n".join(indent + line for line in lines)
    return text + (match.group("comment") or "")


def rewrite(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return FROM_CCOPS.sub(_split_from_ccops, text)


def rewrite_tree(root: Path) -> list[str]:
    patterns = rules()
    changed = []
    for name in git("ls-files", "-z").split("\0"):
        path = root / name
        if not name or path.resolve() == SELF or path.suffix in SKIP_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite(text, patterns)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(name)
    return changed


def tidy(root: Path, changed: list[str]) -> None:
    """Sort the rewritten imports and re-wrap longer lines the project's way (ruff), when ruff is at hand."""
    ruff = root / ".venv" / "bin" / "ruff"
    python = [name for name in changed if name.endswith(".py")]
    if not python or not ruff.exists():
        return
    subprocess.run([str(ruff), "check", "--select", "I", "--fix", "--quiet", "--", *python], check=False)
    subprocess.run([str(ruff), "format", "--quiet", "--", *python], check=False)


def leftovers(src: Path) -> list[str]:
    return [str(src / f"{old}.py") for old in MOVES if (src / f"{old}.py").exists()]


def main() -> int:
    root = Path(git("rev-parse", "--show-toplevel").strip())
    src = root / "src" / "ccops"
    os.chdir(root)
    moved = move_modules(src)
    changed = rewrite_tree(root)
    tidy(root, changed)
    git("add", "-u")
    left = leftovers(src)
    if left:
        print("relayout: old modules still present (no shims allowed): " + ", ".join(left), file=sys.stderr)
        return 1
    print(f"relayout: {len(moved)} modules moved, {len(changed)} files rewritten")
    for line in moved:
        print("  moved", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
